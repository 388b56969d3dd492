"""The end-to-end demo: two LA hubs, the CME desks and the agency adapters (synthetic data)."""
