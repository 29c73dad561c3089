"""The back office: server-rendered pages where the warehouse's staff log in (with an
optional second factor) and manage their fulfilment customers, in Dutch or English."""
