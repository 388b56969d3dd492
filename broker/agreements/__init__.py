"""Data sharing agreements as code (DESIGN.md section 4).

Versioned agreement documents (`deploy/agreements/*.yaml`) say which parties may send which
message types to whom, for which purposes, on which lawful bases and statutory gateways, with
which fields and retention. The router asks `AgreementBook.evaluate` about every share and
refuses, with a stable reason code and the rule that failed, any share no agreement permits.
Receipts are not covered by agreements: the router permits them on its own rule.
"""

from broker.agreements.book import AgreementBook, FlowRow, Permit
from broker.agreements.errors import (
    REFUSAL_REASONS,
    AgreementDocumentError,
    AgreementError,
    AgreementRefusal,
    RefusalReason,
)
from broker.agreements.justify import ShareIntent, justify
from broker.agreements.loader import load_agreement_file, load_agreements, parse_agreement
from broker.agreements.model import Agreement, AgreementStatus, Flow, FlowRetention
from broker.agreements.parties import PartySelector, area_of

__all__ = [
    "REFUSAL_REASONS",
    "Agreement",
    "AgreementBook",
    "AgreementDocumentError",
    "AgreementError",
    "AgreementRefusal",
    "AgreementStatus",
    "Flow",
    "FlowRetention",
    "FlowRow",
    "PartySelector",
    "Permit",
    "RefusalReason",
    "ShareIntent",
    "area_of",
    "justify",
    "load_agreement_file",
    "load_agreements",
    "parse_agreement",
]
