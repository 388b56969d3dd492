"""The agency client: one library every endpoint uses to send and receive through its hub."""
