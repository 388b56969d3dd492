"""The termly report on SQLite and PostgreSQL: a register with cases on both sides of the
autumn 2026 term's edges (census day Thursday 1 October 2026), exact counts for every table,
the files `write_report` makes, and no personal data in any of them.

The cases (times UTC, 10:00 unless given; "London" where summer time moves the day):

| case | opened | then | reason, trigger, flags |
|---|---|---|---|
| A | 2026-06-01 | closed on roll 2026-08-20 (before the term) | other |
| B | 2026-07-01 | awaiting receiving LA 2026-11-20 | unknown, cross_border_in |
| C | 2026-09-17 (census - 14 days) | closed on roll 2026-10-15 | unknown |
| D | 2026-09-18 (census - 13 days) | - | arrived_from_other_la, cross_border_in, TA + SEND |
| E | 2026-10-05 | awaiting 2026-10-20, closed receiving_la_accepted 2026-11-10 | moved_other_la |
| F | 2025-08-01 | awaiting 2026-08-15 (before the term) | parental_decision, CP plan |
| G | 2026-09-02 | closed on roll 2026-09-20, reopened 2026-11-01 | waiting_start |
| H | 2026-12-20 | closed on roll 2027-01-05 (after the term) | unknown, TA |
| I | 2027-01-10 (after the term) | - | unknown |
| J | 2026-09-10 | EHE suitability check, not a CME case | unsuitable_ehe |
| K | 2026-08-31 23:30 (1 Sep London) | closed deceased 2026-12-31 23:30 | moved_abroad |
| L | 2026-03-01 | closed left_england 2026-12-01; the planted name | moved_abroad |
| M | 2026-05-01 | closed on roll 2026-06-01, reopened 2026-10-10 | no_application |
"""

import csv
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, event

from adapters.la.model import CaseKind, CaseState, EnquiryState, EnquiryTarget, Priority, Trigger
from adapters.la.records import CaseOpening, EnquiryChange, EnquiryDraft
from adapters.la.register import CaseRegister
from adapters.la.reporting import (
    DurationBand,
    ReportError,
    Term,
    TermReport,
    termly_report,
    write_report,
)
from schemas.case import ClosureOutcome
from schemas.domain import CmeReason, RiskFlag
from tests.clock import Clock
from tests.integration.la.children import child

AUTUMN = Term.parse("2026-autumn")
AFTER_THE_TERM = date(2027, 1, 15)
OFFICER = "user:cme-officer-1"
PLANTED_FORENAME, PLANTED_SURNAME = "Xanthippe", "Plantedname"
HEALTH, OTHER_LA, POLICE = "health:RX1", "la:202", "police:01"
Outcome = ClosureOutcome
TARGETS = {
    "health": EnquiryTarget.HEALTH,
    "la": EnquiryTarget.PREVIOUS_LA,
    "police": EnquiryTarget.POLICE,
}


def at(text: str) -> datetime:
    """A UTC instant from `YYYY-MM-DD` (10:00) or `YYYY-MM-DDTHH:MM`."""
    return datetime.fromisoformat(text if "T" in text else f"{text}T10:00").replace(tzinfo=UTC)


@dataclass
class Desk:
    """Drives the register on the hand clock: each call happens at the time it is given."""

    register: CaseRegister
    clock: Clock
    refs: dict[str, str] = field(default_factory=dict)
    """Case refs by the letters of the module docstring."""

    def open(
        self,
        when: str,
        reason: CmeReason,
        *,
        trigger: Trigger = Trigger.DELETION_RETURN,
        flags: tuple[RiskFlag, ...] = (),
        kind: CaseKind = CaseKind.CME,
        forenames: str = "Zephyrine",
        surname: str = "Quillfeather",
    ) -> str:
        self.clock.now = at(when)
        opening = CaseOpening(
            kind=kind,
            trigger=trigger,
            reason=reason,
            risk_flags=flags,
            priority=Priority.HIGH if flags else Priority.MEDIUM,
            actor="system",
            why=f"{forenames} {surname} was deleted from roll with destination unknown.",
        )
        return self.register.open_case(child(forenames=forenames, surname=surname), opening)

    def close(self, ref: str, when: str, outcome: ClosureOutcome) -> None:
        self.clock.now = at(when)
        self.register.close_case(ref, outcome, "Confirmed by the school office.", OFFICER, "ok")

    def reopen(self, ref: str, when: str) -> None:
        self.clock.now = at(when)
        self.register.reopen_case(ref, OFFICER, "Missing again.")

    def awaiting(self, ref: str, when: str) -> None:
        self.clock.now = at(when)
        self.register.set_state(ref, CaseState.AWAITING_RECEIVING_LA, OFFICER)

    def enquiry(
        self,
        ref: str,
        agency: str,
        created: str,
        respond_by: date,
        *,
        answered: str | None = None,
        state: EnquiryState = EnquiryState.SENT,
    ) -> None:
        self.clock.now = at(created)
        target = TARGETS[agency.partition(":")[0]]
        sent_at = None if state is EnquiryState.PLANNED else self.clock.now
        draft = EnquiryDraft(
            target=target, agency_id=agency, state=state, sent_at=sent_at, respond_by=respond_by
        )
        enquiry_id = self.register.record_enquiry(ref, draft, OFFICER)
        if answered is not None:
            self.clock.now = at(answered)
            change = EnquiryChange(
                state=EnquiryState.ANSWERED,
                answered_at=self.clock.now,
                outcome="known_at_address",
                evidence=f"Registered with a GP; {PLANTED_FORENAME} seen.",
            )
            self.register.update_enquiry(enquiry_id, change, OFFICER)


def build_cases(desk: Desk) -> dict[str, str]:
    """The cases of the module docstring; returns their refs by letter."""
    r, t, f = CmeReason, Trigger, RiskFlag
    refs = {
        "A": desk.open("2026-06-01", r.OTHER),
        "B": desk.open("2026-07-01", r.UNKNOWN, trigger=t.CROSS_BORDER_IN),
        "C": desk.open("2026-09-17", r.UNKNOWN),
        "D": desk.open(
            "2026-09-18",
            r.ARRIVED_FROM_OTHER_LA,
            trigger=t.CROSS_BORDER_IN,
            flags=(f.TEMPORARY_ACCOMMODATION, f.SEND_PROVISION_BROKEN_DOWN),
        ),
        "E": desk.open("2026-10-05", r.MOVED_OTHER_LA),
        "F": desk.open("2025-08-01", r.PARENTAL_DECISION, flags=(f.CHILD_PROTECTION_PLAN,)),
        "G": desk.open("2026-09-02", r.WAITING_START),
        "H": desk.open("2026-12-20", r.UNKNOWN, flags=(f.TEMPORARY_ACCOMMODATION,)),
        "I": desk.open("2027-01-10", r.UNKNOWN),
        "J": desk.open("2026-09-10", r.UNSUITABLE_EHE, kind=CaseKind.EHE_SUITABILITY),
        "K": desk.open("2026-08-31T23:30", r.MOVED_ABROAD),
        "L": desk.open(
            "2026-03-01", r.MOVED_ABROAD, forenames=PLANTED_FORENAME, surname=PLANTED_SURNAME
        ),
        "M": desk.open("2026-05-01", r.NO_APPLICATION),
    }
    desk.close(refs["A"], "2026-08-20", Outcome.ON_ROLL)
    desk.awaiting(refs["B"], "2026-11-20")
    desk.close(refs["C"], "2026-10-15", Outcome.ON_ROLL)
    desk.awaiting(refs["E"], "2026-10-20")
    desk.close(refs["E"], "2026-11-10", Outcome.RECEIVING_LA_ACCEPTED)
    desk.awaiting(refs["F"], "2026-08-15")
    desk.close(refs["G"], "2026-09-20", Outcome.ON_ROLL)
    desk.reopen(refs["G"], "2026-11-01")
    desk.close(refs["H"], "2027-01-05", Outcome.ON_ROLL)
    desk.close(refs["K"], "2026-12-31T23:30", Outcome.DECEASED)
    desk.close(refs["L"], "2026-12-01", Outcome.LEFT_ENGLAND)
    desk.close(refs["M"], "2026-06-01", Outcome.ON_ROLL)
    desk.reopen(refs["M"], "2026-10-10")
    return refs


def build_enquiries(desk: Desk, refs: dict[str, str]) -> None:
    """Enquiries due in the term and some that must not count."""
    d = date
    desk.enquiry(refs["C"], HEALTH, "2026-09-18", d(2026, 9, 25), answered="2026-09-25T16:00")
    desk.enquiry(refs["D"], HEALTH, "2026-10-01", d(2026, 10, 10), answered="2026-10-12")
    desk.enquiry(refs["B"], HEALTH, "2026-12-01", d(2026, 12, 10))
    desk.enquiry(refs["E"], OTHER_LA, "2026-10-12", d(2026, 10, 20), answered="2026-10-19")
    desk.enquiry(refs["B"], OTHER_LA, "2026-12-15", d(2026, 12, 31), answered="2027-01-04")
    desk.enquiry(refs["F"], OTHER_LA, "2026-12-05", d(2026, 12, 20), state=EnquiryState.OVERDUE)
    # 23:30 UTC on the 18th is 00:30 on the 19th in London: a day late.
    desk.enquiry(refs["M"], OTHER_LA, "2026-10-11", d(2026, 10, 18), answered="2026-10-18T23:30")
    # Not counted: due before the term, due after it, never sent, on an EHE check.
    desk.enquiry(refs["F"], POLICE, "2026-08-25", d(2026, 8, 30))
    desk.enquiry(refs["H"], POLICE, "2027-01-06", d(2027, 1, 20))
    desk.enquiry(refs["C"], HEALTH, "2026-09-18", d(2026, 10, 1), state=EnquiryState.PLANNED)
    desk.enquiry(refs["J"], HEALTH, "2026-09-12", d(2026, 9, 20))


@pytest.fixture
def desk_with_cases(register: CaseRegister, clock: Clock) -> Desk:
    desk = Desk(register, clock)
    desk.refs = build_cases(desk)
    build_enquiries(desk, desk.refs)
    return desk


@pytest.fixture
def report(desk_engine: Engine, desk_with_cases: Desk) -> TermReport:
    return termly_report(desk_engine, AUTUMN, today=AFTER_THE_TERM)


def nonzero(rows: tuple[Any, ...], key: str, *columns: str) -> dict[str, tuple[Any, ...]]:
    """Rows with any non-zero count, as {code: (counts...)}."""
    found = {}
    for row in rows:
        counts = tuple(getattr(row, c) for c in columns)
        if any(counts):
            code = getattr(row, key)
            found[code.value if code is not None else "none"] = counts
    return found


COHORTS = ("open_on_census_day", "ever_open", "opened", "closed")


def test_summary(report: TermReport) -> None:
    assert report.summary.model_dump() == {
        "open_on_census_day": 6,  # B C D F K L
        "ever_open": 10,  # B C D E F G H K L M
        "opened": 6,  # C D E G H K
        "closed": 5,  # C E G K L
        "reopened": 2,  # G M
        "open_at_end": 6,  # B D F G H M
        "cross_border_in": 1,  # D (B came in before the term)
        "cross_border_out": 2,  # B E
        "cross_border_out_notified": 2,  # B E (F's went before the term)
        "cross_border_out_accepted": 1,  # E
    }
    assert (report.term, report.start, report.end) == (AUTUMN, date(2026, 9, 1), date(2026, 12, 31))
    assert (report.census_day, report.as_of, report.made_on) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
        AFTER_THE_TERM,
    )
    assert report.complete


def test_by_reason(report: TermReport) -> None:
    assert [row.reason for row in report.by_reason] == list(CmeReason)
    assert nonzero(report.by_reason, "reason", *COHORTS) == {
        "unknown": (2, 3, 2, 1),
        "arrived_from_other_la": (1, 1, 1, 0),
        "moved_other_la": (0, 1, 1, 1),
        "parental_decision": (1, 1, 0, 0),
        "waiting_start": (0, 1, 1, 1),
        "moved_abroad": (2, 2, 1, 2),
        "no_application": (0, 1, 0, 0),
    }


def test_by_risk_flag_counts_a_case_in_each_of_its_groups(report: TermReport) -> None:
    assert [row.risk_flag for row in report.by_risk_flag] == [*RiskFlag, None]
    assert nonzero(report.by_risk_flag, "risk_flag", *COHORTS) == {
        "temporary_accommodation": (1, 2, 2, 0),
        "send_provision_broken_down": (1, 1, 1, 0),
        "child_protection_plan": (1, 1, 0, 0),
        "none": (4, 7, 4, 5),
    }


def test_by_duration_band(report: TermReport) -> None:
    by_band = {
        row.band: (row.open_on_census_day, row.closed, row.open_at_end)
        for row in report.by_duration
    }
    assert by_band == {
        # census: D 13 days; C exactly 14; K 30 (opened 1 Sep London); B 92; L 214; F 426
        # closed: G 18; C 28 (the band's lower edge); E 36; K 121; L 275
        # at end: H 11; G 60 (since its reopening); M 82; D 104; B 183; F 517
        DurationBand.UNDER_2_WEEKS: (1, 0, 1),
        DurationBand.WEEKS_2_TO_4: (1, 1, 0),
        DurationBand.WEEKS_4_TO_8: (1, 2, 0),
        DurationBand.WEEKS_8_TO_12: (0, 0, 2),
        DurationBand.WEEKS_12_TO_26: (1, 1, 1),
        DurationBand.WEEKS_26_TO_52: (1, 1, 1),
        DurationBand.OVER_52_WEEKS: (1, 0, 1),
    }


def test_by_outcome_and_time_to_locate(report: TermReport) -> None:
    assert nonzero(report.by_outcome, "outcome", "closed") == {
        "on_roll": (2,),
        "left_england": (1,),
        "receiving_la_accepted": (1,),
        "deceased": (1,),
    }
    # G 18, C 28, E 36, L 275 days; K (deceased) did not locate a child.
    assert report.time_to_locate.model_dump() == {
        "located": 4,
        "median_days": 32.0,
        "p90_days": 275,
    }


def test_enquiry_sla_per_agency(report: TermReport) -> None:
    assert [row.model_dump() for row in report.enquiry_sla] == [
        {
            "agency_id": HEALTH,
            "on_time": 1,
            "late": 1,
            "overdue": 1,
            "pending": 0,
            "compliance_pct": 33.3,
        },
        {
            "agency_id": OTHER_LA,
            "on_time": 1,
            "late": 2,  # one answered after the term, one a London day late
            "overdue": 1,
            "pending": 0,
            "compliance_pct": 25.0,
        },
    ]


def test_a_report_mid_term_counts_what_had_happened_by_then(
    desk_engine: Engine, desk_with_cases: Desk
) -> None:
    report = termly_report(desk_engine, AUTUMN, today=date(2026, 9, 20))
    assert (report.as_of, report.complete) == (date(2026, 9, 20), False)
    assert report.summary.model_dump() == {
        "open_on_census_day": None,  # the census day is still ahead
        "ever_open": 7,  # B C D F G K L (M's reopening is later)
        "opened": 4,  # C D G K
        "closed": 1,  # G
        "reopened": 0,
        "open_at_end": 6,  # B C D F K L
        "cross_border_in": 1,
        "cross_border_out": 0,
        "cross_border_out_notified": 0,
        "cross_border_out_accepted": 0,
    }
    assert all(row.open_on_census_day is None for row in report.by_duration)
    assert all(row.open_on_census_day is None for row in report.by_reason)
    at_end = {row.band: row.open_at_end for row in report.by_duration if row.open_at_end}
    assert at_end == {
        DurationBand.UNDER_2_WEEKS: 2,  # C 3, D 2
        DurationBand.WEEKS_2_TO_4: 1,  # K 19
        DurationBand.WEEKS_8_TO_12: 1,  # B 81
        DurationBand.WEEKS_26_TO_52: 1,  # L 203
        DurationBand.OVER_52_WEEKS: 1,  # F 415
    }
    assert report.time_to_locate.model_dump() == {"located": 1, "median_days": 18.0, "p90_days": 18}
    # The one enquiry recorded by then is due on the 25th: answered later, pending now.
    [health] = report.enquiry_sla
    assert (health.agency_id, health.pending, health.compliance_pct) == (HEALTH, 1, None)


def test_a_term_not_yet_started_has_no_report(desk_engine: Engine) -> None:
    with pytest.raises(ReportError) as refused:
        termly_report(desk_engine, Term.parse("2027-spring"), today=date(2026, 12, 31))
    assert refused.value.reason == "term_not_started"


def test_the_report_is_three_queries_however_many_cases(
    desk_engine: Engine, desk_with_cases: Desk
) -> None:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2]
        if "desk_" in statement:
            statements.append(statement)

    event.listen(desk_engine, "before_cursor_execute", record)
    try:
        termly_report(desk_engine, AUTUMN, today=AFTER_THE_TERM)
    finally:
        event.remove(desk_engine, "before_cursor_execute", record)
    assert len(statements) == 3
    # Named columns only: no encrypted column is even fetched.
    for column in ("identity", "closure_evidence", "evidence", "why"):
        assert all(f".{column}" not in s for s in statements), column


def test_an_empty_register_gives_zeros_and_still_writes_every_file(
    desk_engine: Engine, tmp_path: Path
) -> None:
    report = termly_report(desk_engine, AUTUMN, today=AFTER_THE_TERM)
    assert set(report.summary.model_dump().values()) == {0}
    assert all(row.ever_open == 0 for row in report.by_reason)
    assert report.enquiry_sla == ()
    assert report.time_to_locate.model_dump() == {
        "located": 0,
        "median_days": None,
        "p90_days": None,
    }
    paths = write_report(report, tmp_path)
    assert len(paths) == 11
    assert all(is_png(p) for p in paths if p.suffix == ".png")


def is_png(path: Path) -> bool:
    """A PNG file of a size a person can read (at least 600 x 300 pixels)."""
    data = path.read_bytes()
    width, height = struct.unpack(">II", data[16:24])
    return (
        data[:8] == b"\x89PNG\r\n\x1a\n"
        and data[12:16] == b"IHDR"
        and width >= 600
        and height >= 300
        and len(data) > 10_000
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_write_report_makes_json_csv_and_charts(report: TermReport, tmp_path: Path) -> None:
    told: list[str] = []
    out = tmp_path / "reports" / "autumn"
    paths = write_report(report, out, progress=told.append)
    stem = "termly-2026-autumn"
    tables = ["summary", "by_reason", "by_duration", "by_risk_flag", "by_outcome"]
    tables.append("enquiry_sla_by_agency")
    charts = ["by_reason", "by_duration", "by_risk_flag", "enquiry_sla_by_agency"]
    assert [p.name for p in paths] == [
        f"{stem}.json",
        *(f"{stem}-{t}.csv" for t in tables),
        *(f"{stem}-{c}.png" for c in charts),
    ]
    assert told == [f"wrote {p.name}" for p in paths]
    assert all(p.parent == out for p in paths)
    assert all(is_png(p) for p in paths if p.suffix == ".png")

    assert TermReport.model_validate_json(paths[0].read_text(encoding="utf-8")) == report

    summary = {row["metric"]: row["value"] for row in read_csv(out / f"{stem}-summary.csv")}
    assert summary["open_on_census_day"] == "6"
    assert summary["census_day"] == "2026-10-01"
    assert summary["complete"] == "true"
    assert summary["time_to_locate_median_days"] == "32.0"
    unknown = next(r for r in read_csv(out / f"{stem}-by_reason.csv") if r["reason"] == "unknown")
    assert unknown == {
        "term": "2026-autumn",
        "reason": "unknown",
        "reason_label": "Unknown",
        "open_on_census_day": "2",
        "ever_open": "3",
        "opened": "2",
        "closed": "1",
    }
    bands = read_csv(out / f"{stem}-by_duration.csv")
    assert [(b["band"], b["from_days"]) for b in bands][:2] == [
        ("under_2_weeks", "0"),
        ("2_to_4_weeks", "14"),
    ]
    flags = {r["risk_flag"]: r["ever_open"] for r in read_csv(out / f"{stem}-by_risk_flag.csv")}
    assert (flags["none"], flags["temporary_accommodation"]) == ("7", "2")
    sla = read_csv(out / f"{stem}-enquiry_sla_by_agency.csv")
    assert [(r["agency_id"], r["late"], r["compliance_pct"]) for r in sla] == [
        (HEALTH, "1", "33.3"),
        (OTHER_LA, "2", "25.0"),
    ]


def test_no_output_file_holds_personal_data(
    report: TermReport, desk_with_cases: Desk, tmp_path: Path
) -> None:
    # The register does hold the planted name (encrypted): the report must not.
    planted = desk_with_cases.register.show_case(desk_with_cases.refs["L"])
    assert (planted.child.forenames, planted.child.surname) == (PLANTED_FORENAME, PLANTED_SURNAME)
    forbidden = [
        PLANTED_FORENAME,
        PLANTED_SURNAME,
        "Zephyrine",
        "Quillfeather",
        "Marrowbone",
        "ZZ99",
        "2014-03-09",
        "CME-330-",  # case refs point at one child each
        "school office",  # closure evidence
        "GP;",  # enquiry evidence
    ]
    for path in write_report(report, tmp_path):
        content = path.read_bytes().decode("latin-1").lower()
        for text in forbidden:
            assert text.lower() not in content, (path.name, text)


def test_a_report_read_back_must_describe_its_own_term() -> None:
    assert TermReport.model_validate_json(_empty_report_json()).term == AUTUMN
    tamper: list[Callable[[dict[str, Any]], None]] = [
        lambda r: r.update(census_day="2026-10-08"),
        lambda r: r.update(term="2026-winter"),
        lambda r: r.update(as_of="2027-01-01"),
        lambda r: r.update(complete=False),
        lambda r: r["summary"].update(opened=-1),
        lambda r: r.update(contains_names=True),
    ]
    for change in tamper:
        bad = json.loads(_empty_report_json())
        change(bad)
        with pytest.raises(ValidationError):
            TermReport.model_validate_json(json.dumps(bad))


def _empty_report_json() -> str:
    zero = {"open_on_census_day": 0, "ever_open": 0, "opened": 0, "closed": 0}
    return json.dumps(
        {
            "term": "2026-autumn",
            "start": "2026-09-01",
            "end": "2026-12-31",
            "census_day": "2026-10-01",
            "as_of": "2026-12-31",
            "made_on": "2027-01-15",
            "complete": True,
            "summary": {
                **zero,
                "reopened": 0,
                "open_at_end": 0,
                "cross_border_in": 0,
                "cross_border_out": 0,
                "cross_border_out_notified": 0,
                "cross_border_out_accepted": 0,
            },
            "by_reason": [{"reason": "unknown", **zero}],
            "by_duration": [],
            "by_risk_flag": [{"risk_flag": None, **zero}],
            "by_outcome": [],
            "enquiry_sla": [],
            "time_to_locate": {"located": 0, "median_days": None, "p90_days": None},
        }
    )
