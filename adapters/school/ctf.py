"""Common Transfer File (CTF) XML: the leavers of an outgoing CTF as deletion events.

The header says who the file is from and to: `SourceSchool` must be this school (a CTF *to*
this school is refused: a joiner's new pupil return waits until the MIS enters the pupil on
the register, and comes through the CSV export). `DestSchool` names the new school (LEA +
Estab = its LAESTAB), or, as LA `XXX` and school `XXXX`, says the destination is unknown (the
lost-pupil convention). Each `Pupil` becomes a `Leaver`: the new school is named (a
destination check follows) or `XXXXXXX` (destination unknown).

A CTF does not carry the reg 9 ground. A file to a named school defaults to 9(1)(a)
(registered at another school: the CTF goes to where the pupil registers); a lost-pupil file
needs the ground from the person importing it, else each pupil is reported, not guessed.

The parser is the standard library's expat with every DTD refused, so no entity (internal or
external) is ever declared or expanded; line numbers of each `Pupil` locate bad rows. Nesting
deeper than `MAX_DEPTH` is refused (a CTF is a dozen levels deep), and the tree is walked
without recursion, so no file can exhaust the stack; text is gathered in pieces and joined
once, so a huge text node costs linear time.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final
from xml.parsers import expat

from pydantic import ValidationError

from adapters.school.errors import UnreadableFile, WrongSchool
from adapters.school.events import EVENT
from adapters.school.rows import ParsedRow, RowProblem, problem_from_validation
from schemas.domain import DeletionGround
from schemas.identifiers import LOST_PUPIL_LAESTAB

_RELATIONSHIPS: Final = {"PAR": "parent", "CAR": "carer", "STP": "step-parent", "FOF": "foster"}
MAX_DEPTH: Final = 64
"""The deepest element nesting read (a CTF's is about a dozen levels)."""
Data = dict[str, Any]


@dataclass
class Node:
    """An element: its local name, the line it starts on, its text and children."""

    tag: str
    line: int
    text: str = ""
    children: list["Node"] = field(default_factory=list)

    def child(self, *names: str) -> "Node | None":
        """The first child with one of `names`."""
        return next((c for c in self.children if c.tag in names), None)

    def get(self, *path: str) -> str | None:
        """The stripped text at `path` (child names), or None when absent or empty."""
        node: Node | None = self
        for name in path:
            node = node.child(*name.split("|")) if node else None
        text = node.text.strip() if node else ""
        return text or None

    def iter(self, tag: str) -> Iterator["Node"]:
        """Every descendant named `tag`, in document order (an explicit stack, no
        recursion)."""
        pending = list(reversed(self.children))
        while pending:
            node = pending.pop()
            if node.tag == tag:
                yield node
            pending.extend(reversed(node.children))


def parse_xml(data: bytes) -> Node:
    """The document's root element. Refuses a DTD (and so every entity), nesting deeper than
    `MAX_DEPTH`, and malformed XML."""
    parser = expat.ParserCreate()
    parser.buffer_text = True  # one text callback per run of text, not one per line
    root: list[Node] = []
    stack: list[tuple[Node, list[str]]] = []  # open elements and their text so far

    def refuse(*_args: object) -> None:
        raise UnreadableFile("xml_dtd_refused", "a CTF needs no DTD; entities are not allowed")

    def start(name: str, _attrs: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            detail = f"elements nested more than {MAX_DEPTH} deep: not a CTF"
            raise UnreadableFile("xml_too_deep", detail)
        node = Node(name.rpartition(":")[2], parser.CurrentLineNumber)
        (stack[-1][0].children if stack else root).append(node)
        stack.append((node, []))

    def end(_name: str) -> None:
        node, parts = stack.pop()
        node.text = "".join(parts)

    def text(chars: str) -> None:
        if stack:
            stack[-1][1].append(chars)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise UnreadableFile("malformed_xml", f"not well-formed XML (line {exc.lineno})") from None
    if not root:
        raise UnreadableFile("malformed_xml", "no root element")
    return root[0]


@dataclass(frozen=True, slots=True)
class CtfHeader:
    """Who the file is from and to (LAESTABs; `XXXXXXX` for a destination unknown)."""

    source: str
    destination: str
    destination_name: str | None
    written_on: date | None


def read_header(root: Node) -> CtfHeader:
    """The header's source and destination schools."""
    header = root.child("Header")
    if root.tag != "CTfile" or header is None:
        raise UnreadableFile("not_a_ctf", "no CTfile root with a Header")
    source = (header.get("SourceSchool", "LEA") or "") + (header.get("SourceSchool", "Estab") or "")
    lea = (header.get("DestSchool", "LEA") or "XXX").upper()
    estab = (header.get("DestSchool", "Estab") or "XXXX").upper()
    written = header.get("DateTime")
    try:
        written_on = date.fromisoformat(written[:10]) if written else None
    except ValueError:
        raise UnreadableFile("not_a_ctf", "Header DateTime is not a date") from None
    return CtfHeader(source, lea + estab, header.get("DestSchool", "SchoolName"), written_on)


def read_ctf(
    data: bytes, laestab: str, ground: DeletionGround | None = None
) -> Iterator[ParsedRow | RowProblem]:
    """The leavers of an outgoing CTF of school `laestab`."""
    root = parse_xml(data)
    header = read_header(root)
    if header.source != laestab:
        raise WrongSchool("ctf_not_from_this_school", "the CTF's SourceSchool is another school")
    lost = header.destination == LOST_PUPIL_LAESTAB
    chosen = ground or (None if lost else DeletionGround.A)
    for pupil in root.iter("Pupil"):
        if chosen is None:
            detail = "a lost-pupil CTF does not say why the pupil left: give the ground"
            yield RowProblem(pupil.line, "ground_required", detail)
            continue
        data_ = _leaver(pupil, header, laestab, chosen)
        try:
            yield ParsedRow(pupil.line, EVENT.validate_python(data_))
        except ValidationError as exc:
            yield problem_from_validation(pupil.line, "deletion", exc)


def _leaver(pupil: Node, header: CtfHeader, laestab: str, ground: DeletionGround) -> Data:
    address = _address(pupil.child("Address"))
    child: Data = {
        "forenames": pupil.get("Forename"),
        "surname": pupil.get("Surname"),
        "former_surnames": [s for s in [pupil.get("FormerSurname")] if s],
        "date_of_birth": pupil.get("DOB"),
        "sex": (pupil.get("Sex|Gender") or "U")[0].upper(),
        "upn": pupil.get("UPN"),
        "addresses": [address] if address else [],
    }
    school: Data = {"laestab": header.destination}
    if header.destination != LOST_PUPIL_LAESTAB and header.destination_name:
        school["name"] = header.destination_name
    return {
        "kind": "deletion",
        "child": child,
        "ground": ground.value,
        "deletion_date": _leaving_date(pupil, laestab) or header.written_on,
        "year_group": pupil.get("NCyearActual"),
        "parents": _parents(pupil, address),
        "new_school": {"school": school},
    }


def _leaving_date(pupil: Node, laestab: str) -> str | None:
    """The leaving date the pupil's school history gives for this school."""
    for school in pupil.iter("School"):
        if (school.get("LEA") or "") + (school.get("Estab") or "") == laestab:
            return school.get("LeavingDate")
    return None


def _address(node: Node | None) -> Data | None:
    """A BS7666 address (SAON, PAON, Street, Locality, Town) or free address lines (the last
    one taken for the town)."""
    if node is None:
        return None
    bs7666 = node.child("BS7666Address")
    if bs7666 is not None:
        first = " ".join(p for p in (bs7666.get(t) for t in ("SAON", "PAON", "Street")) if p)
        lines = [line for line in (first, bs7666.get("Locality")) if line]
        town = bs7666.get("Town|PostTown")
    else:
        block = node.child("AddressLines")
        values = [block.get(f"AddressLine{n}") for n in range(1, 6)] if block else []
        present = [v for v in values if v]
        lines, town = (present[:-1], present[-1]) if len(present) > 1 else (present, None)
    if not lines:
        return None
    return {"lines": lines, "town": town or lines[-1], "postcode": node.get("PostCode")}


def _parents(pupil: Node, address: Data | None) -> list[Data]:
    """Up to two contacts with parental responsibility (reg 13: the parents the pupil lives
    with, whose address is the pupil's)."""
    contacts = pupil.child("Contacts")
    found = []
    for contact in contacts.children if contacts else []:
        responsible = contact.get("Responsibility|ParentalResponsibility") or ""
        if responsible.lower() not in ("true", "1", "y", "yes"):
            continue
        name = " ".join(p for p in (contact.get("Forename"), contact.get("Surname")) if p)
        code = (contact.get("RelationshipCode") or "PAR").upper()
        phone = next(contact.iter("TelephoneNumber"), None) or next(contact.iter("Number"), None)
        found.append(
            {
                "name": name,
                "relationship": _RELATIONSHIPS.get(code, "parent"),
                "address": address,
                "emergency_phone": phone.text.strip() if phone else None,
            }
        )
    return found[:2]
