"""The LA hub and the trust core: envelope, directory, (later) router, ledger and gateway."""
