"""The end-to-end scenario (issue 5): a child leaves a school in LA 330 with nowhere known to
go; the CME desk opens a case and asks health, housing and social care; health finds the
child registered with a GP at an address in LA 331's area; the desk tells LA 331 through the
bridge; LA 331 finds the child on roll at one of its schools and accepts; LA 330 closes the
case with that evidence and tells the school. Both ledgers verify; every message has its
receipt. Variants: the child is found nowhere, a restricted patient, a child protection plan.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from sqlmodel import Session, select

from adapters.demo.world import HubPlan, TwoHubs
from adapters.health.app import build_health
from adapters.health.csv_index import CsvPatientIndex
from adapters.health.model import PatientRecord
from adapters.health.settings import HealthSettings
from adapters.housing.app import build_housing
from adapters.housing.settings import HousingSettings
from adapters.la.app import build_desk
from adapters.la.areas import PostcodeAreas
from adapters.la.desk import CmeDesk
from adapters.la.model import CaseState, EnquiryState
from adapters.la.records import CaseDetail, CaseFilter, EnquiryView, EventKind
from adapters.la.rules import ClosureEvidence
from adapters.la.settings import DeskSettings
from adapters.school.app import build_school
from adapters.school.events import Leaver
from adapters.school.rules import Outcome
from adapters.school.settings import SchoolSettings
from adapters.social_care.app import build_social_care
from adapters.social_care.settings import SocialCareSettings
from broker.app import Container
from broker.client.agency import AgencyClient
from broker.client.tables import InboxRow
from broker.responder import ResponderSettings
from schemas.case import ClosureOutcome
from schemas.child import Address, ChildIdentity, SchoolRef
from schemas.domain import DeletionGround, RiskFlag, Sex
from schemas.messages.cme import CrossBorderOutcome
from schemas.messages.deletion_return import SafeguardingContext

A, B = "330", "331"
SCHOOL_A, LA_A, HEALTH, HOUSING_A, SOCIAL_A = (
    "school:3304000",
    "la:330",
    "health:M85001",
    "housing:330-ta",
    "social_care:330",
)
LA_B, SCHOOL_B, HEALTH_B, HOUSING_B, SOCIAL_B = (
    "la:331",
    "school:3314012",
    "health:M86001",
    "housing:331-ta",
    "social_care:331",
)
OFFICER_A, OFFICER_B = "user:cme-officer-330", "user:cme-officer-331"
NEW_HOME = Address(lines=("4 Imaginary Close",), town="Coventry", postcode="ZZ99 7DE")
"""Where health finds the child: a non-geographic ZZ99 postcode the demo maps to LA 331."""
WAIT_S = 30.0
T = TypeVar("T")


class Variant(StrEnum):
    """The scenario's variants (`cme-broker demo --variant ...`)."""

    FOUND = "found"
    NOWHERE = "nowhere"
    RESTRICTED = "restricted"
    CP_PLAN = "cp-plan"


@dataclass
class Timeline:
    """What the demo prints: one line per step, and whether every check held."""

    say: Callable[[str, str, bool], None]
    ok: bool = True
    problems: list[str] = field(default_factory=list)

    def step(self, who: str, what: str, good: bool = True) -> None:
        self.say(who, what, good)
        if not good:
            self.ok = False
            self.problems.append(what)


def the_child() -> ChildIdentity:
    """A made-up child of compulsory school age."""
    return ChildIdentity(
        forenames="Ottoline",
        surname="Brackenwhistle",
        date_of_birth=date(2015, 6, 14),
        sex=Sex.FEMALE,
        addresses=(Address(lines=("22 Fictional Row",), town="Birmingham", postcode="ZZ99 3AB"),),
    )


class Scenario:
    """One run of the scenario on fresh hubs."""

    def __init__(self, data_dir: Path, rabbitmq_url: str, variant: Variant, say: Timeline):
        self.variant = variant
        self.timeline = say
        self.child = the_child()
        self.tracked: list[tuple[str, str]] = []
        self.tracks: list[tuple[str, ...]] = []
        self.world = TwoHubs(data_dir, rabbitmq_url, uuid.uuid4().hex[:6], _plans())

    async def run(self) -> bool:
        """Run everything; True when every step held. Always leaves no queues behind."""
        self.world.register()
        await self.world.start()
        try:
            await self._parties()
            await self._story()
            await self._audit()
        finally:
            await self.world.stop()
        return self.timeline.ok

    async def _audit(self) -> None:
        """Every message has its receipt; both ledgers verify (after a signed checkpoint);
        the tracks of the story's messages, from both ledgers."""
        missing = await self.receipts()
        self.timeline.step("hubs", f"every message receipted ({len(missing)} missing)", not missing)
        for code, run in self.world.hubs.items():
            ledger = run.container.ledger(signing=True)
            ledger.checkpoint()
            report = ledger.verify(run.container.snapshot())
            self.timeline.step(f"hub:{code}", f"ledger verify: {report.message}", report.ok)
            for label, message_id in self.tracked:
                for entry in ledger.history(message_id):
                    self.tracks.append(
                        (f"hub:{code}", label, str(entry.event), entry.sender, entry.recipient,
                         entry.message_type)
                    )  # fmt: skip

    async def _parties(self) -> None:
        a, b = self.world.hub(A).container, self.world.hub(B).container
        self.school = build_school(a, SchoolSettings(), SCHOOL_A)
        await self.world.client(A, SCHOOL_A, lambda _c: self.school.client)
        areas = PostcodeAreas({"ZZ99 7": B})
        self.desk_a = build_desk(a, DeskSettings(la_code=A), areas)
        await self.world.client(A, LA_A, lambda _c: self.desk_a.client)
        responders = ResponderSettings()
        self.health = build_health(
            a, HealthSettings(agency_id=HEALTH), responders, self._patients()
        )
        await self.world.client(A, HEALTH, lambda _c: self.health.client)
        housing = build_housing(a, HousingSettings(agency_id=HOUSING_A), responders)
        await self.world.client(A, HOUSING_A, lambda _c: housing.client)
        self.social = build_social_care(a, SocialCareSettings(agency_id=SOCIAL_A), responders)
        await self.world.client(A, SOCIAL_A, lambda _c: self.social.app.client)
        self.desk_b = build_desk(b, _desk_b_settings())
        await self.world.client(B, LA_B, lambda _c: self.desk_b.client)
        for agency in (HEALTH_B, HOUSING_B, SOCIAL_B, SCHOOL_B):  # LA 331's partners: they
            await self.world.client(B, agency, _listener(agency))  # only receive here

    def _patients(self) -> CsvPatientIndex:
        """Health's register: the child, registered with a GP in LA 331's area (unless the
        variant says otherwise)."""
        if self.variant is Variant.NOWHERE:
            return CsvPatientIndex([])
        record = PatientRecord(
            key="demo-patient-1",
            birth_date=self.child.date_of_birth,
            nhs_number=None,
            restricted=self.variant is Variant.RESTRICTED,
            gp_practice="M86001",
            address=NEW_HOME,
            last_updated=date.today() - timedelta(days=12),
        )
        return CsvPatientIndex([(record, self.child.surname, self.child.forenames)])

    async def _story(self) -> None:
        step = self.timeline.step
        flags = (RiskFlag.CHILD_PROTECTION_PLAN,) if self.variant is Variant.CP_PLAN else ()
        leaver = Leaver(
            child=self.child,
            ground=DeletionGround.G,
            deletion_date=date.today(),
            safeguarding=SafeguardingContext(risk_flags=flags) if flags else None,
        )
        result = self.school.adapter.submit(leaver)
        submitted = result.outcome is Outcome.SENT
        step(SCHOOL_A, f"deletion return, ground 9(1)(g), destination unknown: {result.outcome}",
             submitted)  # fmt: skip
        self.tracked += [("deletion return", str(i)) for i in result.message_ids]
        desk = self.desk_a.desk
        case = await self._wait(lambda: _only_case(desk), "LA 330's desk opens a case")
        assert case is not None
        step(LA_A, f"case {case.summary.case_ref} opened, priority {case.summary.priority}")
        detail = await self._wait(lambda: _asked(desk, case.summary.case_ref), "enquiries sent")
        if detail is not None:
            sent = ", ".join(sorted(e.agency_id for e in detail.enquiries))
            step(LA_A, f"locate enquiries to {sent}, due {detail.enquiries[0].respond_by}")
        if self.variant is Variant.CP_PLAN:
            escalated = await self._wait(lambda: _escalated(desk, case.summary.case_ref),
                                         "same-day escalation to social care")  # fmt: skip
            step(LA_A, "same-day safeguarding escalation sent to social care", bool(escalated))
        if self.variant is Variant.NOWHERE:
            await self._nowhere(desk, case.summary.case_ref)
            return
        health = await self._wait(lambda: _answered(desk, case.summary.case_ref, HEALTH),
                                  "health answers")  # fmt: skip
        if health is None:
            return
        # The outcome only: the evidence holds the child's address (synthetic here, but the
        # timeline is output like any other and shows no personal data).
        step(HEALTH, f"answered: {health.outcome}")
        if self.variant is Variant.RESTRICTED:
            # Nothing that locates the child reached the LA: no address, no GP practice.
            evidence = health.evidence or ""
            located = str(NEW_HOME.postcode) in evidence or "M86001" in evidence
            good = health.outcome == "known_withheld" and not located
            step(LA_A, "restricted record: address withheld, social care pointed to", good)
            return
        await self._cross_border(case.summary.case_ref)

    async def _cross_border(self, case_ref: str) -> None:
        step, desk = self.timeline.step, self.desk_a.desk
        notified = desk.notify_cross_border(case_ref, LA_B, OFFICER_A, "Health found the child "
                                            "registered with a GP in Coventry's area.")  # fmt: skip
        step(LA_A, f"cross-border notification {notified[:8]} to {LA_B}: case awaits LA 331")
        self.tracked.append(("cross-border notification", notified))
        inbound = await self._wait(lambda: _only_case(self.desk_b.desk), "LA 331 opens a case")
        if inbound is None:
            return
        ref_b = inbound.summary.case_ref
        step(LA_B, f"case {ref_b} opened from the notification (trigger {inbound.summary.trigger})")
        school = SchoolRef(laestab=SCHOOL_B.split(":")[1], name="Example Park Academy")
        why = "On roll at Example Park Academy."
        self.desk_b.desk.answer_cross_border(
            ref_b, CrossBorderOutcome.ON_ROLL, True, OFFICER_B, why, school
        )
        step(LA_B, "child found on roll at school 3314012: confirmation sent, accepting")
        confirmation = await self._wait(lambda: _confirmed(desk, case_ref), "the confirmation")
        if confirmation is None:
            return
        step(LA_A, "confirmation received: LA 331 accepts responsibility")
        self.tracked.append(("cross-border confirmation", str(confirmation)))
        evidence = ClosureEvidence(
            confirmation_message_id=confirmation, responsibility_accepted=True
        )
        desk.close_case(case_ref, ClosureOutcome.RECEIVING_LA_ACCEPTED, evidence, OFFICER_A,
                        "LA 331 confirmed the child is on roll there and accepted.")  # fmt: skip
        closed = desk.register.show_case(case_ref).summary.state is CaseState.CLOSED
        step(LA_A, f"case {case_ref} closed: receiving LA accepted; the school is told", closed)
        told = await self._wait(lambda: _told(self), "the school hears the case closed")
        step(SCHOOL_A, "cme.case_status: closed (receiving_la_accepted)", bool(told))

    async def _nowhere(self, desk: CmeDesk, case_ref: str) -> None:
        step = self.timeline.step
        waiting = await self._wait(lambda: self.health.responder.work.items(HEALTH) or None,
                                   "health's work list")  # fmt: skip
        reason = waiting[0].reason if waiting else "-"
        step(HEALTH, f"no unique match ({reason}): the enquiry waits for a person", bool(waiting))
        later = desk.today() + timedelta(days=8)
        report = desk.sweep(later)
        step(LA_A, f"{later}: {len(report.chased)} overdue enquiries chased", bool(report.chased))
        still_open = desk.register.show_case(case_ref).summary.state is not CaseState.CLOSED
        step(LA_A, f"case {case_ref} stays open on the overdue list", still_open)
        later += timedelta(days=10)
        report = desk.sweep(later)
        step(LA_A, f"{later}: still no answer: {len(report.to_lead)} escalated to the CME lead",
             bool(report.to_lead))  # fmt: skip

    async def _wait(self, check: Callable[[], T | None], what: str) -> T | None:
        try:
            async with asyncio.timeout(WAIT_S):
                while (found := check()) is None:
                    await asyncio.sleep(0.1)
                return found
        except TimeoutError:
            self.timeline.step("demo", f"timed out waiting for: {what}", False)
            return None

    async def receipts(self) -> list[tuple[str, str, str]]:
        """Wait for every message's receipt; what is still missing after the wait."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WAIT_S):
                while self.world.unreceipted():
                    await asyncio.sleep(0.2)
        return self.world.unreceipted()


def _plans() -> list[HubPlan]:
    return [
        HubPlan(A, ((SCHOOL_A, "Example Primary School"), (LA_A, "LA 330 CME team"),
                    (HEALTH, "Example GP (health)"), (HOUSING_A, "LA 330 housing"),
                    (SOCIAL_A, "LA 330 children's social care"))),
        HubPlan(B, ((LA_B, "LA 331 CME team"), (SCHOOL_B, "Example Park Academy"),
                    (HEALTH_B, "Example GP 331"), (HOUSING_B, "LA 331 housing"),
                    (SOCIAL_B, "LA 331 children's social care"))),
    ]  # fmt: skip


def _desk_b_settings() -> DeskSettings:
    return DeskSettings(la_code=B, health_agency=HEALTH_B, housing_agency=HOUSING_B,
                        social_care_agency=SOCIAL_B)  # fmt: skip


def _listener(agency: str) -> Callable[[Container], AgencyClient]:
    return lambda container: container.agency_client(agency, lambda _s, _o: None)


def _only_case(desk: CmeDesk) -> CaseDetail | None:
    cases = desk.register.list_cases(CaseFilter(include_closed=True))
    return desk.register.show_case(cases[0].case_ref) if cases else None


def _asked(desk: CmeDesk, case_ref: str) -> CaseDetail | None:
    detail = desk.register.show_case(case_ref)
    return detail if len(detail.enquiries) >= 3 else None


def _escalated(desk: CmeDesk, case_ref: str) -> bool | None:
    timeline = desk.register.show_case(case_ref).timeline
    return True if any(e.kind is EventKind.ESCALATED for e in timeline) else None


def _answered(desk: CmeDesk, case_ref: str, agency: str) -> EnquiryView | None:
    for enquiry in desk.register.show_case(case_ref).enquiries:
        if enquiry.agency_id == agency and enquiry.state is EnquiryState.ANSWERED:
            return enquiry
    return None


def _confirmed(desk: CmeDesk, case_ref: str) -> uuid.UUID | None:
    for entry in desk.register.show_case(case_ref).timeline:
        if entry.kind is EventKind.MESSAGE_RECEIVED and entry.detail.get("accepts") is True:
            return uuid.UUID(str(entry.message_id))
    return None


def _told(scenario: Scenario) -> bool | None:
    """The school's inbox holds the desk's case status."""
    engine = scenario.world.hub(A).container.engine
    with Session(engine) as session:
        query = select(InboxRow).where(
            InboxRow.agency_id == SCHOOL_A, InboxRow.message_type == "cme.case_status"
        )
        return True if session.exec(query).first() else None
