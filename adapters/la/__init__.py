"""The LA's CME desk: the case register and the statutory workflow (an endpoint of the hub)."""
