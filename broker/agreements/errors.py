"""Errors of the data sharing agreements: a refused share, and an invalid agreement document.

Neither ever carries personal data: a refusal only sees message metadata (agency ids, message
type, the justification's enumerations), and a document error names the file and the field path
of the problem, never the offending value.
"""

from enum import StrEnum

from broker.errors import BrokerError


class RefusalReason(StrEnum):
    """Why no agreement permits a share. Stable codes: they go into refusal receipts and the
    ledger, so existing values never change meaning.
    """

    DECISION_NOT_SHARE = "decision_not_share"
    """The justification records a decision *not* to share: it must not travel as a message."""
    NO_AGREEMENT = "no_agreement"
    """The justification names an agreement id and version that does not exist, or that is not
    in force at the time of the share (draft, withdrawn, before or after its effective dates)."""
    PARTY_NOT_PERMITTED = "party_not_permitted"
    """No flow of that agreement goes from this sender to this recipient."""
    MESSAGE_TYPE_NOT_PERMITTED = "message_type_not_permitted"
    """Flows exist between the two parties, but none of them carries this message type."""
    PURPOSE_NOT_PERMITTED = "purpose_not_permitted"
    """The justification's purpose is not one the flow permits."""
    LAWFUL_BASIS_NOT_PERMITTED = "lawful_basis_not_permitted"
    """The justification's UK GDPR Art 6 basis is not one the flow permits."""
    SPECIAL_CATEGORY_CONDITION_MISSING = "special_category_condition_missing"
    """The message type carries special category data, the flow requires an Art 9 condition, and
    the justification names none."""
    SPECIAL_CATEGORY_CONDITION_NOT_PERMITTED = "special_category_condition_not_permitted"
    """The justification names an Art 9 + DPA 2018 Sch 1 condition the flow does not list."""
    GATEWAY_NOT_PERMITTED = "gateway_not_permitted"
    """None of the statutory gateways the justification cites is one the flow relies on."""
    DATA_CATEGORIES_NOT_PERMITTED = "data_categories_not_permitted"
    """The justification declares a data category outside the flow's permitted field set."""
    CONSENT_REQUIRED = "consent_required"
    """The flow is consent-gated and the justification does not record consent as obtained.
    Never raised for a safeguarding escalation."""
    RETENTION_NOT_PERMITTED = "retention_not_permitted"
    """The justification's retention review date is later than the flow's maximum retention
    allows (counted from the decision date)."""


REFUSAL_REASONS: frozenset[str] = frozenset(r.value for r in RefusalReason)
"""Every reason code `AgreementBook.evaluate` can give."""


class AgreementError(BrokerError):
    """Root of the agreements package's errors."""

    reason = "agreement_error"


class AgreementRefusal(AgreementError):
    """No agreement permits this share. `reason` is a `RefusalReason` value; `rule` names the
    rule that failed as `AGREEMENT@VERSION/FLOW/CHECK` (`*` when no single flow is at fault).
    """

    def __init__(self, reason: RefusalReason, rule: str) -> None:
        super().__init__(f"{reason.value} ({rule})")
        self.reason = reason.value
        self.rule = rule


class AgreementDocumentError(AgreementError):
    """An agreement document (or a set of them) is invalid. The message names the file and the
    field path of each problem, never a value from the document.
    """

    reason = "agreement_document_invalid"

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = tuple(problems)
