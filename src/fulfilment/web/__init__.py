"""What the portal and the back office share: signed session cookies and form tokens, the
login throttle, the catalogues and their Jinja environments, forms, security headers and
the errors a page tells its visitor."""
