"""Self-hostable service for a 3PL warehouse's fulfilment customers."""

__version__ = "0.1.0"
