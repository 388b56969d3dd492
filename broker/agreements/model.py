"""The agreement document: a versioned data sharing agreement and the flows it permits.

One document = one version of one agreement (YAML or JSON, see `deploy/agreements/`). A flow
permits a set of message types from some parties to others, for listed purposes, on listed
lawful bases and statutory gateways, with a permitted field set and a retention rule. A share is
permitted when one flow of the agreement its justification names allows every part of it.

`receipt` never appears in an agreement: a delivery receipt carries no personal data and the
router permits it on its own rule (it answers a message the router has already permitted).
"""

from collections.abc import Iterator
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field, model_validator

from broker.agreements.base import DocumentModel
from broker.agreements.parties import PartySelector, Selectors, any_matches
from schemas.base import DISTINCT
from schemas.justification import LawfulBasis, Purpose, SpecialCategoryCondition
from schemas.messages import receipt, safeguarding
from schemas.registry import default_registry

UK = ZoneInfo("Europe/London")  # agreements take effect on UK calendar dates
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")]
Text = Annotated[str, Field(min_length=3, max_length=2000)]
Token = Annotated[str, Field(min_length=1, max_length=80)]


@cache
def _fields_by_type() -> dict[str, frozenset[str]]:
    """Every field name any version of each message type can carry."""
    fields: dict[str, set[str]] = {}
    for spec in default_registry().specs():
        fields.setdefault(spec.type, set()).update(spec.model.model_fields)
    return {t: frozenset(f) for t, f in fields.items()}


@cache
def _special_types() -> frozenset[str]:
    """Message types some version of which can carry special category data."""
    return frozenset(s.type for s in default_registry().specs() if s.special_category)


def _known_type(value: str) -> str:
    if value == receipt.TYPE:
        raise ValueError("receipts are permitted by the router's own rule, not by agreements")
    if value not in _fields_by_type():
        raise ValueError("unknown message type (not in the schema registry)")
    return value


MessageTypeName = Annotated[str, AfterValidator(_known_type)]


class AgreementStatus(StrEnum):
    """Lifecycle of one version of an agreement. Only `active` versions are ever in force."""

    DRAFT = "draft"
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class FlowRetention(DocumentModel):
    """What the recipient does with the data, and the longest it may hold it before review."""

    rule: Text
    max_days: Annotated[int, Field(ge=1, le=36_500)]
    """A justification's retention review date must fall within this many days of its decision."""


class Flow(DocumentModel):
    """One permitted kind of share: who to whom, what, why, on what basis, which fields."""

    id: Slug
    description: Text | None = None
    from_: Selectors = Field(alias="from")
    to: Selectors
    message_types: Annotated[tuple[MessageTypeName, ...], Field(min_length=1), DISTINCT]
    purposes: Annotated[tuple[Purpose, ...], Field(min_length=1), DISTINCT]
    lawful_bases: Annotated[tuple[LawfulBasis, ...], Field(min_length=1), DISTINCT]
    special_category_conditions: Annotated[tuple[SpecialCategoryCondition, ...], DISTINCT] = ()
    """Art 9 + DPA 2018 Sch 1 conditions a justification may cite on this flow."""
    special_category_required: bool = False
    """True when every share of a special category message type on this flow *is* special
    category data (a sickness return is about a child's health), so the justification must cite
    a condition. False when the type only *can* carry it (a referral may or may not)."""
    statutory_gateways: Annotated[tuple[Token, ...], Field(min_length=1), DISTINCT]
    """The justification must cite at least one of these (or a subsection of one)."""
    data_categories: Annotated[tuple[Token, ...], Field(min_length=1), DISTINCT]
    """The permitted field set: the justification's data categories must all be in it."""
    consent_required: bool = False
    retention: FlowRetention

    @model_validator(mode="after")
    def _coherent(self) -> "Flow":
        if self.special_category_required and not self.special_category_conditions:
            raise ValueError("special_category_required needs special_category_conditions")
        if _special_types() & set(self.message_types) and not self.special_category_conditions:
            raise ValueError(
                "special_category_conditions: a listed message type can carry special "
                "category data, so the flow must list at least one condition"
            )
        # The duty to safeguard supersedes data-protection hesitation: a safeguarding share
        # must never wait for consent (shared/domain/legal_bases.md, last paragraph).
        if self.consent_required and self.is_safeguarding_escalation():
            raise ValueError("consent_required must be false on a safeguarding escalation flow")
        fields = set().union(*(_fields_by_type()[t] for t in self.message_types))
        for index, category in enumerate(self.data_categories):
            if category not in fields:
                raise ValueError(f"data_categories.{index}: not a field of any listed message type")
        return self

    def is_safeguarding_escalation(self) -> bool:
        """Whether this flow carries safeguarding escalations (never consent-gated)."""
        return (
            safeguarding.ESCALATION in self.message_types
            or Purpose.SAFEGUARDING_ESCALATION in self.purposes
        )

    def connects(self, sender: str, recipient: str) -> bool:
        """Whether this flow goes from `sender` to `recipient`."""
        return any_matches(self.from_, sender) and any_matches(self.to, recipient)


class Agreement(DocumentModel):
    """One version of a data sharing agreement."""

    id: Slug
    version: Annotated[int, Field(ge=1)]
    title: Text
    status: AgreementStatus
    effective_from: date
    """First UK calendar day the agreement is in force."""
    effective_until: date | None = None
    """Last UK calendar day it is in force (inclusive); none: until withdrawn or superseded."""
    parties: Annotated[tuple[PartySelector, ...], Field(min_length=1)]
    flows: Annotated[tuple[Flow, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _coherent(self) -> "Agreement":
        if self.effective_until is not None and self.effective_until < self.effective_from:
            raise ValueError("effective_until is before effective_from")
        seen: set[str] = set()
        for index, flow in enumerate(self.flows):
            if flow.id in seen:
                raise ValueError(f"flows.{index}.id: repeats an earlier flow id")
            seen.add(flow.id)
        for where in self._selectors_outside_parties():
            raise ValueError(f"{where}: not among the agreement's parties")
        return self

    def _selectors_outside_parties(self) -> Iterator[str]:
        # Every flow's ends must be signatories: a flow cannot widen the agreement's parties.
        for index, flow in enumerate(self.flows):
            for end, selectors in (("from", flow.from_), ("to", flow.to)):
                for position, selector in enumerate(selectors):
                    if not any(party.covers(selector) for party in self.parties):
                        yield f"flows.{index}.{end}.{position}"

    @property
    def ref(self) -> str:
        """`ID@VERSION`, as refusal rules name it."""
        return f"{self.id}@{self.version}"

    def in_force(self, at: datetime) -> bool:
        """Whether this version is in force at `at` (an aware datetime), on the UK calendar."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("in_force needs an aware datetime")
        if self.status is not AgreementStatus.ACTIVE:
            return False
        day = at.astimezone(UK).date()
        return self.effective_from <= day and (
            self.effective_until is None or day <= self.effective_until
        )
