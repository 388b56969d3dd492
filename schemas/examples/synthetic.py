"""Synthetic personal data: every value is made up here, nothing is read from outside.

Names come from short lists of common names and streets are fictional; postcodes use the
non-geographic `ZZ99` area; UPNs carry computed check letters; NHS numbers sit in the `999`
test range with a valid check digit; phone numbers are in Ofcom's drama range (07700 900xxx).
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar
from uuid import UUID

from schemas.domain import Sex
from schemas.identifiers import nhs_check_digit, upn_check_letter

T = TypeVar("T")
Data = dict[str, Any]
"""A JSON-like payload, validated by the registry into its model."""

_FORENAMES = ("Amelia", "Oliver", "Isla", "Muhammad", "Ava", "Noah", "Freya", "Leo", "Aisha")
_FORENAMES_2 = ("Jack", "Maya", "Harry", "Zara", "Theo", "Poppy", "Yusuf", "Ivy", "Kai")
_SURNAMES = ("Smith", "Jones", "Khan", "Taylor", "Brown", "Patel", "Williams", "Ali", "Wilson")
_SURNAMES_2 = ("Davies", "Evans", "Begum", "Thomas", "Hussain", "Walker", "Wright", "Green")
_STREETS = ("Example Road", "Sample Street", "Testing Lane", "Placeholder Avenue", "Mock Close")
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters a postcode's inward code may use
_NOTES = (
    "Home visit made; no answer at the address.",
    "Neighbours report the family moved out recently.",
    "Parent not contactable by phone or letter.",
    "Sibling's school also reports absence.",
)


def synthetic_upn(rng: random.Random, la: str = "330", estab: str = "4000") -> str:
    """A permanent UPN allocated by the given school, with its computed check letter."""
    body = f"{la}{estab}{rng.randrange(100):02d}{rng.randrange(1000):03d}"
    return upn_check_letter(body) + body


def synthetic_nhs_number(rng: random.Random) -> str:
    """An NHS number in the 999 test range with a valid modulus 11 check digit."""
    while True:  # about one in eleven draws has no valid check digit
        first_nine = f"999{rng.randrange(10**6):06d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return f"{first_nine}{check}"


def maybe(rng: random.Random, value: T) -> T | None:
    """`value` or None, evenly."""
    return value if rng.random() < 0.5 else None


def some(rng: random.Random, items: Iterable[T], at_most: int, at_least: int = 0) -> list[T]:
    """Between `at_least` and `at_most` distinct items."""
    return rng.sample(list(items), rng.randint(at_least, at_most))


def random_uuid(rng: random.Random) -> str:
    """A version 4 UUID drawn from `rng` (so seeded examples repeat)."""
    return str(UUID(int=rng.getrandbits(128), version=4))


def working_days_after(start: date, days: int) -> date:
    """The date `days` weekdays after `start` (bank holidays ignored: examples only)."""
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


@dataclass(frozen=True)
class Synth:
    """A synthetic child and helpers, drawn from one random source."""

    rng: random.Random
    today: date

    def address(self, town: str = "Birmingham") -> Data:
        inward = f"{self.rng.randrange(10)}{''.join(self.rng.sample(_INWARD_LETTERS, 2))}"
        lines = [f"{self.rng.randint(1, 240)} {self.rng.choice(_STREETS)}"]
        return {"lines": lines, "town": town, "postcode": f"ZZ99 {inward}"}

    def child(self, *, identity: bool = True) -> Data:
        rng = self.rng
        dob = self.today - timedelta(days=rng.randint(5 * 365, 15 * 365))
        data: Data = {
            "forenames": f"{rng.choice(_FORENAMES)} {rng.choice(_FORENAMES_2)}",
            "surname": f"{rng.choice(_SURNAMES)}-{rng.choice(_SURNAMES_2)}",
            "date_of_birth": dob.isoformat(),
            "sex": rng.choice(list(Sex)).value,
            "upn": synthetic_upn(rng),
            "nhs_number": maybe(rng, synthetic_nhs_number(rng)),
            "addresses": [self.address()],
        }
        if identity and rng.random() < 0.2:
            data["consistent_identifier"] = synthetic_nhs_number(rng)
        return data

    def pupil(self, child: Data) -> Data:
        keys = ("forenames", "surname", "date_of_birth", "upn")
        return {key: child[key] for key in keys}

    def parents(self, child: Data) -> list[Data]:
        relationships = some(self.rng, ("mother", "father", "carer"), 2, 1)
        return [
            {
                "name": f"{self.rng.choice(_FORENAMES)} {child['surname']}",
                "relationship": relationship,
                "address": child["addresses"][0],
                "emergency_phone": f"07700 900{self.rng.randrange(1000):03d}",
            }
            for relationship in relationships
        ]

    def days_ago(self, low: int, high: int) -> str:
        return (self.today - timedelta(days=self.rng.randint(low, high))).isoformat()

    def case_ref(self) -> str:
        return f"CME-330-{self.today.year}-{self.rng.randrange(10**6):06d}"

    def sentence(self) -> str:
        return self.rng.choice(_NOTES)

    def note(self) -> str | None:
        return maybe(self.rng, self.sentence())

    def school_ref(self, laestab: str) -> Data:
        urn = f"{self.rng.randrange(100000, 1000000)}"
        return {"laestab": laestab, "urn": urn, "name": "Example Park Academy"}
