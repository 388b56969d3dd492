"""Two schools' adapters and their LA through the real RabbitMQ and the router: a new pupil at
one school; the other school's adapter running as `school watch` does, picking up the MIS's
leaver export from its drop directory; the destination check and its confirmation between the
schools; the confirmed deletion return at the LA; then a 9(1)(i) deletion held until the LA's
`cme.enquiries_complete` releases it."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from adapters.school.app import SchoolApp, build_school, run_school
from adapters.school.store import DeletionState
from broker.agreements import ShareIntent, justify
from broker.envelope import Draft
from broker.ledger import LedgerEvent
from schemas.base import WireModel
from schemas.child import PupilSummary
from schemas.domain import DeletionGround
from schemas.messages import cme, deletion_return, school
from schemas.messages.cme import EnquiriesCompleteV1, EnquiriesResult
from schemas.messages.deletion_return import DeletionReturnV2
from tests.integration.hub_harness import Hub, eventually
from tests.integration.school.school_world import SETTINGS
from tests.unit.school_builders import LA, NEW, OLD, child, csv_row, csv_text, leaver, new_pupil

pytestmark = pytest.mark.rabbitmq


DROP = "drop"


@pytest.fixture
async def hub(
    tmp_path: Path, rabbitmq_url: str, db_url: str
) -> AsyncIterator[tuple[Hub, SchoolApp, SchoolApp]]:
    """The LA as a plain client, the new school's client, and the old school's adapter
    running (consuming, watching `DROP`, sweeping) until the test ends."""
    hub = Hub(tmp_path, rabbitmq_url, db_url)
    hub.add_agencies([LA, OLD, NEW])
    old = build_school(hub.container, SETTINGS.model_copy(update={"poll_seconds": 1.0}), OLD)
    new = build_school(hub.container, SETTINGS, NEW)
    await hub.start(clients=[LA])
    await new.client.start()
    hub.clients[NEW] = new.client
    (tmp_path / DROP).mkdir()
    stop = asyncio.Event()
    running = asyncio.create_task(run_school(old, stop, old.watcher(tmp_path / DROP)))
    try:
        yield hub, old, new
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        await hub.stop()


async def test_a_leaver_checked_with_the_new_school_and_a_held_deletion_released(
    hub: tuple[Hub, SchoolApp, SchoolApp], tmp_path: Path
) -> None:
    harness, old, new = hub
    new.adapter.submit(new_pupil(1, entry_date=date(2026, 10, 28)))
    rows = [csv_row("deletion", 1, ground="a", new_school_laestab="3304001")]
    (tmp_path / DROP / "leavers.csv").write_text(csv_text(rows), encoding="utf-8")

    def at_la(message_type: str) -> list[WireModel]:
        return [o.payload for o in harness.handled_by[LA] if o.claims.cme_type == message_type]

    await eventually(lambda: bool(at_la(deletion_return.TYPE)))
    (returned,) = at_la(deletion_return.TYPE)
    assert isinstance(returned, DeletionReturnV2)
    assert returned.destination_confirmed is True
    assert [o.claims.cme_type for o in harness.handled_by[LA]] == [
        school.NEW_PUPIL_RETURN,
        deletion_return.TYPE,
    ]

    # 9(1)(i): the return goes, the deletion waits for the LA.
    held = old.adapter.submit(leaver(DeletionGround.I, seed=2)).deletion_id
    assert held is not None
    await eventually(lambda: len(at_la(deletion_return.TYPE)) == 2)
    pupil = child(2)
    message = EnquiriesCompleteV1(
        school=OLD,
        case_ref="CME-330-2026-000007",
        child=PupilSummary(
            forenames=pupil.forenames,
            surname=pupil.surname,
            date_of_birth=pupil.date_of_birth,
            upn=pupil.upn,
        ),
        result=EnquiriesResult.ENQUIRIES_EXHAUSTED,
        completed_on=date(2026, 11, 2),
        deletion_ground=DeletionGround.I,
    )
    intent = ShareIntent(LA, OLD, cme.ENQUIRIES_COMPLETE, message, "cme-officer", "Done.")
    reason = justify(harness.container.agreements, intent, harness.container.clock())
    sent = harness.clients[LA].send(Draft(OLD, cme.ENQUIRIES_COMPLETE, message, reason))

    def released() -> bool:
        views = {v.deletion_id: v for v in old.adapter.deletions()}
        return views[held].state is DeletionState.MAY_DELETE

    await eventually(released)
    # The hub routed the LA's message and recorded the school's receipt for it.
    ledger = harness.container.ledger(signing=False)

    def recorded() -> list[str]:
        return [entry.event for entry in ledger.history(str(sent.claims.jti))]

    await eventually(lambda: recorded() == [LedgerEvent.ROUTED, LedgerEvent.RECEIPTED])
