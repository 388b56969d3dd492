"""Every message type and version survives seal -> open unchanged (hypothesis-generated
synthetic payloads, each sealed by its usual sender to its usual recipient)."""

import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.app import Container
from broker.envelope import Draft, HeaderVerifier, Opener, RecipientIdentity
from broker.settings import Settings
from schemas.examples import example_justification, example_payload, example_sender_recipient
from schemas.messages.receipt import ReceiptV1, ReceiptV2
from schemas.registry import MessageSpec, default_registry

SPECS = default_registry().specs()


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """One hub directory with every party the example flows use."""
    data_dir: Path = tmp_path_factory.mktemp("seal-open")
    container = Container(Settings(data_dir=data_dir))
    parties = {p for spec in SPECS for p in example_sender_recipient(spec.type)}
    for party in sorted(parties):
        container.directory_store.add_agency(party, party, "330")
    yield container
    container.engine.dispose()


def _answers(payload: object) -> dict[str, Any]:
    """A receipt's header names the messages it answers (the opener checks they agree)."""
    if isinstance(payload, ReceiptV2):
        return {"causation_ids": payload.message_ids}
    if isinstance(payload, ReceiptV1):
        return {"causation_id": payload.message_id}
    return {}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.type}.v{s.version}")
def test_every_model_round_trips_through_seal_and_open(
    container: Container, spec: MessageSpec
) -> None:
    sender, recipient = example_sender_recipient(spec.type)
    snapshot = container.snapshot()
    sealer = container.sealer(sender, snapshot)
    keys = container.keystore.load_all(recipient)
    opener = Opener(RecipientIdentity(recipient, keys), HeaderVerifier(snapshot))

    @settings(
        max_examples=25, deadline=None, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )  # fmt: skip
    @given(seed=st.integers(0, 2**32 - 1), days=st.integers(-400, 400))
    def check(seed: int, days: int) -> None:
        payload = example_payload(
            spec.type, spec.version, rng=random.Random(seed),
            today=date(2026, 11, 2) + timedelta(days=days),
            sender=sender, recipient=recipient,
        )  # fmt: skip
        reason = example_justification(spec.type, sender=sender, recipient=recipient)
        sealed = sealer.seal(Draft(recipient, spec.type, payload, reason, **_answers(payload)))
        opened = opener.open(sealed.to_json())
        assert opened.payload == payload
        assert type(opened.payload) is spec.model
        assert opened.claims == sealed.claims

    check()
