"""The fulfilment portal: server-rendered pages where a fulfilment customer logs in, sees what
the warehouse set up for it and changes its password, in Dutch or English."""
