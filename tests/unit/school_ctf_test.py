"""Common Transfer File XML: an outgoing CTF's leavers, the destination school or the lost-pupil
`XXX`/`XXXX`, and a parser that refuses DTDs and entities."""

import time
from datetime import date

import pytest

from adapters.school.ctf import Node, read_ctf, read_header
from adapters.school.ctf import parse_xml as parse
from adapters.school.errors import UnreadableFile, WrongSchool
from adapters.school.events import Leaver
from adapters.school.rows import ParsedRow, RowProblem
from schemas.domain import DeletionGround
from tests.unit.school_builders import child, ctf_file, ctf_pupil, parents

LAESTAB = "3304000"


def pupil_lines(data: bytes) -> list[int]:
    """The line each `<Pupil>` starts on, counted from 1."""
    lines = data.decode().splitlines()
    return [n for n, line in enumerate(lines, start=1) if line.strip() == "<Pupil>"]


def _leavers(rows: list[ParsedRow | RowProblem]) -> list[Leaver]:
    events = [r.event for r in rows if isinstance(r, ParsedRow)]
    assert all(isinstance(e, Leaver) for e in events)
    return [e for e in events if isinstance(e, Leaver)]


def test_a_ctf_to_a_named_school_gives_leavers_on_ground_a_with_that_school() -> None:
    first, second = child(1), child(2)
    data = ctf_file("330", "4001", ctf_pupil(first), ctf_pupil(second, leaving=None))
    (one, two) = _leavers(list(read_ctf(data, LAESTAB)))
    assert one.ground is DeletionGround.A
    assert one.named_school is not None
    assert one.named_school.laestab == "3304001"
    assert one.named_school.name == "Example Park Academy"
    assert one.deletion_date == date(2026, 10, 30)  # the school history's leaving date
    assert two.deletion_date == date(2026, 11, 2)  # else the file's date
    assert one.child.upn == first.upn
    assert one.child.addresses[0].postcode == first.addresses[0].postcode
    assert one.year_group == "5"
    assert [p.relationship for p in one.parents] == ["parent"]  # not the neighbour
    assert one.parents[0].emergency_phone == parents(first)[0].emergency_phone


def test_xxx_xxxx_means_destination_unknown_and_needs_the_ground() -> None:
    data = ctf_file("XXX", "XXXX", ctf_pupil(child(1)), ctf_pupil(child(2)))
    header = read_header(parse(data))
    assert header.destination == "XXXXXXX"
    rows = list(read_ctf(data, LAESTAB))
    assert all(isinstance(r, RowProblem) and r.reason == "ground_required" for r in rows)
    assert [r.line for r in rows] == pupil_lines(data)
    (one, _) = _leavers(list(read_ctf(data, LAESTAB, DeletionGround.G)))
    assert one.ground is DeletionGround.G
    assert one.new_school is not None
    assert one.new_school.school.is_unknown
    assert one.named_school is None
    assert not one.destination_known


def test_a_bad_pupil_is_reported_at_its_line_and_the_others_still_come_through() -> None:
    good = ctf_pupil(child(1))
    bad = ctf_pupil(child(2)).replace("<DOB>", "<DOB>not-a-date")
    data = ctf_file("330", "4001", good, bad)
    rows = list(read_ctf(data, LAESTAB))
    assert isinstance(rows[0], ParsedRow)
    assert isinstance(rows[1], RowProblem)
    assert rows[1].line == pupil_lines(data)[1]
    assert rows[1].detail.startswith("date_of_birth: ")


def test_another_schools_ctf_is_refused_as_a_whole() -> None:
    with pytest.raises(WrongSchool) as caught:
        list(read_ctf(ctf_file("330", "4000", ctf_pupil(child(1)), source="4001"), LAESTAB))
    assert caught.value.reason == "ctf_not_from_this_school"


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE CTfile [<!ENTITY a "aaaa">]><CTfile>&a;</CTfile>',
        b'<?xml version="1.0"?><!DOCTYPE CTfile SYSTEM "file:///etc/passwd"><CTfile/>',
    ],
)
def test_a_dtd_is_refused_so_no_entity_is_ever_expanded(document: bytes) -> None:
    with pytest.raises(UnreadableFile) as caught:
        parse(document)
    assert caught.value.reason == "xml_dtd_refused"


def test_malformed_xml_and_a_non_ctf_are_refused() -> None:
    with pytest.raises(UnreadableFile, match="malformed_xml"):
        parse(b"<CTfile><Header></CTfile>")
    with pytest.raises(UnreadableFile, match="not_a_ctf"):
        list(read_ctf(b"<Other/>", LAESTAB))


def test_nesting_too_deep_is_refused_not_a_recursion_error() -> None:
    deep = "<Pupil>" + "<Extra>" * 5000 + "</Extra>" * 5000 + "</Pupil>"
    with pytest.raises(UnreadableFile) as caught:
        list(read_ctf(ctf_file("330", "4001", deep), LAESTAB))
    assert caught.value.reason == "xml_too_deep"


def test_a_deep_tree_is_walked_without_recursion() -> None:
    root = Node("CTfile", 1)
    node = root
    for line in range(2, 20_000):
        child_node = Node("Pupil", line)
        node.children.append(child_node)
        node = child_node
    assert sum(1 for _ in root.iter("Pupil")) == 19_998


def test_a_huge_text_node_is_read_in_linear_time() -> None:
    text = "x\n" * 500_000  # 1 MB of short lines: one callback per line, were it not buffered
    data = f"<CTfile><Header><DocumentName>{text}</DocumentName></Header></CTfile>".encode()
    started = time.monotonic()
    root = parse(data)
    assert time.monotonic() - started < 3  # seconds; quadratic concatenation took ~20
    header = root.child("Header")
    assert header is not None
    assert header.get("DocumentName") == text.strip()
