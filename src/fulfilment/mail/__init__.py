"""Outgoing mail: the outbox, sending through SMTP, one-time links, and the messages."""
