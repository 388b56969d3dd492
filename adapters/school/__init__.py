"""School adapter: admission-register events to statutory returns (issue 5)."""
