"""The broker's own AMQP headers (names only: their values are never personal data)."""

ATTEMPT_HEADER = "x-cme-attempt"
"""How many times the router or a dead-letter replay has sent a message round a retry."""
PUBLISHER_HEADER = "x-cme-publisher"
"""The AMQP user that first published a message the router sends round a retry."""
REASON_HEADER = "x-cme-reason"
"""Why the router refused a message (on the copy in the refused queue)."""
SENDER_HEADER = "x-cme-sender"
"""Stamped on every delivery: the sender the router verified. A bridge to a peer hub needs it
to publish with the sender's routing key there (the peer verifies the signature itself)."""
