"""Synthetic children for the desk's tests: invented names, `ZZ99` postcodes (non-geographic),
UPNs with computed check letters and NHS numbers in the 999 test range."""

from datetime import date
from typing import Any

from schemas.child import Address, ChildIdentity
from schemas.identifiers import nhs_check_digit, upn_check_letter


def upn(serial: int) -> str:
    """A valid permanent UPN from school 330/4000."""
    body = f"330400026{serial:03d}"
    return upn_check_letter(body) + body


def nhs_number(start: int) -> str:
    """The first valid NHS number in the test range at or after 999000000 + start."""
    n = start
    while True:
        first_nine = f"999{n:06d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return f"{first_nine}{check}"
        n += 1


def address(line: str = "17 Marrowbone Lane", postcode: str | None = "ZZ99 3QF") -> Address:
    """An invented address."""
    return Address(lines=(line,), town="Exampleton", postcode=postcode)


def child(**overrides: Any) -> ChildIdentity:
    """Zephyrine Quillfeather, unless told otherwise."""
    fields: dict[str, Any] = {
        "forenames": "Zephyrine",
        "surname": "Quillfeather",
        "date_of_birth": date(2014, 3, 9),
        "addresses": (address(),),
    }
    fields.update(overrides)
    return ChildIdentity(**fields)
