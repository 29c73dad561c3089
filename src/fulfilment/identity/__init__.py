"""Everyone who logs in: portal customers and staff users are two kinds of one person, with
one set of rules for passwords, throttles, sessions, second factors, mailed links and
their audit entries. The portal and the back office keep their own pages and words."""
