"""Building the hub's ledger from the composition root (`broker.app.Container`)."""

import os
import socket
from typing import TYPE_CHECKING

from broker.directory.model import KeyUse
from broker.ledger.checkpoint import CheckpointSigner
from broker.ledger.store import SqlLedger

if TYPE_CHECKING:  # the container will build the ledger itself: no import cycle at run time
    from broker.app import Container


def default_actor(hub_id: str) -> str:
    """`<hub>@<host>/<pid>`, at most 64 characters: tells router replicas apart."""
    suffix = f"/{os.getpid()}"
    return f"{hub_id}@{socket.gethostname()}"[: 64 - len(suffix)] + suffix


def ledger_for(
    container: "Container",
    *,
    signing: bool = True,
    actor: str | None = None,
    checkpoint_every: int = 1000,
) -> SqlLedger:
    """The hub's ledger on the container's database.

    With `signing`, checkpoints are signed by the hub's current signing key (this registers
    the hub in the directory on first use). Reading, verifying and exporting need no key:
    pass `signing=False`.
    """
    hub_id = container.settings.hub_id
    signer = None
    if signing:
        key = container.hub_signing_key()
        kid = container.snapshot().current_key(hub_id, KeyUse.SIG, container.clock()).kid
        signer = CheckpointSigner(hub_id, kid, key)
    return SqlLedger(
        container.engine,
        signer,
        clock=container.clock,
        actor=actor or default_actor(hub_id),
        checkpoint_every=checkpoint_every,
    )
