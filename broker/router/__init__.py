"""The hub's router: verify, check agreements, record, route (DESIGN.md sections 4 and 5)."""
