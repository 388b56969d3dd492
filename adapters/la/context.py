"""What the desk knows about a case beyond the register's columns, read back from its timeline.

The desk records the facts a later step needs (who notified it, the deletion ground, the LAs
involved, what was chased or escalated) as timeline events whose `detail` holds codes and ids
only. `CaseContext.of` folds a case's timeline into those facts, and builds the values the
rules take (`CaseFacts`, `EnquiryRecord`, `CrossBorderRecord`).
"""

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from adapters.la.model import CaseKind, EnquiryState, Trigger
from adapters.la.records import CaseDetail, EnquiryView, EventKind, TimelineEntry
from adapters.la.rules import CaseFacts, CrossBorderRecord, EnquiryRecord
from schemas.domain import DeletionGround
from schemas.messages import cme
from schemas.messages.cme import LocateOutcome

# Detail keys (codes and ids only: the register refuses anything else in clear).
SENDER, MESSAGE_TYPE, GROUND = "sender", "message_type", "deletion_ground"
DESTINATION_LA, PREVIOUS_LA, REPLY_DUE = "destination_la", "previous_la", "reply_due"
PEER_CASE, NOTIFICATION = "peer_case_ref", "notification_id"
RECIPIENT, RESPOND_BY, ACCEPTS, OUTCOME = "recipient", "respond_by", "accepts", "outcome"
CHASED_ON = "chased_on"
ENQUIRY, ACTION, FIRST_RESPOND_BY, SCOPE, FLAGS = (
    "enquiry_id",
    "action",
    "first_respond_by",
    "scope",
    "flags",
)


@dataclass(frozen=True)
class Confirmation:
    """A receiving LA's answer to this LA's cross-border notification."""

    message_id: str
    accepts: bool
    outcome: str
    received_on: date


@dataclass(frozen=True)
class CaseContext:
    """The facts of one case the desk recorded on its timeline."""

    detail: CaseDetail
    notifiers: tuple[str, ...] = ()
    """Every agency that notified or referred the case (told of closure and reopening)."""
    ground: DeletionGround | None = None
    destination_la: str | None = None
    previous_la: str | None = None
    reply_due: date | None = None
    peer: tuple[str, str, UUID] | None = None
    """Inbound cross-border: (notifying LA, its case ref, its notification id)."""
    notification: tuple[str, date, date] | None = None
    """Outbound cross-border: (receiving LA, sent on, respond by)."""
    confirmations: tuple[Confirmation, ...] = ()
    escalated: frozenset[str] = frozenset()
    """Scopes escalated already: `safeguarding:<flag>`, `enquiry:<id>`, `cross_border`."""
    chases: dict[str, tuple[date, date]] = field(default_factory=dict)
    """Enquiry id -> (chased on, the deadline it first had)."""
    told_school: bool = False
    """`cme.enquiries_complete` already sent."""
    unsent: tuple[str, ...] = ()
    """Agencies a planned enquiry (or escalation) could not be sent to."""

    @classmethod
    def of(cls, detail: CaseDetail) -> "CaseContext":
        """Fold the case's timeline into its facts."""
        fold = _Fold()
        for entry in detail.timeline:
            fold.add(entry)
        return cls(
            detail=detail,
            notifiers=tuple(dict.fromkeys(fold.notifiers)),
            ground=fold.ground,
            destination_la=fold.destination_la,
            previous_la=fold.previous_la,
            reply_due=fold.reply_due,
            peer=fold.peer,
            notification=fold.notification,
            confirmations=tuple(fold.confirmations),
            escalated=frozenset(fold.escalated),
            chases=fold.chases,
            told_school=fold.told_school,
            unsent=tuple(fold.unsent),
        )

    @property
    def school(self) -> str | None:
        """The school that notified the case (for `cme.enquiries_complete`)."""
        return next((n for n in self.notifiers if n.startswith("school:")), None)

    def facts(self) -> CaseFacts:
        """The case as the rules see it."""
        summary = self.detail.summary
        inbound = summary.trigger is Trigger.CROSS_BORDER_IN
        return CaseFacts(
            trigger=summary.trigger,
            kind=summary.kind,
            reason=summary.reason,
            risk_flags=summary.risk_flags,
            deletion_ground=self.ground if summary.trigger is Trigger.DELETION_RETURN else None,
            previous_la=self.previous_la,
            destination_la=self.destination_la,
            reply_due=(self.reply_due or summary.opened_at.date()) if inbound else None,
        )

    def enquiry_records(self) -> list[EnquiryRecord]:
        """The sent enquiries as the rules see them (chases and escalations folded in)."""
        return [record for _, record in self.sent_enquiries()]

    def sent_enquiries(self) -> list[tuple[EnquiryView, EnquiryRecord]]:
        """Each sent enquiry with its record for the rules."""
        return [(e, self._record(e)) for e in self.detail.enquiries if e.sent_at and e.respond_by]

    def _record(self, enquiry: EnquiryView) -> EnquiryRecord:
        assert enquiry.sent_at is not None
        assert enquiry.respond_by is not None
        chased = self.chases.get(enquiry.enquiry_id)
        answered = enquiry.state is EnquiryState.ANSWERED and enquiry.answered_at is not None
        return EnquiryRecord(
            target=enquiry.target,
            sent_on=enquiry.sent_at.date(),
            respond_by=chased[1] if chased else enquiry.respond_by,
            answered_on=enquiry.answered_at.date() if answered and enquiry.answered_at else None,
            outcome=LocateOutcome(enquiry.outcome) if answered and enquiry.outcome else None,
            chased_on=chased[0] if chased else None,
            final_respond_by=enquiry.respond_by if chased else None,
            # Only whether it was escalated matters to the rules (they never escalate twice).
            escalated_on=chased[0] if chased and self._escalated(enquiry) else None,
        )

    def _escalated(self, enquiry: EnquiryView) -> bool:
        return f"enquiry:{enquiry.enquiry_id}" in self.escalated

    def cross_border_record(self) -> CrossBorderRecord | None:
        """The outbound notification, if one was sent."""
        if self.notification is None:
            return None
        to_la, sent_on, respond_by = self.notification
        confirmed = self.confirmations[-1].received_on if self.confirmations else None
        escalated = sent_on if "cross_border" in self.escalated else None
        return CrossBorderRecord(
            to_la=to_la,
            sent_on=sent_on,
            respond_by=respond_by,
            confirmed_on=confirmed,
            escalated_on=escalated,
        )

    @property
    def is_ehe_check(self) -> bool:
        """An elective home education suitability check, not a CME case."""
        return self.detail.summary.kind is CaseKind.EHE_SUITABILITY


@dataclass
class _Fold:
    notifiers: list[str] = field(default_factory=list)
    ground: DeletionGround | None = None
    destination_la: str | None = None
    previous_la: str | None = None
    reply_due: date | None = None
    peer: tuple[str, str, UUID] | None = None
    notification: tuple[str, date, date] | None = None
    confirmations: list[Confirmation] = field(default_factory=list)
    escalated: set[str] = field(default_factory=set)
    chases: dict[str, tuple[date, date]] = field(default_factory=dict)
    told_school: bool = False
    unsent: list[str] = field(default_factory=list)

    def add(self, entry: TimelineEntry) -> None:
        d = entry.detail
        kind = d.get(MESSAGE_TYPE)
        if entry.kind is EventKind.MESSAGE_RECEIVED and kind == cme.CROSS_BORDER_CONFIRMATION:
            self.confirmations.append(
                Confirmation(
                    str(entry.message_id),
                    bool(d.get(ACCEPTS)),
                    str(d.get(OUTCOME)),
                    entry.at.date(),
                )
            )
        elif entry.kind is EventKind.MESSAGE_RECEIVED:
            self._notified(entry)
        elif entry.kind is EventKind.MESSAGE_SENT and kind == cme.CROSS_BORDER_NOTIFICATION:
            respond_by = date.fromisoformat(str(d[RESPOND_BY]))
            self.notification = (str(d[RECIPIENT]), entry.at.date(), respond_by)
        elif entry.kind is EventKind.MESSAGE_SENT and kind == cme.ENQUIRIES_COMPLETE:
            self.told_school = True
        elif entry.kind is EventKind.ENQUIRY_OVERDUE and d.get(ACTION) == "chase":
            first = date.fromisoformat(str(d[FIRST_RESPOND_BY]))
            # The sweep's own day (a sweep may run as of another day than the clock's).
            chased = date.fromisoformat(str(d[CHASED_ON])) if CHASED_ON in d else entry.at.date()
            self.chases[str(d[ENQUIRY])] = (chased, first)
        elif entry.kind is EventKind.ESCALATED:
            self.escalated.add(str(d.get(SCOPE)))
        elif entry.kind is EventKind.NOTE and d.get("not_sent"):
            self.unsent.append(str(d.get(RECIPIENT)))

    def _notified(self, entry: TimelineEntry) -> None:
        d = entry.detail
        if d.get(SENDER):
            self.notifiers.append(str(d[SENDER]))
        if d.get(GROUND):
            self.ground = DeletionGround(str(d[GROUND]))
        self.destination_la = str(d[DESTINATION_LA]) if d.get(DESTINATION_LA) else None
        self.previous_la = str(d[PREVIOUS_LA]) if d.get(PREVIOUS_LA) else self.previous_la
        if d.get(REPLY_DUE):
            self.reply_due = date.fromisoformat(str(d[REPLY_DUE]))
        if d.get(PEER_CASE) and d.get(NOTIFICATION):
            self.peer = (str(d[SENDER]), str(d[PEER_CASE]), UUID(str(d[NOTIFICATION])))
