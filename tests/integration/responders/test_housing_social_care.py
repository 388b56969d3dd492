"""Housing and children's social care on real envelopes and a real database: housing answers
from its records; social care records escalations at its front door (same-day flagged) and
answers enquiries with the minimum."""

from datetime import date

import pytest
from sqlmodel import Session, select

from adapters.housing.app import build_housing
from adapters.housing.model import TenancyRecord, Tenure
from adapters.housing.settings import HousingSettings
from adapters.social_care.app import SocialCareApp, build_social_care
from adapters.social_care.model import KnownChild
from adapters.social_care.rules import NOTE_CP_PLAN, STATUTORY_STATUS
from adapters.social_care.settings import SocialCareSettings
from broker.responder import LocateAnswer, WorkKind, WorkState
from broker.responder.model import ESCALATION_RECEIVED, LOCATION_UNCERTAIN, SEVERAL_MATCHES
from broker.responder.records import SubjectKey
from broker.responder.tables import WorkItemRow
from schemas.messages.cme import LocateOutcome, LocateResponseV1
from schemas.messages.safeguarding import EscalationV1
from tests.integration.responders.world import HOUSING, LA, SOCIAL_CARE, ResponderWorld
from tests.unit.responders_builders import TODAY, address, enquiry, escalation


class FakeHousingRecords:
    def __init__(self, records: list[TenancyRecord]) -> None:
        self.records = records

    def find(self, child: SubjectKey) -> list[TenancyRecord]:
        return self.records


class FakeSocialCareRecords:
    def __init__(self, records: list[KnownChild]) -> None:
        self.records = records

    def find(self, child: SubjectKey) -> list[KnownChild]:
        return self.records


def test_housing_answers_a_unique_match_with_the_current_address(world: ResponderWorld) -> None:
    ta = TenancyRecord("P-1", Tenure.TEMPORARY_ACCOMMODATION, address(), date(2026, 6, 1))
    app = build_housing(
        world.container, HousingSettings(), world.responder_settings, FakeHousingRecords([ta])
    )
    world.enquire(app.responder, enquiry())
    (reply,) = world.replies(HOUSING)
    assert reply.recipient == LA
    assert isinstance(reply.payload, LocateResponseV1)
    assert reply.payload.outcome is LocateOutcome.FOUND
    assert reply.payload.current_address == address()
    assert reply.payload.evidence_date == date(2026, 6, 1)


def test_housing_refers_two_people_to_a_person(world: ResponderWorld) -> None:
    two = [
        TenancyRecord("P-1", Tenure.TENANCY, address()),
        TenancyRecord("P-2", Tenure.TENANCY, address("7 Other Road")),
    ]
    app = build_housing(
        world.container, HousingSettings(), world.responder_settings, FakeHousingRecords(two)
    )
    world.enquire(app.responder, enquiry())
    assert world.replies(HOUSING) == []
    assert app.responder.work.items(HOUSING)[0].reason == SEVERAL_MATCHES


def test_housing_puts_a_forwarding_address_before_a_person_and_forgets_it_once_answered(
    world: ResponderWorld,
) -> None:
    """A forwarding address left at a move-out years ago is never sent as `found` (the LA would
    read the child as located); the person sees it, answers, and then it is not kept."""
    forwarding = address("9 New Lane", "ZZ99 5NL")
    left = TenancyRecord("P-1", Tenure.TENANCY, address(), date(2017, 1, 1), date(2019, 3, 1),
                         forwarding)  # fmt: skip
    app = build_housing(
        world.container, HousingSettings(), world.responder_settings, FakeHousingRecords([left])
    )
    world.enquire(app.responder, enquiry())
    assert world.replies(HOUSING) == []
    (item,) = app.responder.work.items(HOUSING)
    assert item.reason == LOCATION_UNCERTAIN
    detail = app.responder.work.detail(HOUSING, item.item_id)
    assert detail.payload == enquiry()
    assert detail.finding is not None
    assert (detail.finding.address, detail.finding.evidence_date) == (forwarding, date(2019, 3, 1))

    answer = LocateAnswer(LocateOutcome.NOT_FOUND, TODAY, note="Forwarding address is stale.")
    app.responder.answer(item.item_id, answer, "user:housing-officer")
    (reply,) = world.replies(HOUSING)
    assert isinstance(reply.payload, LocateResponseV1)
    assert reply.payload.outcome is LocateOutcome.NOT_FOUND
    with Session(world.container.engine) as session:
        assert session.exec(select(WorkItemRow.payload)).one() is None


@pytest.fixture
def social_care(world: ResponderWorld) -> SocialCareApp:
    records = FakeSocialCareRecords([KnownChild("C-1", child_protection_plan=True)])
    return build_social_care(
        world.container, SocialCareSettings(), world.responder_settings, records
    )


def test_an_escalation_is_recorded_at_the_front_door_same_day_first(
    world: ResponderWorld, social_care: SocialCareApp
) -> None:
    world.escalate(social_care.app.responder, escalation(same_day=False, case_ref="CME-330-LATER"))
    world.escalate(social_care.app.responder, escalation(same_day=True, case_ref="CME-330-NOW"))
    first, second = social_care.front_door.waiting()
    assert (first.case_ref, first.same_day, first.respond_by) == ("CME-330-NOW", True, TODAY)
    assert (first.kind, first.reason) == (WorkKind.ESCALATION, ESCALATION_RECEIVED)
    assert (second.case_ref, second.same_day) == ("CME-330-LATER", False)
    assert second.respond_by == date(2026, 11, 3)
    detail = social_care.app.responder.work.detail(SOCIAL_CARE, first.item_id)
    assert isinstance(detail.payload, EscalationV1)
    assert detail.payload.same_day_required is True
    assert world.replies(SOCIAL_CARE) == []  # an escalation is taken on, not answered

    social_care.app.responder.acknowledge(first.item_id, "user:front-door")
    (left,) = social_care.front_door.waiting()
    assert left.item_id == second.item_id
    taken = [i for i in social_care.front_door.waiting(include_closed=True) if i.closed_at]
    assert [(i.state, i.closed_by) for i in taken] == [(WorkState.ACKNOWLEDGED, "user:front-door")]


def test_the_same_escalation_delivered_twice_is_recorded_once(
    world: ResponderWorld, social_care: SocialCareApp
) -> None:
    wire = world.seal(SOCIAL_CARE, "safeguarding.escalation", escalation())
    world.deliver(social_care.app.responder, wire)
    world.deliver(social_care.app.responder, wire)
    assert len(social_care.front_door.waiting()) == 1


def test_social_care_answers_known_with_the_plan_and_alerts_its_front_door(
    world: ResponderWorld, social_care: SocialCareApp
) -> None:
    world.enquire(social_care.app.responder, enquiry())
    (reply,) = world.replies(SOCIAL_CARE)
    answer = reply.payload
    assert isinstance(answer, LocateResponseV1)
    assert answer.outcome is LocateOutcome.KNOWN_WITHHELD
    assert answer.note == NOTE_CP_PLAN
    assert answer.refer_to_social_care is True
    assert (answer.current_address, answer.registered_gp, answer.school) == (None, None, None)
    (alert,) = social_care.front_door.waiting()
    assert (alert.kind, alert.reason, alert.same_day) == (WorkKind.ALERT, STATUTORY_STATUS, True)


def test_a_responder_without_records_lists_every_enquiry(world: ResponderWorld) -> None:
    app = build_social_care(world.container, SocialCareSettings(), world.responder_settings)
    world.enquire(app.app.responder, enquiry())
    (item,) = app.app.responder.work.items(SOCIAL_CARE)
    assert item.reason == "no_source"
    assert app.front_door.waiting() == []  # enquiries are not the front door's
