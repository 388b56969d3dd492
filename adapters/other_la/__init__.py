"""Bridge between LA hubs for cross-border exchanges (issue 5)."""
