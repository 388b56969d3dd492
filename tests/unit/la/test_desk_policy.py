"""The desk's policy (SLAs, enquiry agencies, SAO periods) and its error root."""

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.la.errors import (
    CalendarError,
    ClosureRefused,
    DeskError,
    InvalidInput,
    InvalidSaoStep,
)
from adapters.la.model import EnquiryTarget
from adapters.la.rules import DeskPolicy, SlaDays
from schemas.domain import RiskFlag
from tests.unit.la.desk_builders import POLICY, POLICY_WITH_POLICE

AGENCIES = {
    "health": "health:M85001",
    "housing": "housing:330-ta",
    "social_care": "social_care:330",
}


def test_default_slas() -> None:
    assert (POLICY.sla.standard, POLICY.sla.at_risk, POLICY.sla.cross_border) == (5, 2, 10)
    assert POLICY.sla.locate_days(()) == 5
    assert POLICY.sla.locate_days((RiskFlag.SERVICE_FAMILY,)) == 2
    assert (POLICY.sao_notice_days, POLICY.la_code) == (15, "330")


def test_agency_for_each_target() -> None:
    assert POLICY.agency_for(EnquiryTarget.HEALTH) == "health:M85001"
    assert POLICY.agency_for(EnquiryTarget.HOUSING) == "housing:330-ta"
    assert POLICY.agency_for(EnquiryTarget.SOCIAL_CARE) == "social_care:330"
    assert POLICY.agency_for(EnquiryTarget.POLICE) is None
    assert POLICY_WITH_POLICE.agency_for(EnquiryTarget.POLICE) == "police:20"
    assert POLICY.agency_for(EnquiryTarget.PREVIOUS_LA) is None


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"la_id": "school:3304000"}, id="la-id-of-a-school"),
        pytest.param({"la_id": "la:999"}, id="unknown-la"),
        pytest.param({"agencies": {**AGENCIES, "health": "housing:330-ta"}}, id="health-kind"),
        pytest.param({"agencies": {**AGENCIES, "police": "health:M85001"}}, id="police-kind"),
        pytest.param({"agencies": {"health": "health:M85001"}}, id="core-agency-missing"),
        pytest.param({"sla": {"standard": 5, "at_risk": 6}}, id="risk-sla-longer"),
        pytest.param({"sla": {"standard": 0}}, id="zero-sla"),
        pytest.param({"sao_notice_days": 14}, id="s437-notice-under-15-days"),
        pytest.param({"chase": 3}, id="unknown-setting"),
    ],
)
def test_a_bad_policy_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DeskPolicy.model_validate({"la_id": "la:330", "agencies": AGENCIES, **change})


def test_a_policy_loads_from_a_mapping() -> None:
    policy = DeskPolicy.model_validate(
        {"la_id": "la:330", "agencies": AGENCIES, "sla": {"cross_border": 20}}
    )
    assert policy.sla == SlaDays(cross_border=20)


@pytest.mark.parametrize(
    ("error", "default"),
    [
        (DeskError, "desk_error"),
        (InvalidInput, "invalid_input"),
        (CalendarError, "calendar_error"),
        (ClosureRefused, "closure_refused"),
        (InvalidSaoStep, "invalid_sao_step"),
    ],
)
def test_errors_carry_a_reason_code(error: type[DeskError], default: str) -> None:
    assert issubclass(error, DeskError)
    assert error().reason == default
    specific = error("a_specific_rule", "what failed")
    assert specific.reason == "a_specific_rule"
    assert str(specific) == "a_specific_rule: what failed"


@pytest.mark.parametrize("bad", ["Not Snake", "trailing_", "1st", "with-dash"])
def test_a_reason_code_must_be_snake_case(bad: str) -> None:
    with pytest.raises(ValueError, match="snake_case"):
        DeskError(bad)
