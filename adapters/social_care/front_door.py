"""Children's social care's front door: safeguarding escalations received, and alerts about
known children the LA is looking for, on the work list for a person to take on (same day when
a child protection plan, care or risk of harm is involved: Children Act 1989 s17/s47)."""

from datetime import timedelta

import structlog
from sqlmodel import Session

from broker.envelope import Opened
from broker.responder import InboundRef, NewWorkItem, WorkItemSummary, WorkKind, WorkList
from broker.responder.model import ESCALATION_RECEIVED
from schemas.messages.safeguarding import EscalationV1

log = structlog.get_logger(__name__)
FRONT_DOOR_KINDS = frozenset({WorkKind.ESCALATION, WorkKind.ALERT})


class FrontDoor:
    """Records escalations for the front door and lists what waits there."""

    def __init__(self, agency_id: str, work: WorkList, escalation_days: int = 1) -> None:
        self.agency_id = agency_id
        self._work = work
        self._days = escalation_days

    def receive(self, session: Session, opened: Opened) -> None:
        """The handler for `safeguarding.escalation` (inside its inbox transaction)."""
        escalation = opened.payload
        if not isinstance(escalation, EscalationV1):
            log.warning("front_door.not_an_escalation", message_type=opened.claims.cme_type)
            return
        ref = InboundRef.of(self.agency_id, opened)
        if self._work.seen(session, ref, WorkKind.ESCALATION):
            log.info("front_door.duplicate", agency=self.agency_id)
            return
        today = self._work.today()
        same_day = escalation.same_day_required
        item = NewWorkItem(
            kind=WorkKind.ESCALATION,
            inbound=ref,
            reason=ESCALATION_RECEIVED,
            # Same day: due today. Otherwise within the front door's own standard.
            respond_by=today if same_day else today + timedelta(days=self._days),
            case_ref=escalation.case_ref,
            same_day=same_day,
            payload=escalation,
        )
        item_id = self._work.add(session, item)
        log.info("front_door.escalation", agency=self.agency_id, item=item_id, same_day=same_day)

    def waiting(self, *, include_closed: bool = False) -> list[WorkItemSummary]:
        """What waits at the front door, same-day first."""
        return self._work.items(
            self.agency_id, kinds=FRONT_DOOR_KINDS, include_closed=include_closed
        )
