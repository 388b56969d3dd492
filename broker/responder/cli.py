"""`cme-broker enquiries ...`: a responding team's work list (health, housing, social care).

No logic here: each command calls the work list or the responder. `list` shows no personal data;
`show` does (it is for the person answering). Answers are staged in the agency's outbox; the
agency's `run` command publishes them.
"""

import getpass
from datetime import date
from typing import Annotated

import typer
from pydantic import TypeAdapter, ValidationError
from rich.table import Table

from broker.cli.context import console, container, refusals
from broker.responder.answer import LocateAnswer
from broker.responder.app import build_responder, open_work_list
from broker.responder.errors import AnswerInvalid
from broker.responder.model import Finding, WorkItemDetail, WorkItemSummary
from broker.responder.settings import ResponderSettings
from schemas.child import Address
from schemas.identifiers import Postcode
from schemas.messages.cme import LocateEnquiryV1, LocateOutcome
from schemas.messages.safeguarding import EscalationV1

enquiries_app = typer.Typer(help="A responding team's work list: enquiries a person answers.")
As = Annotated[
    str, typer.Option("--as", help="The responding agency, e.g. health:M85001, housing:330-ta")
]
By = Annotated[str, typer.Option("--by", help="Who answers (a user id, e.g. user:jsmith)")]
ItemId = Annotated[str, typer.Argument(help="The work item's id (from `enquiries list`)")]
_POSTCODE: TypeAdapter[str] = TypeAdapter(Postcode)


def default_actor() -> str:
    """The operating-system user, as `user:<name>`."""
    return f"user:{getpass.getuser()}"


def parse_address(text: str) -> Address:
    """`"12 Example Road, Flat 2, Birmingham, ZZ99 1AB"`: comma-separated lines, then the town,
    then (optionally) the postcode. Errors name the rule, never the text."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    postcode = None
    if parts:
        try:
            postcode = _POSTCODE.validate_python(parts[-1])
            parts = parts[:-1]
        except ValidationError:
            postcode = None  # no postcode given: the last part is the town
    if len(parts) < 2:
        raise AnswerInvalid("an address needs at least one line and a town, comma-separated")
    try:
        return Address(lines=tuple(parts[:-1]), town=parts[-1], postcode=postcode)
    except ValidationError:
        raise AnswerInvalid("an address has 1-4 lines of up to 200 characters and a town") from None


def print_items(items: list[WorkItemSummary], title: str) -> None:
    """The work list as a table (no personal data)."""
    table = Table("id", "kind", "state", "from", "case", "why", "received", "respond by", "")
    for item in items:
        flags = " ".join(
            f for f, on in (("SAME DAY", item.same_day), ("OVERDUE", item.overdue)) if on
        )
        table.add_row(
            item.item_id,
            item.kind.value,
            item.state.value if item.outcome is None else f"{item.state.value}: {item.outcome}",
            item.sender,
            item.case_ref or "-",
            item.reason,
            item.received_at.strftime("%Y-%m-%d %H:%M"),
            str(item.respond_by or "-"),
            flags,
        )
    console.print(table)
    console.print(f"{len(items)} {title}")


@enquiries_app.command("list")
def list_items(
    as_agency: As,
    closed: Annotated[bool, typer.Option("--all", help="Include answered items")] = False,
) -> None:
    """What waits for a person, most urgent first, with its deadline (no personal data)."""
    with refusals():
        work = open_work_list(container(), ResponderSettings())
        items = work.items(as_agency, include_closed=closed)
    print_items(items, "item(s)")


@enquiries_app.command("show")
def show(item_id: ItemId, as_agency: As) -> None:
    """One waiting item with the child's details (this shows personal data)."""
    with refusals():
        detail = open_work_list(container(), ResponderSettings()).detail(as_agency, item_id)
    print_detail(detail)


def print_detail(detail: WorkItemDetail) -> None:
    """An item's message, as the person acting on it needs it."""
    s, payload = detail.summary, detail.payload
    console.print(f"[bold]{s.item_id}[/bold] {s.kind.value} from {s.sender}, case "
                  f"{s.case_ref or '-'}; waiting because {s.reason}; respond by "
                  f"{s.respond_by or '-'}{' (OVERDUE)' if s.overdue else ''}")  # fmt: skip
    if isinstance(payload, LocateEnquiryV1):
        child = payload.child
        console.print(f"child: {child.forenames} {child.surname}, born {child.date_of_birth}, "
                      f"sex {child.sex.value}")  # fmt: skip
        if child.former_surnames:
            console.print("former surnames: " + ", ".join(child.former_surnames))
        if child.nhs_number:
            console.print(f"NHS number: {child.nhs_number}")
        if child.last_known_address:
            console.print("last known address: " + _one_line(child.last_known_address))
        console.print("asked: " + ", ".join(q.value for q in payload.questions))
        console.print("risk flags: " + (", ".join(f.value for f in payload.risk_flags) or "-"))
    elif isinstance(payload, EscalationV1):
        who = payload.child
        console.print(f"child: {who.forenames} {who.surname}, born {who.date_of_birth}")
        console.print(f"from: {payload.from_agency}; same day: {payload.same_day_required}")
        console.print("risk flags: " + ", ".join(f.value for f in payload.risk_flags))
        console.print(f"why: {payload.reason}")
    if detail.finding is not None:
        print_finding(detail.finding)


def print_finding(finding: Finding) -> None:
    """What the records hold that was not sent: the person judges whether it locates the
    child (answer `found` only for where the child lives now)."""
    console.print("[bold]the records hold (NOT sent to the LA; judge before answering):[/bold]")
    console.print(finding.note)
    if finding.address is not None:
        console.print("address on the record: " + _one_line(finding.address))
    if finding.registered_gp is not None:
        console.print(f"registered GP practice: {finding.registered_gp}")
    console.print(f"as of: {finding.evidence_date}")


def _one_line(address: Address) -> str:
    return ", ".join((*address.lines, address.town, address.postcode or ""))


@enquiries_app.command("answer")
def answer(
    item_id: ItemId,
    outcome: Annotated[
        LocateOutcome,
        typer.Option(
            help="found (only for where the child lives now: the LA reads it as located), "
            "not_found or known_withheld"
        ),
    ],
    as_agency: As,
    gp: Annotated[str | None, typer.Option(help="Registered GP practice (ODS code)")] = None,
    address: Annotated[
        str | None, typer.Option(help='Current address: "line 1, line 2, town, postcode"')
    ] = None,
    evidence_date: Annotated[
        str | None, typer.Option(help="When the record was last confirmed (default: today)")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A short note for the LA")] = None,
    refer: Annotated[
        bool, typer.Option("--refer-to-social-care", help="Advise an immediate referral")
    ] = False,
    by: By = "",
) -> None:
    """Answer a waiting enquiry: the locate response is staged for the LA, once."""
    with refusals():
        the_container = container()
        work = open_work_list(the_container, ResponderSettings())
        evidence = _day(evidence_date) if evidence_date else work.today()
        reply = LocateAnswer(
            outcome=outcome,
            evidence_date=evidence,
            current_address=parse_address(address) if address else None,
            registered_gp=gp,
            refer_to_social_care=refer,
            note=note,
        )
        app = build_responder(the_container, as_agency, work)
        sealed = app.responder.answer(item_id, reply, by or default_actor())
    console.print(f"{item_id}: {outcome.value} staged for {sealed.claims.aud}")


@enquiries_app.command("acknowledge")
def acknowledge(item_id: ItemId, as_agency: As, by: By = "") -> None:
    """Take on an escalation or alert (nothing is sent)."""
    with refusals():
        the_container = container()
        work = open_work_list(the_container, ResponderSettings())
        build_responder(the_container, as_agency, work).responder.acknowledge(
            item_id, by or default_actor()
        )
    console.print(f"{item_id}: acknowledged")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AnswerInvalid("the evidence date is given as YYYY-MM-DD") from None
