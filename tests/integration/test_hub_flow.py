"""Messages through the real RabbitMQ and the router: routed, receipted, recorded."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from broker.ledger import LedgerEvent
from tests.integration.hub_harness import LA, SCHOOL, Hub, eventually, receipt_of


@pytest.fixture
async def hub(tmp_path: Path, rabbitmq_url: str, db_url: str) -> AsyncIterator[Hub]:
    """A hub on SQLite and on PostgreSQL (the router, ledger, outbox and inbox all use it)."""
    hub = Hub(tmp_path, rabbitmq_url, database_url=db_url)
    hub.add_agencies()
    await hub.start()
    yield hub
    await hub.stop()


async def test_deletion_return_is_routed_opened_and_receipted(hub: Hub) -> None:
    sealed = hub.send_example(SCHOOL, LA, "school.deletion_return")
    message_id = str(sealed.claims.jti)
    await eventually(lambda: hub.handled[f"{LA}/{message_id}"] == 1)
    await eventually(lambda: receipt_of(hub, message_id) == ("accepted", None))
    history = hub.container.ledger(signing=False).history(message_id)
    assert [e.event for e in history] == [LedgerEvent.ROUTED, LedgerEvent.RECEIPTED]
    assert (history[0].rule or "").startswith("cme-area-330@1/")
    assert hub.container.ledger(signing=False).verify(hub.container.snapshot()).ok


# Concrete synthetic parties for each party selector the shipped agreements use.
PARTY = {
    "la:330": "la:330",
    "la:331": "la:331",
    "police:20": "police:20",
    "social_care:330": "social_care:330",
    "health (any)": "health:M85001",
    "housing (LA 330)": "housing:330-ta",
    "early_years (LA 330)": "early_years:330-nursery",
    "school (LA 330)": "school:3304000",
    "school (LA 331)": "school:3314000",
    "social_care:331": "social_care:331",
    "housing (LA 331)": "housing:331-ta",
    "early_years (LA 331)": "early_years:331-nursery",
}
# School-to-school flows need two schools.
OTHER_SCHOOL = {"school:3304000": "school:3304001", "school:3314000": "school:3314001"}


def flow_cases(hub: Hub) -> list[tuple[str, str, str, str]]:
    """(rule, sender, recipient, type) for every flow, party and type in the agreements."""
    cases = []
    for row in hub.container.agreements.describe():
        rule = f"{row.agreement}@{row.version}/{row.flow}"
        for sender in (PARTY[label] for label in row.from_):
            for recipient in (PARTY[label] for label in row.to):
                if recipient == sender:
                    recipient = OTHER_SCHOOL[sender]
                cases += [(rule, sender, recipient, t) for t in row.types]
    return cases


async def test_every_flow_in_the_agreements_is_routed(tmp_path: Path, rabbitmq_url: str) -> None:
    hub = Hub(tmp_path, rabbitmq_url)
    agencies = sorted({*PARTY.values(), *OTHER_SCHOOL.values()})
    hub.add_agencies(agencies)
    await hub.start(agencies)
    try:
        cases = flow_cases(hub)
        assert len({rule for rule, *_ in cases}) >= 20  # both shipped agreements, every flow
        sent = [
            (rule, recipient, hub.send_example(s, recipient, t)) for rule, s, recipient, t in cases
        ]
        for rule, recipient, sealed in sent:
            jti = str(sealed.claims.jti)
            await eventually(lambda r=recipient, j=jti: hub.handled[f"{r}/{j}"] == 1)
            routed = hub.container.ledger(signing=False).history(jti)[0]
            assert (routed.event, routed.rule) == (LedgerEvent.ROUTED, rule)
    finally:
        await hub.stop()


async def test_two_router_replicas_share_the_work(tmp_path: Path, rabbitmq_url: str) -> None:
    hub = Hub(tmp_path, rabbitmq_url)
    hub.add_agencies()
    await hub.start(routers=2)
    try:
        sent = [hub.send_example(SCHOOL, LA, "school.attendance_return") for _ in range(300)]
        ids = [str(s.claims.jti) for s in sent]
        await eventually(lambda: all(hub.handled[f"{LA}/{i}"] == 1 for i in ids), 60)
        await eventually(lambda: all(receipt_of(hub, i)[0] == "accepted" for i in ids), 60)
        ledger = hub.container.ledger(signing=False)
        report = ledger.verify(hub.container.snapshot())
        assert report.ok, report
        actors = {e.actor for i in ids[::10] for e in ledger.history(i)}
        assert len(actors) == 2, "both replicas should have taken part"
        assert sum(hub.handled.values()) == len(ids)
    finally:
        await hub.stop()
