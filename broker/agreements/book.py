"""The set of agreements a hub enforces, and the decision whether one share is permitted."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from broker.agreements.checks import Share, first_failure
from broker.agreements.errors import AgreementDocumentError, AgreementRefusal, RefusalReason
from broker.agreements.model import Agreement, Flow, FlowRetention
from schemas.justification import Decision, Justification

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def _cited(justification: Justification) -> str:
    """`ID@VERSION` of the agreement a justification cites, for refusal rules. An id no agreement
    could have (the header's free-form token) is not echoed: rules stay a fixed, safe shape."""
    cited = justification.agreement
    return f"{cited.id if _SLUG.match(cited.id) else 'invalid-id'}@{cited.version}"


@dataclass(frozen=True)
class Permit:
    """The agreement, version and flow that permit a share, and the retention it carries."""

    agreement_id: str
    agreement_version: int
    flow_id: str
    retention: FlowRetention

    @property
    def rule(self) -> str:
        """`AGREEMENT@VERSION/FLOW`, for the ledger."""
        return f"{self.agreement_id}@{self.agreement_version}/{self.flow_id}"


@dataclass(frozen=True)
class FlowRow:
    """One flow of one agreement, as `describe()` lists it."""

    agreement: str
    version: int
    status: str
    flow: str
    from_: tuple[str, ...]
    to: tuple[str, ...]
    types: tuple[str, ...]
    purposes: tuple[str, ...]
    bases: tuple[str, ...]


class AgreementBook:
    """Every version of every agreement the hub enforces, looked up by (id, version).

    Several versions of one agreement may coexist: each justification names the version it
    relies on, and each version has its own status and effective dates.
    """

    def __init__(self, agreements: Iterable[Agreement]) -> None:
        self._agreements: dict[tuple[str, int], Agreement] = {}
        for agreement in agreements:
            key = (agreement.id, agreement.version)
            if key in self._agreements:
                raise AgreementDocumentError(agreement.ref, ["id and version defined twice"])
            self._agreements[key] = agreement

    def agreements(self) -> list[Agreement]:
        """Every agreement version, sorted by id then version."""
        return [self._agreements[key] for key in sorted(self._agreements)]

    def get(self, agreement_id: str, version: int) -> Agreement | None:
        """One agreement version, or None."""
        return self._agreements.get((agreement_id, version))

    def evaluate(
        self,
        *,
        sender: str,
        recipient: str,
        message_type: str,
        special_category_spec: bool,
        justification: Justification,
        at: datetime,
    ) -> Permit:
        """Permit the share, or raise `AgreementRefusal` naming the rule that failed.

        `sender` and `recipient` are validated agency ids (the outer header's `iss` and `aud`);
        `special_category_spec` is the message spec's `special_category`; `at` is the aware
        time of the share (the router's clock). Only the agreement version the justification
        names is consulted, and a share to oneself is never permitted. Among the flows between
        the two parties that carry the type, the first (in document order) that passes every
        check permits the share; when none does, the refusal is that of the flow which got
        furthest through the checks.
        """
        ref = _cited(justification)
        if justification.decision is Decision.NOT_SHARE:
            raise AgreementRefusal(RefusalReason.DECISION_NOT_SHARE, f"{ref}/*/decision")
        agreement = self.get(justification.agreement.id, justification.agreement.version)
        if agreement is None:
            raise AgreementRefusal(RefusalReason.NO_AGREEMENT, f"{ref}/*/exists")
        if not agreement.in_force(at):
            raise AgreementRefusal(RefusalReason.NO_AGREEMENT, f"{ref}/*/in_force")
        # A share is between two parties: "school (LA 330) -> school (LA 330)" means another
        # school, never the sender itself.
        between = [
            f for f in agreement.flows if sender != recipient and f.connects(sender, recipient)
        ]
        if not between:
            raise AgreementRefusal(RefusalReason.PARTY_NOT_PERMITTED, f"{ref}/*/parties")
        carrying = [f for f in between if message_type in f.message_types]
        if not carrying:
            flow_id = between[0].id if len(between) == 1 else "*"
            raise AgreementRefusal(
                RefusalReason.MESSAGE_TYPE_NOT_PERMITTED, f"{ref}/{flow_id}/message_type"
            )
        return self._first_permitting(
            agreement, carrying, Share(message_type, special_category_spec, justification)
        )

    @staticmethod
    def _first_permitting(agreement: Agreement, flows: list[Flow], share: Share) -> Permit:
        furthest: tuple[int, Flow, RefusalReason, str] | None = None
        for flow in flows:
            failed = first_failure(flow, share)
            if failed is None:
                return Permit(agreement.id, agreement.version, flow.id, flow.retention)
            position, (reason, check) = failed
            if furthest is None or position > furthest[0]:
                furthest = (position, flow, reason, check)
        assert furthest is not None  # `flows` is never empty here
        _, flow, reason, check = furthest
        raise AgreementRefusal(reason, f"{agreement.ref}/{flow.id}/{check}")

    def describe(self) -> list[FlowRow]:
        """One row per flow of every agreement version: what it permits, for people."""
        return [
            FlowRow(
                agreement=agreement.id,
                version=agreement.version,
                status=agreement.status.value,
                flow=flow.id,
                from_=tuple(str(s) for s in flow.from_),
                to=tuple(str(s) for s in flow.to),
                types=flow.message_types,
                purposes=tuple(p.value for p in flow.purposes),
                bases=tuple(b.value for b in flow.lawful_bases),
            )
            for agreement in self.agreements()
            for flow in agreement.flows
        ]
