"""The agency directory: agencies, their public keys and status (DESIGN.md section 4)."""
