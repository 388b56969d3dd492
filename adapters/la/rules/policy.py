"""`DeskPolicy`: the LA's settings the rules need (its id, SLAs, who answers enquiries)."""

from collections.abc import Callable, Collection
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from adapters.la.model import EnquiryTarget
from adapters.la.rules._base import RuleValue
from schemas.agency import AgencyId, AgencyKind, LaId, code_of, kind_of
from schemas.domain import RiskFlag

S437_MINIMUM_NOTICE_DAYS = 15
"""Education Act 1996 s437(2): the notice period is not less than 15 days."""


def _of_kind(kind: AgencyKind) -> Callable[[str], str]:
    def check(value: str) -> str:
        if kind_of(value) is not kind:
            raise ValueError(f"agency id must be of kind {kind.value}")
        return value

    return check


HealthId = Annotated[AgencyId, AfterValidator(_of_kind(AgencyKind.HEALTH))]
HousingId = Annotated[AgencyId, AfterValidator(_of_kind(AgencyKind.HOUSING))]
SocialCareId = Annotated[AgencyId, AfterValidator(_of_kind(AgencyKind.SOCIAL_CARE))]
PoliceId = Annotated[AgencyId, AfterValidator(_of_kind(AgencyKind.POLICE))]
_SlaDays = Annotated[int, Field(ge=1, le=60)]


class SlaDays(RuleValue):
    """Response SLAs in working days. No statute sets them (Education Act 1996 s436A); these
    are the sensible defaults of `shared/domain/timescales.md`.
    """

    standard: _SlaDays = 5
    """A locate enquiry without any risk flag."""
    at_risk: _SlaDays = 2
    """A locate enquiry when any risk flag is set."""
    cross_border: _SlaDays = 10
    """A cross-border notification to another LA (Wales uses 28 days; England sets none)."""

    @model_validator(mode="after")
    def _risk_never_slower(self) -> "SlaDays":
        if self.at_risk > self.standard:
            raise ValueError("the at-risk SLA must not be longer than the standard one")
        return self

    def locate_days(self, risk_flags: Collection[RiskFlag]) -> int:
        """The locate-enquiry SLA for a case with these risk flags."""
        return self.at_risk if risk_flags else self.standard


class EnquiryAgencies(RuleValue):
    """Who answers this LA's locate enquiries. Health, housing and children's social care are
    asked on every CME case, so they must be configured; the police are optional (None: not
    configured, so never asked).
    """

    health: HealthId
    housing: HousingId
    social_care: SocialCareId
    police: PoliceId | None = None


class DeskPolicy(RuleValue):
    """The LA's own settings for the desk's rules."""

    la_id: LaId
    """This LA, e.g. `la:330`."""
    agencies: EnquiryAgencies
    sla: SlaDays = SlaDays()
    sao_notice_days: Annotated[int, Field(ge=S437_MINIMUM_NOTICE_DAYS, le=120)] = 15
    """Calendar days a s437(1) notice gives the parent (the statute's minimum is 15)."""
    sao_compliance_days: Annotated[int, Field(ge=1, le=120)] = 15
    """Calendar days a served school attendance order gives to register the child (no statute
    fixes it: the order states its own date)."""

    @property
    def la_code(self) -> str:
        """This LA's DfE code, e.g. `330`."""
        return code_of(self.la_id)

    def agency_for(self, target: EnquiryTarget) -> str | None:
        """The configured agency for a local target; None for the police when not configured
        and for the LA targets (their id comes from the case, not the policy)."""
        local = {
            EnquiryTarget.HEALTH: self.agencies.health,
            EnquiryTarget.HOUSING: self.agencies.housing,
            EnquiryTarget.SOCIAL_CARE: self.agencies.social_care,
            EnquiryTarget.POLICE: self.agencies.police,
        }
        return local.get(target)
