"""Reference data the customer fields point at: warehouses, templates, shipping providers."""
