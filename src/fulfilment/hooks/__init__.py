"""Webhooks: integrators subscribe to events, which are recorded with each change (the
outbox) and delivered by a worker that every instance runs."""
