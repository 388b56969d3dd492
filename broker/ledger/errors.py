"""The ledger's exceptions: a `LedgerError` family under the broker's root error.

Messages name what went wrong in general terms; they never carry entry content.
"""

from broker.errors import BrokerError


class LedgerError(BrokerError):
    """A ledger operation failed."""

    reason = "ledger_error"


class LedgerUnavailable(LedgerError):
    """The database refused or failed an append, a checkpoint or a read."""

    reason = "ledger_unavailable"


class CheckpointUnavailable(LedgerError):
    """A checkpoint was asked for but no signer is configured."""

    reason = "checkpoint_unavailable"
