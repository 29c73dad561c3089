"""Staff users of an account: the warehouse's people who use the back office, their second
factor (TOTP with recovery codes), and the read-only users API."""
