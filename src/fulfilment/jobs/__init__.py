"""One engine for the work done in the background: webhook deliveries, mails and periodic
jobs (engine.py), each kind a handler."""
