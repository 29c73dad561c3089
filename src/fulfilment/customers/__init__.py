"""Fulfilment customers: the merchants whose stock the warehouse stores and ships."""
