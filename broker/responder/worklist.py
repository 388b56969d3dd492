"""The work list: what a responding team must answer or take on, with its deadline.

One table for every responding agency on this endpoint's database. Items are keyed by an
opaque random id (what a person types: `enquiries answer <id>`); the enquiry itself is stored
encrypted (`cipher.py`) only while the item is pending, then cleared.
"""

import json
import secrets
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from broker.clock import Clock
from broker.directory.tables import as_utc
from broker.responder.cipher import ItemBinding, WorkCipher
from broker.responder.errors import (
    AlreadyClosed,
    WorkItemNotFound,
    WorkItemUndecryptable,
    WrongKind,
)
from broker.responder.model import (
    Closure,
    Finding,
    InboundRef,
    NewWorkItem,
    WorkItemDetail,
    WorkItemSummary,
    WorkKind,
    WorkState,
)
from broker.responder.tables import WorkItemRow
from schemas.base import WireModel
from schemas.errors import SchemaError
from schemas.registry import default_registry

MAX_REASON: Final = 40
SEALED_FORMAT: Final = 2
"""The sealed plaintext: `{"sealed_format": 2, "message": {...}, "finding": {...} | null}`.
Format 1 (items stored before findings existed) is the message alone."""
_FINDING: TypeAdapter[Finding] = TypeAdapter(Finding)


def _new_id() -> str:
    """An opaque id a person can type (48 random bits; the primary key catches a collision)."""
    return secrets.token_hex(6)


class WorkList:
    """The responders' work list on one database."""

    def __init__(self, engine: Engine, cipher: WorkCipher, clock: Clock) -> None:
        self.engine = engine
        self._cipher = cipher
        self._clock = clock

    def today(self) -> date:
        """The day deadlines are judged against (the clock's UTC date)."""
        return self._clock().date()

    # -- writing (inside the caller's transaction) -------------------------------------------

    def seen(self, session: Session, ref: InboundRef, kind: WorkKind) -> bool:
        """Whether this message already has an item of this kind (a re-delivery)."""
        query = select(WorkItemRow.id).where(
            WorkItemRow.agency_id == ref.agency_id,
            WorkItemRow.sender == ref.sender,
            WorkItemRow.message_id == str(ref.message_id),
            WorkItemRow.kind == kind.value,
        )
        return session.exec(query).first() is not None

    def add(self, session: Session, item: NewWorkItem, closed: Closure | None = None) -> str:
        """Put an item on the list (pending, its message encrypted), or record one closed on
        arrival (`closed`: an automatic answer; nothing personal is kept). Returns its id."""
        item_id = _new_id()
        ref = item.inbound
        now = self._clock()
        payload = None
        if closed is None and item.payload is not None:
            plaintext = _plaintext(item.payload, item.finding)
            payload = self._cipher.seal(plaintext, ItemBinding(ref.agency_id, item_id))
        row = WorkItemRow(
            id=item_id,
            agency_id=ref.agency_id,
            kind=item.kind.value,
            state=closed.state.value if closed else WorkState.PENDING.value,
            sender=ref.sender,
            message_id=str(ref.message_id),
            message_type=ref.message_type,
            schema_version=ref.schema_version,
            correlation_id=str(ref.correlation_id) if ref.correlation_id else None,
            case_ref=item.case_ref,
            reason=item.reason[:MAX_REASON],  # a code; never fail a delivery over its length
            same_day=item.same_day,
            respond_by=item.respond_by,
            received_at=now,
            payload=payload,
        )
        if closed is not None:
            _apply(row, closed, now)
        session.add(row)
        session.flush()  # the unique key refuses a second item for one message here
        return item_id

    def take(
        self, session: Session, agency_id: str, item_id: str, kinds: Collection[WorkKind]
    ) -> WorkItemDetail:
        """A pending item of one of `kinds`, decrypted, for the caller to act on and `close`."""
        row = self._row(session, agency_id, item_id)
        if WorkKind(row.kind) not in kinds:
            raise WrongKind(f"a {row.kind} item cannot be closed this way")
        if row.state != WorkState.PENDING.value:
            raise AlreadyClosed(f"the item is already {row.state}")
        return self._detail(row)

    def close(self, session: Session, agency_id: str, item_id: str, closure: Closure) -> None:
        """Close a pending item and forget its message. Only one closer wins: the update is
        conditional on the item still being pending (two officers, one answer)."""
        now = self._clock()
        result = session.execute(
            update(WorkItemRow)
            .where(
                col(WorkItemRow.id) == item_id,
                col(WorkItemRow.agency_id) == agency_id,
                col(WorkItemRow.state) == WorkState.PENDING.value,
            )
            .values(
                state=closure.state.value,
                payload=None,
                closed_at=now,
                closed_by=closure.actor,
                outcome=closure.outcome,
                response_message_id=_str(closure.response_message_id),
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise AlreadyClosed("the item was closed by someone else")

    # -- reading ---------------------------------------------------------------------------

    def items(
        self,
        agency_id: str,
        *,
        kinds: Collection[WorkKind] | None = None,
        include_closed: bool = False,
    ) -> list[WorkItemSummary]:
        """The agency's items, most urgent first: same-day, then by respond-by day (none
        last), then oldest. Pending only unless `include_closed`."""
        with Session(self.engine) as session:
            query = select(WorkItemRow).where(WorkItemRow.agency_id == agency_id)
            if not include_closed:
                query = query.where(WorkItemRow.state == WorkState.PENDING.value)
            if kinds is not None:
                query = query.where(col(WorkItemRow.kind).in_([k.value for k in kinds]))
            rows = session.exec(query).all()
        today = self.today()
        summaries = [_summary(row, today) for row in rows]
        return sorted(
            summaries,
            key=lambda s: (
                s.state is not WorkState.PENDING,
                not s.same_day,
                s.respond_by or date.max,
                s.received_at,
            ),
        )

    def detail(self, agency_id: str, item_id: str) -> WorkItemDetail:
        """One pending item with its decrypted message (personal data)."""
        with Session(self.engine) as session:
            row = self._row(session, agency_id, item_id)
        if row.payload is None:
            raise AlreadyClosed(f"the item is {row.state}: its message is no longer kept")
        return self._detail(row)

    def _row(self, session: Session, agency_id: str, item_id: str) -> WorkItemRow:
        row = session.get(WorkItemRow, item_id)
        if row is None or row.agency_id != agency_id:
            raise WorkItemNotFound("no such item on this agency's work list")
        return row

    def _detail(self, row: WorkItemRow) -> WorkItemDetail:
        if row.payload is None:
            raise WorkItemUndecryptable("the item holds no message", reason="work_item_empty")
        plaintext = self._cipher.open(row.payload, ItemBinding(row.agency_id, row.id))
        try:
            message, finding = _unpack(json.loads(plaintext))
            payload = default_registry().validate(row.message_type, row.schema_version, message)
            found = _FINDING.validate_python(finding) if finding is not None else None
        except (SchemaError, ValidationError, ValueError):
            raise WorkItemUndecryptable(
                "the stored message no longer validates", reason="work_item_unreadable"
            ) from None
        return WorkItemDetail(_summary(row, self.today()), _inbound(row), payload, found)


def _plaintext(message: WireModel, finding: Finding | None) -> bytes:
    """What is sealed: the message and what the source found (format 2)."""
    return json.dumps(
        {
            "sealed_format": SEALED_FORMAT,
            "message": message.model_dump(mode="json"),
            "finding": _FINDING.dump_python(finding, mode="json") if finding else None,
        }
    ).encode()


def _unpack(document: Any) -> tuple[Any, Any]:
    """The message and the finding of a sealed plaintext, of either format."""
    if isinstance(document, dict) and document.get("sealed_format") == SEALED_FORMAT:
        return document.get("message"), document.get("finding")
    return document, None  # format 1: the message alone


def _apply(row: WorkItemRow, closure: Closure, now: datetime) -> None:
    row.state = closure.state.value
    row.closed_at = now
    row.closed_by = closure.actor
    row.outcome = closure.outcome
    row.response_message_id = _str(closure.response_message_id)


def _str(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def _summary(row: WorkItemRow, today: date) -> WorkItemSummary:
    state = WorkState(row.state)
    late = row.respond_by is not None and row.respond_by < today
    return WorkItemSummary(
        item_id=row.id,
        kind=WorkKind(row.kind),
        state=state,
        sender=row.sender,
        case_ref=row.case_ref,
        reason=row.reason,
        received_at=as_utc(row.received_at),
        respond_by=row.respond_by,
        same_day=row.same_day,
        overdue=state is WorkState.PENDING and late,
        closed_at=as_utc(row.closed_at) if row.closed_at else None,
        closed_by=row.closed_by,
        outcome=row.outcome,
    )


def _inbound(row: WorkItemRow) -> InboundRef:
    return InboundRef(
        agency_id=row.agency_id,
        sender=row.sender,
        message_id=UUID(row.message_id),
        message_type=row.message_type,
        schema_version=row.schema_version,
        correlation_id=UUID(row.correlation_id) if row.correlation_id else None,
    )
