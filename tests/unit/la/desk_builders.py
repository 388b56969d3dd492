"""Synthetic inputs for the desk's rule tests: a fixed day, an LA policy, and valid messages.

Messages start from `schemas.examples.example_payload` (made-up children, ZZ99 postcodes) and
are re-validated after each change, so every test input is a payload the hub could deliver.
"""

import random
from datetime import date
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from adapters.la.calendar import WorkingDayCalendar
from adapters.la.rules import DeskPolicy, EnquiryAgencies
from schemas.domain import CmeReason, DeletionGround, RiskFlag
from schemas.examples import example_payload
from schemas.messages.cme import CrossBorderNotificationV1, LocateResponseV1, ReferralV1
from schemas.messages.deletion_return import DeletionReturnV1, DeletionReturnV2
from schemas.messages.school import AttendanceReturnV1, NonArrivalV1

TODAY: Final = date(2026, 11, 2)
"""A Monday in the autumn term (the shared test clock's day)."""
FIVE_WORKING_DAYS_LATER: Final = date(2026, 11, 9)
TWO_WORKING_DAYS_LATER: Final = date(2026, 11, 4)
TEN_WORKING_DAYS_LATER: Final = date(2026, 11, 16)
CHILD_DOB: Final = date(2015, 5, 1)
"""Aged 11 on `TODAY`: of compulsory school age."""
OWN_LA: Final = "la:330"
NEIGHBOUR_LA: Final = "la:331"
NEW_SCHOOL_HERE: Final = "3304001"
NEW_SCHOOL_NEIGHBOUR: Final = "3314012"

CALENDAR: Final = WorkingDayCalendar()
AGENCIES: Final = EnquiryAgencies(
    health="health:M85001", housing="housing:330-ta", social_care="social_care:330"
)
POLICY: Final = DeskPolicy(la_id=OWN_LA, agencies=AGENCIES)
POLICY_WITH_POLICE: Final = DeskPolicy(
    la_id=OWN_LA,
    agencies=EnquiryAgencies(
        health="health:M85001",
        housing="housing:330-ta",
        social_care="social_care:330",
        police="police:20",
    ),
)

M = TypeVar("M", bound=BaseModel)
Data = dict[str, Any]


def _example(message_type: str, version: int | None = None) -> Data:
    payload = example_payload(message_type, version, rng=random.Random(7), today=TODAY)
    data: Data = payload.model_dump(mode="json")
    if "child" in data:
        data["child"]["date_of_birth"] = CHILD_DOB.isoformat()
    return data


def rebuilt(model: type[M], data: Data) -> M:
    """`data` validated as `model` (so a test never holds an impossible message)."""
    return model.model_validate(data)


def address(town: str = "Birmingham", country: str = "GB") -> Data:
    """A made-up address (fictional street, the non-geographic ZZ99 postcode area)."""
    return {"lines": ["12 Example Road"], "town": town, "postcode": "ZZ99 1AB", "country": country}


def school_ref(laestab: str) -> Data:
    return {"laestab": laestab, "name": "Example Park Academy"}


def deletion_return(
    ground: DeletionGround,
    *,
    destination_known: bool = False,
    future_address: Data | None = None,
    new_school: Data | None = None,
    destination_confirmed: bool | None = None,
    risk_flags: tuple[RiskFlag, ...] = (),
    date_of_birth: date = CHILD_DOB,
) -> DeletionReturnV2:
    """A version 2 deletion return on `ground` with the destination facts given."""
    data = _example("school.deletion_return", 2)
    data["child"]["date_of_birth"] = date_of_birth.isoformat()
    data.update(
        ground=ground.value,
        destination_known=destination_known,
        future_address=future_address,
        future_address_from=TODAY.isoformat() if future_address else None,
        new_school=new_school,
        destination_confirmed=destination_confirmed,
        safeguarding={"risk_flags": [f.value for f in risk_flags]} if risk_flags else None,
    )
    return rebuilt(DeletionReturnV2, data)


def deletion_return_v1(ground: DeletionGround) -> DeletionReturnV1:
    """A version 1 deletion return (no safeguarding context), destination unknown."""
    data = _example("school.deletion_return", 1)
    data.update(
        ground=ground.value,
        destination_known=False,
        future_address=None,
        future_address_from=None,
        new_school=None,
        destination_confirmed=None,
    )
    return rebuilt(DeletionReturnV1, data)


def non_arrival(date_of_birth: date = CHILD_DOB) -> NonArrivalV1:
    data = _example("school.non_arrival")
    data["child"]["date_of_birth"] = date_of_birth.isoformat()
    return rebuilt(NonArrivalV1, data)


def attendance_return(*, whereabouts_known: bool) -> AttendanceReturnV1:
    data = _example("school.attendance_return")
    data["whereabouts_known"] = whereabouts_known
    return rebuilt(AttendanceReturnV1, data)


def referral(
    reason: CmeReason = CmeReason.UNKNOWN, risk_flags: tuple[RiskFlag, ...] = ()
) -> ReferralV1:
    data = _example("cme.referral")
    data.update(reason=reason.value, risk_flags=[f.value for f in risk_flags], last_seen=None)
    return rebuilt(ReferralV1, data)


def cross_border_notification(
    *, to_la: str = OWN_LA, from_la: str = NEIGHBOUR_LA, risk_flags: tuple[RiskFlag, ...] = ()
) -> CrossBorderNotificationV1:
    data = _example("cme.cross_border_notification")
    data.update(
        from_la=from_la,
        to_la=to_la,
        risk_flags=[f.value for f in risk_flags],
        respond_by=TEN_WORKING_DAYS_LATER.isoformat(),
    )
    return rebuilt(CrossBorderNotificationV1, data)


def locate_response(outcome: str, *, with_address: bool = True) -> LocateResponseV1:
    data = _example("cme.locate_response")
    found = outcome == "found"
    data.update(
        outcome=outcome,
        evidence_date="2026-10-20",
        current_address=address("Coventry") if found and with_address else None,
        registered_gp="M85002" if found else None,
        school=None,
    )
    return rebuilt(LocateResponseV1, data)
