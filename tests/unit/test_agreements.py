"""Data sharing agreements as code: the shipped documents, evaluation and refusals, the loader."""

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from broker.agreements import (
    REFUSAL_REASONS,
    AgreementBook,
    AgreementDocumentError,
    AgreementRefusal,
    PartySelector,
    Permit,
    RefusalReason,
    area_of,
    load_agreements,
    parse_agreement,
)
from broker.cli.agreements import agreements_app
from broker.errors import BrokerError
from schemas.examples import (
    HEALTH,
    LA,
    SCHOOL,
    SOCIAL_CARE,
    example_justification,
    example_sender_recipient,
)
from schemas.justification import (
    ConsentStatus,
    Decision,
    Justification,
    LawfulBasis,
    Purpose,
    SpecialCategoryCondition,
)
from schemas.messages import cme, deletion_return, receipt, safeguarding, school
from schemas.registry import default_registry

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "agreements"
RULE = re.compile(r"^[a-z0-9-]+@[0-9]+/(\*|[a-z0-9-]+)/[a-z_]+$")
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def book() -> AgreementBook:
    return load_agreements(SHIPPED)


def _special(message_type: str) -> bool:
    registry = default_registry()
    return registry.spec(message_type, registry.latest(message_type)).special_category


def _evaluate(
    book: AgreementBook,
    message_type: str,
    justification: Justification,
    *,
    sender: str,
    recipient: str,
    at: datetime = NOW,
) -> Permit:
    return book.evaluate(
        sender=sender,
        recipient=recipient,
        message_type=message_type,
        special_category_spec=_special(message_type),
        justification=justification,
        at=at,
    )


def _changed(justification: Justification, **changes: Any) -> Justification:
    """The justification with some fields replaced, validated again (no model_copy shortcut)."""
    return Justification.model_validate(justification.model_dump() | changes)


def _refusal(
    book: AgreementBook,
    message_type: str,
    justification: Justification,
    *,
    sender: str,
    recipient: str,
    at: datetime = NOW,
) -> AgreementRefusal:
    with pytest.raises(AgreementRefusal) as caught:
        _evaluate(book, message_type, justification, sender=sender, recipient=recipient, at=at)
    assert RULE.match(caught.value.rule), caught.value.rule
    assert caught.value.reason in REFUSAL_REASONS
    assert isinstance(caught.value, BrokerError)
    return caught.value


# ---- the shipped documents ------------------------------------------------------------------


def test_shipped_documents_load(book: AgreementBook) -> None:
    refs = [(a.id, a.version) for a in book.agreements()]
    assert refs == [("cme-area-330", 1), ("cme-area-331", 1), ("cme-cross-border-330-331", 1)]
    assert all(a.in_force(NOW) for a in book.agreements())
    listed = {t for a in book.agreements() for f in a.flows for t in f.message_types}
    assert listed == set(default_registry().types()) - {receipt.TYPE}


EXAMPLE_TYPES = [t for t in default_registry().types() if t != receipt.TYPE]


@pytest.mark.parametrize("message_type", EXAMPLE_TYPES)
def test_every_example_flow_is_permitted(book: AgreementBook, message_type: str) -> None:
    sender, recipient = example_sender_recipient(message_type)
    justification = example_justification(message_type, sender=sender, recipient=recipient)
    permit = _evaluate(book, message_type, justification, sender=sender, recipient=recipient)
    assert (permit.agreement_id, permit.agreement_version) == (
        justification.agreement.id,
        justification.agreement.version,
    )
    agreement = book.get(permit.agreement_id, permit.agreement_version)
    assert agreement is not None
    flow = next(f for f in agreement.flows if f.id == permit.flow_id)
    assert message_type in flow.message_types
    assert permit.retention == flow.retention


OTHER_PARTIES = [
    (school.DESTINATION_CHECK, SCHOOL, "school:3314012", "destination-check-330-to-331"),
    (
        school.DESTINATION_CONFIRMATION,
        "school:3314012",
        SCHOOL,
        "destination-confirmation-331-to-330",
    ),
    (school.DESTINATION_CHECK, "school:3314012", SCHOOL, "destination-check-331-to-330"),
    (cme.CROSS_BORDER_NOTIFICATION, "la:331", LA, "notification-331-to-330"),
    (cme.CROSS_BORDER_CONFIRMATION, LA, "la:331", "confirmation-330-to-331"),
    (cme.LOCATE_ENQUIRY, LA, "la:331", "locate-enquiry-330-to-331"),
    (cme.LOCATE_RESPONSE, "la:331", LA, "locate-response-331-to-330"),
    (cme.LOCATE_ENQUIRY, LA, "housing:330-ta", "locate-enquiry"),
    (cme.LOCATE_ENQUIRY, LA, SOCIAL_CARE, "locate-enquiry"),
    (cme.LOCATE_ENQUIRY, LA, "police:20", "locate-enquiry"),
    (cme.LOCATE_RESPONSE, "police:20", LA, "locate-response"),
    (cme.LOCATE_RESPONSE, "health:RQ3", LA, "locate-response"),
    (cme.REFERRAL, HEALTH, LA, "referral"),
    (cme.REFERRAL, "early_years:330-sunny", LA, "referral"),
    (cme.CASE_STATUS, LA, HEALTH, "case-status"),
    (safeguarding.ESCALATION, SCHOOL, SOCIAL_CARE, "safeguarding-escalation"),
    (safeguarding.ESCALATION, "police:20", SOCIAL_CARE, "safeguarding-escalation"),
]


@pytest.mark.parametrize(("message_type", "sender", "recipient", "flow"), OTHER_PARTIES)
def test_other_parties_in_the_agreements(
    book: AgreementBook, message_type: str, sender: str, recipient: str, flow: str
) -> None:
    justification = example_justification(message_type, sender=sender, recipient=recipient)
    permit = _evaluate(book, message_type, justification, sender=sender, recipient=recipient)
    assert permit.flow_id == flow
    assert permit.rule == f"{permit.agreement_id}@1/{flow}"


# ---- refusals: one change to a valid example each -------------------------------------------


def _example(message_type: str) -> tuple[Justification, str, str]:
    sender, recipient = example_sender_recipient(message_type)
    return (
        example_justification(message_type, sender=sender, recipient=recipient),
        sender,
        recipient,
    )


NEW_PUPIL = school.NEW_PUPIL_RETURN
AREA_NEW_PUPIL = "cme-area-330@1/new-pupil-return"

REFUSALS: list[tuple[str, str, dict[str, Any], RefusalReason, str]] = [
    (
        NEW_PUPIL,
        "wrong agreement id",
        {"agreement": {"id": "cme-area-999", "version": 1}},
        RefusalReason.NO_AGREEMENT,
        "cme-area-999@1/*/exists",
    ),
    (
        NEW_PUPIL,
        "agreement id no agreement could have",
        {"agreement": {"id": "Jane Smith's file", "version": 1}},
        RefusalReason.NO_AGREEMENT,
        "invalid-id@1/*/exists",
    ),
    (
        NEW_PUPIL,
        "agreement version that does not exist",
        {"agreement": {"id": "cme-area-330", "version": 2}},
        RefusalReason.NO_AGREEMENT,
        "cme-area-330@2/*/exists",
    ),
    (
        NEW_PUPIL,
        "purpose",
        {"purpose": Purpose.REFERRAL},
        RefusalReason.PURPOSE_NOT_PERMITTED,
        f"{AREA_NEW_PUPIL}/purpose",
    ),
    (
        NEW_PUPIL,
        "lawful basis",
        {"lawful_basis": LawfulBasis.PUBLIC_TASK},
        RefusalReason.LAWFUL_BASIS_NOT_PERMITTED,
        f"{AREA_NEW_PUPIL}/lawful_basis",
    ),
    (
        NEW_PUPIL,
        "special category on a flow that lists none",
        {"special_category": SpecialCategoryCondition.SAFEGUARDING},
        RefusalReason.SPECIAL_CATEGORY_CONDITION_NOT_PERMITTED,
        f"{AREA_NEW_PUPIL}/special_category",
    ),
    (
        cme.REFERRAL,
        "special category condition not listed",
        {"special_category": SpecialCategoryCondition.SUBSTANTIAL_PUBLIC_INTEREST_STATUTORY},
        RefusalReason.SPECIAL_CATEGORY_CONDITION_NOT_PERMITTED,
        "cme-area-330@1/referral/special_category",
    ),
    (
        school.SICKNESS_RETURN,
        "sickness return without its special category condition",
        {"special_category": None},
        RefusalReason.SPECIAL_CATEGORY_CONDITION_MISSING,
        "cme-area-330@1/sickness-return/special_category",
    ),
    (
        NEW_PUPIL,
        "gateway",
        {"statutory_gateways": ("Children Act 2004 s11",)},
        RefusalReason.GATEWAY_NOT_PERMITTED,
        f"{AREA_NEW_PUPIL}/gateway",
    ),
    (
        NEW_PUPIL,
        "gateway that only looks like a listed one",
        {"statutory_gateways": ("SI 2024/208 reg 130",)},
        RefusalReason.GATEWAY_NOT_PERMITTED,
        f"{AREA_NEW_PUPIL}/gateway",
    ),
    (
        NEW_PUPIL,
        "data category outside the field set",
        {"data_categories": ("child", "school", "ground")},
        RefusalReason.DATA_CATEGORIES_NOT_PERMITTED,
        f"{AREA_NEW_PUPIL}/data_categories",
    ),
    (
        NEW_PUPIL,
        "retention review beyond the flow's maximum",
        {"retention": {"rule": "Kept for ever.", "review_date": date.today() + timedelta(3000)}},
        RefusalReason.RETENTION_NOT_PERMITTED,
        f"{AREA_NEW_PUPIL}/retention",
    ),
    (
        NEW_PUPIL,
        "a decision not to share",
        {"decision": Decision.NOT_SHARE, "decision_reasons": "Not necessary for this child."},
        RefusalReason.DECISION_NOT_SHARE,
        "cme-area-330@1/*/decision",
    ),
]


@pytest.mark.parametrize(
    ("message_type", "change", "reason", "rule"),
    [(t, changes, reason, rule) for t, _, changes, reason, rule in REFUSALS],
    ids=[label for _, label, *_ in REFUSALS],
)
def test_a_justification_the_agreement_does_not_permit_is_refused(
    book: AgreementBook,
    message_type: str,
    change: dict[str, Any],
    reason: RefusalReason,
    rule: str,
) -> None:
    valid, sender, recipient = _example(message_type)
    _evaluate(book, message_type, valid, sender=sender, recipient=recipient)  # the baseline
    refusal = _refusal(
        book, message_type, _changed(valid, **change), sender=sender, recipient=recipient
    )
    assert (refusal.reason, refusal.rule) == (reason.value, rule)


def test_an_agreement_not_yet_in_force_is_refused(book: AgreementBook) -> None:
    valid, sender, recipient = _example(NEW_PUPIL)
    before = datetime(2025, 8, 31, 22, 59, tzinfo=UTC)  # 23:59 on 31 August in London
    refusal = _refusal(book, NEW_PUPIL, valid, sender=sender, recipient=recipient, at=before)
    assert (refusal.reason, refusal.rule) == ("no_agreement", "cme-area-330@1/*/in_force")
    first_day = datetime(2025, 8, 31, 23, 0, tzinfo=UTC)  # midnight, 1 September, London
    _evaluate(book, NEW_PUPIL, valid, sender=sender, recipient=recipient, at=first_day)


def test_a_naive_time_is_a_programming_error(book: AgreementBook) -> None:
    valid, sender, recipient = _example(NEW_PUPIL)
    with pytest.raises(ValueError, match="aware"):
        _evaluate(book, NEW_PUPIL, valid, sender=sender, recipient=recipient, at=datetime.now())


def test_a_sender_outside_the_area_is_refused(book: AgreementBook) -> None:
    valid = example_justification(NEW_PUPIL, sender=SCHOOL, recipient=LA)
    refusal = _refusal(book, NEW_PUPIL, valid, sender="school:3314000", recipient=LA)
    assert (refusal.reason, refusal.rule) == ("party_not_permitted", "cme-area-330@1/*/parties")


def test_a_share_to_oneself_is_refused(book: AgreementBook) -> None:
    message_type = school.DESTINATION_CHECK
    valid = example_justification(message_type, sender=SCHOOL, recipient=SCHOOL)
    refusal = _refusal(book, message_type, valid, sender=SCHOOL, recipient=SCHOOL)
    assert (refusal.reason, refusal.rule) == ("party_not_permitted", "cme-area-330@1/*/parties")


def test_a_type_not_permitted_in_that_direction_is_refused(book: AgreementBook) -> None:
    message_type = deletion_return.TYPE
    valid = example_justification(message_type, sender=HEALTH, recipient=LA)
    refusal = _refusal(book, message_type, valid, sender=HEALTH, recipient=LA)
    # Health reaches the LA on two flows (referral, locate response): neither is to blame alone.
    assert (refusal.reason, refusal.rule) == (
        "message_type_not_permitted",
        "cme-area-330@1/*/message_type",
    )
    # The LA reaches a school on two flows (enquiries complete, case status), a return on none.
    refusal = _refusal(book, NEW_PUPIL, _example(NEW_PUPIL)[0], sender=LA, recipient=SCHOOL)
    assert (refusal.reason, refusal.rule) == (
        "message_type_not_permitted",
        "cme-area-330@1/*/message_type",
    )
    # One flow between the parties (case status to an early years setting): it is named.
    setting = "early_years:330-sunny"
    refusal = _refusal(book, NEW_PUPIL, _example(NEW_PUPIL)[0], sender=LA, recipient=setting)
    assert refusal.rule == "cme-area-330@1/case-status/message_type"


def test_a_subsection_of_a_listed_gateway_is_citing_it(book: AgreementBook) -> None:
    valid, sender, recipient = _example(deletion_return.TYPE)
    cited = _changed(valid, statutory_gateways=("SI 2024/208  REG 13(4)",))
    _evaluate(book, deletion_return.TYPE, cited, sender=sender, recipient=recipient)


def test_a_sickness_return_may_cite_para_6(book: AgreementBook) -> None:
    valid, sender, recipient = _example(school.SICKNESS_RETURN)
    para6 = SpecialCategoryCondition.SUBSTANTIAL_PUBLIC_INTEREST_STATUTORY
    cited = _changed(valid, special_category=para6)
    _evaluate(book, school.SICKNESS_RETURN, cited, sender=sender, recipient=recipient)


def test_a_referral_without_special_category_data_needs_no_condition(
    book: AgreementBook,
) -> None:
    valid, sender, recipient = _example(cme.REFERRAL)
    _evaluate(
        book,
        cme.REFERRAL,
        _changed(valid, special_category=None),
        sender=sender,
        recipient=recipient,
    )


@pytest.mark.parametrize("status", list(ConsentStatus))
def test_an_escalation_is_never_refused_for_lack_of_consent(
    book: AgreementBook, status: ConsentStatus
) -> None:
    valid, sender, recipient = _example(safeguarding.ESCALATION)
    reason = (
        None if status is ConsentStatus.OBTAINED else "Seeking consent would put the child at risk."
    )
    changed = _changed(valid, consent={"status": status, "reason": reason})
    permit = _evaluate(book, safeguarding.ESCALATION, changed, sender=sender, recipient=recipient)
    assert permit.flow_id == "safeguarding-escalation"


def test_a_partial_share_is_evaluated_like_a_share(book: AgreementBook) -> None:
    valid, sender, recipient = _example(NEW_PUPIL)
    partial = _changed(
        valid, decision=Decision.PARTIAL, decision_reasons="Parents' phone withheld."
    )
    _evaluate(book, NEW_PUPIL, partial, sender=sender, recipient=recipient)


# ---- in-test documents ------------------------------------------------------------------------


def _document(**changes: Any) -> dict[str, Any]:
    """A small valid agreement: schools of LA 330 refer children to the LA."""
    flow: dict[str, Any] = {
        "id": "referral",
        "from": {"kind": "school", "la": "330"},
        "to": "la:330",
        "message_types": ["cme.referral"],
        "purposes": ["referral"],
        "lawful_bases": ["art6(1)(e)"],
        "special_category_conditions": ["art9(2)(g)+dpa2018-s10(3)-sch1-para18"],
        "statutory_gateways": ["Education Act 1996 s436A"],
        "data_categories": sorted(cme.ReferralV1.model_fields),
        "retention": {"rule": "CME case record.", "max_days": 2190},
    }
    flow.update(changes.pop("flow", {}))
    document: dict[str, Any] = {
        "id": "test-area-330",
        "version": 1,
        "title": "Test agreement",
        "status": "active",
        "effective_from": "2025-09-01",
        "parties": ["la:330", {"kind": "school", "la": "330"}],
        "flows": [flow],
    }
    document.update(changes)
    return document


def _referral(agreement_id: str = "test-area-330", version: int = 1) -> Justification:
    valid = example_justification(cme.REFERRAL, sender=SCHOOL, recipient=LA)
    return _changed(valid, agreement={"id": agreement_id, "version": version})


def test_a_consent_gated_flow_needs_consent_obtained() -> None:
    book = AgreementBook([parse_agreement(_document(flow={"consent_required": True}), "test")])
    not_sought = _referral()
    refusal = _refusal(book, cme.REFERRAL, not_sought, sender=SCHOOL, recipient=LA)
    assert (refusal.reason, refusal.rule) == (
        "consent_required",
        "test-area-330@1/referral/consent",
    )
    obtained = _changed(not_sought, consent={"status": "obtained"})
    assert (
        _evaluate(book, cme.REFERRAL, obtained, sender=SCHOOL, recipient=LA).flow_id == "referral"
    )


def test_an_escalation_flow_cannot_be_consent_gated() -> None:
    escalation = {
        "message_types": ["safeguarding.escalation"],
        "purposes": ["safeguarding_escalation"],
        "data_categories": ["child"],
        "consent_required": True,
    }
    with pytest.raises(AgreementDocumentError, match="consent_required must be false"):
        parse_agreement(_document(flow=escalation), "escalation.yaml")


def test_versions_coexist_and_each_has_its_dates() -> None:
    v1 = _document(effective_until="2026-03-31")
    v2 = _document(version=2, effective_from="2026-04-01")
    book = AgreementBook([parse_agreement(v1, "v1"), parse_agreement(v2, "v2")])
    march, april = datetime(2026, 3, 31, 12, tzinfo=UTC), datetime(2026, 4, 1, 12, tzinfo=UTC)
    assert _evaluate(
        book, cme.REFERRAL, _referral(version=1), sender=SCHOOL, recipient=LA, at=march
    )
    assert _evaluate(
        book, cme.REFERRAL, _referral(version=2), sender=SCHOOL, recipient=LA, at=april
    )
    late = _refusal(book, cme.REFERRAL, _referral(version=1), sender=SCHOOL, recipient=LA, at=april)
    assert late.rule == "test-area-330@1/*/in_force"
    early = _refusal(
        book, cme.REFERRAL, _referral(version=2), sender=SCHOOL, recipient=LA, at=march
    )
    assert early.rule == "test-area-330@2/*/in_force"


@pytest.mark.parametrize("status", ["draft", "withdrawn"])
def test_only_an_active_agreement_is_in_force(status: str) -> None:
    book = AgreementBook([parse_agreement(_document(status=status), "test")])
    refusal = _refusal(book, cme.REFERRAL, _referral(), sender=SCHOOL, recipient=LA)
    assert (refusal.reason, refusal.rule) == ("no_agreement", "test-area-330@1/*/in_force")


def test_the_flow_that_got_furthest_is_reported() -> None:
    first = _document()["flows"][0] | {"id": "first", "purposes": ["locate_enquiry"]}
    second = first | {"id": "second", "purposes": ["referral"], "lawful_bases": ["art6(1)(c)"]}
    book = AgreementBook([parse_agreement(_document(flows=[first, second]), "test")])
    refusal = _refusal(book, cme.REFERRAL, _referral(), sender=SCHOOL, recipient=LA)
    assert refusal.rule == "test-area-330@1/second/lawful_basis"


def test_describe_lists_every_flow(book: AgreementBook) -> None:
    rows = book.describe()
    assert len(rows) == sum(len(a.flows) for a in book.agreements())
    sickness = next(r for r in rows if r.flow == "sickness-return")
    assert (sickness.agreement, sickness.version, sickness.from_, sickness.to) == (
        "cme-area-330",
        1,
        ("school (LA 330)",),
        ("la:330",),
    )
    assert sickness.types == (school.SICKNESS_RETURN,)
    assert (sickness.purposes, sickness.bases) == (("statutory_return",), ("art6(1)(c)",))


def test_refusal_reasons_are_documented_and_fit_a_receipt() -> None:
    assert {r.value for r in RefusalReason} == REFUSAL_REASONS
    assert all(re.match(r"^[a-z][a-z_]{2,40}$", r) for r in REFUSAL_REASONS)  # receipt pattern
    assert all(r.__doc__ for r in RefusalReason)


# ---- party selectors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "agency", "matches"),
    [
        ("la:330", "la:330", True),
        ("la:330", "la:331", False),
        ({"kind": "school", "la": "330"}, "school:3304000", True),
        ({"kind": "school", "la": "330"}, "school:3314000", False),
        ({"kind": "school"}, "school:3314000", True),
        ({"kind": "housing", "la": "330"}, "housing:330-ta", True),
        ({"kind": "housing", "la": "330"}, "housing:L0001", False),  # a registered provider
        ({"kind": "health"}, "health:M85001", True),
        ({"kind": "health"}, "police:20", False),
        ({"kind": "social_care", "la": "330"}, "social_care:330", True),
    ],
)
def test_selectors_match_agency_ids(selector: Any, agency: str, matches: bool) -> None:
    assert PartySelector.model_validate(selector).matches(agency) is matches


def test_area_of_reads_the_id() -> None:
    assert [area_of(a) for a in (SCHOOL, "housing:330-ta", HEALTH, "police:20")] == [
        "330",
        "330",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"kind": "health", "la": "330"}, "carry no LA area"),
        ({"agency": "la:330", "kind": "la"}, "not both"),
        ({"agency": "la:330", "la": "330"}, "needs none"),
        ("hub:330", "never a party"),
        ({"kind": "school", "la": "999"}, "DfE code"),
    ],
)
def test_bad_selectors_are_refused(selector: Any, message: str) -> None:
    with pytest.raises(AgreementDocumentError, match=message):
        parse_agreement(_document(parties=["la:330", selector]), "test.yaml")


# ---- the loader -------------------------------------------------------------------------------


def _write(directory: Path, name: str, document: dict[str, Any]) -> Path:
    path = directory / name
    if name.endswith(".json"):
        path.write_text(json.dumps(document), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _load_error(directory: Path) -> AgreementDocumentError:
    with pytest.raises(AgreementDocumentError) as caught:
        load_agreements(directory)
    return caught.value


def test_json_and_yml_documents_load(tmp_path: Path) -> None:
    _write(tmp_path, "a.json", _document())
    _write(tmp_path, "b.yml", _document(version=2))
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    assert [a.version for a in load_agreements(tmp_path).agreements()] == [1, 2]


BAD_DOCUMENTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "unknown message type",
        _document(flow={"message_types": ["cme.referral", "cme.teleport"]}),
        "flows.0.message_types.1: Value error, unknown message type",
    ),
    (
        "a receipt in an agreement",
        _document(flow={"message_types": ["cme.referral", "receipt"]}),
        "flows.0.message_types.1: Value error, receipts are permitted by the router",
    ),
    ("extra field", _document(signed_by="someone"), "signed_by: Extra inputs are not permitted"),
    (
        "extra field in a flow",
        _document(flow={"purpose": ["referral"]}),
        "flows.0.purpose: Extra inputs are not permitted",
    ),
    (
        "data category that is no field",
        _document(flow={"data_categories": ["child", "shoe_size"]}),
        "data_categories.1: not a field of any listed message type",
    ),
    (
        "special category type without a condition",
        _document(flow={"special_category_conditions": []}),
        "special_category_conditions: a listed message type can carry special category data",
    ),
    (
        "flow party outside the agreement's parties",
        _document(flow={"from": ["police:20"]}),
        "flows.0.from.0: not among the agreement's parties",
    ),
    (
        "effective dates reversed",
        _document(effective_until="2025-01-01"),
        "effective_until is before effective_from",
    ),
    ("unknown purpose", _document(flow={"purposes": ["curiosity"]}), "flows.0.purposes.0: Input"),
    ("no flows", _document(flows=[]), "flows: Tuple should have at least 1 item"),
    (
        "repeated flow id",
        _document(flows=_document()["flows"] * 2),
        "flows.1.id: repeats an earlier flow id",
    ),
]


@pytest.mark.parametrize(
    ("document", "expected"),
    [(document, expected) for _, document, expected in BAD_DOCUMENTS],
    ids=[label for label, *_ in BAD_DOCUMENTS],
)
def test_a_bad_document_is_named_with_its_field(
    tmp_path: Path, document: dict[str, Any], expected: str
) -> None:
    _write(tmp_path, "good.yaml", _document(id="good-one"))
    path = _write(tmp_path, "bad.yaml", document)
    error = _load_error(tmp_path)
    assert error.source == str(path)
    assert str(path) in str(error)
    assert any(expected in problem for problem in error.problems), error.problems
    for value in ("cme.teleport", "someone", "shoe_size", "curiosity"):
        assert value not in str(error)  # the path, never the value


def test_a_duplicate_id_and_version_names_both_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", _document())
    _write(tmp_path, "b.json", _document(title="Another copy"))
    error = _load_error(tmp_path)
    assert error.source == str(tmp_path / "b.json")
    assert "already defined by a.yaml" in str(error)


def test_invalid_yaml_gives_the_position_not_the_text(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: x\nflows: [unclosed, secret-value\n", "utf-8")
    error = _load_error(tmp_path)
    assert "broken.yaml" in str(error)
    assert re.search(r"not valid YAML \(line \d+, column \d+\)", str(error))
    assert "secret-value" not in str(error)


def test_a_repeated_key_is_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump(_document(), sort_keys=False) + "status: withdrawn\n"
    (tmp_path / "twice.yaml").write_text(text, encoding="utf-8")
    error = _load_error(tmp_path)
    assert "twice.yaml" in str(error)
    assert "a key repeats in the same mapping" in str(error)


def test_invalid_json_and_non_mapping_documents(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{", encoding="utf-8")
    assert "not valid JSON (line 1" in str(_load_error(tmp_path))
    (tmp_path / "a.json").write_text("[1, 2]", encoding="utf-8")
    assert "must be a mapping" in str(_load_error(tmp_path))


def test_a_missing_or_empty_directory_is_an_error(tmp_path: Path) -> None:
    assert "no agreement documents" in str(_load_error(tmp_path))
    assert "not a directory" in str(_load_error(tmp_path / "absent"))


# ---- the CLI ------------------------------------------------------------------------------------


def test_cli_check_lists_what_each_agreement_permits() -> None:
    result = CliRunner().invoke(agreements_app, ["check", "--dir", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    for text in ("cme-area-330 v1", "cme-cross-border-330-331 v1", "sickness-return", "valid"):
        assert text in result.output


def test_cli_check_exits_2_naming_the_file_and_field(tmp_path: Path) -> None:
    _write(tmp_path, "bad.yaml", _document(flow={"message_types": ["cme.teleport"]}))
    result = CliRunner().invoke(agreements_app, ["check", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output
    assert "flows.0.message_types.0" in result.output
    assert "cme.teleport" not in result.output
    assert "at least 1 item" not in result.output  # the item's error, not its list's echo


def test_cli_check_reads_the_routers_agreements_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "bad.yaml", _document(flow={"message_types": ["cme.teleport"]}))
    monkeypatch.setenv("CME_AGREEMENTS_DIR", str(tmp_path))
    result = CliRunner().invoke(agreements_app, ["check"])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output
