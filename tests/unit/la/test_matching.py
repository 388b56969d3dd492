"""The demographic score: the documented examples, and the gates that override the sum."""

from datetime import date
from typing import Any

import pytest

from adapters.la.matching import MatchPolicy, classify, forename_similarity, score
from adapters.la.model import MatchKind
from schemas.child import Address, ChildIdentity

POLICY = MatchPolicy()
HOME = Address(lines=("12 Marrowbone Lane",), town="Exampleton", postcode="ZZ99 3QF")


def child(**overrides: Any) -> ChildIdentity:
    fields: dict[str, Any] = {
        "forenames": "Zephyrine",
        "surname": "Quillfeather",
        "date_of_birth": date(2014, 3, 9),
        "addresses": (HOME,),
    }
    fields.update(overrides)
    return ChildIdentity(**fields)


def kind_and_score(a: ChildIdentity, b: ChildIdentity) -> tuple[MatchKind, float]:
    result = score(a, b)
    return classify(result, POLICY), result.value


@pytest.mark.parametrize(
    ("other", "expected_kind", "expected_score"),
    [
        (child(), MatchKind.DEMOGRAPHIC, 1.0),
        (  # same postcode, another house
            child(addresses=(HOME.model_copy(update={"lines": ("3 Thornapple Court",)}),)),
            MatchKind.DEMOGRAPHIC,
            0.92,
        ),
        (child(addresses=()), MatchKind.POSSIBLE, 0.8),  # nothing in common but name and birth
        (  # the surname changed, same address
            child(surname="Brackenwhistle"),
            MatchKind.POSSIBLE,
            0.7,
        ),
        (child(surname="Brackenwhistle", addresses=()), MatchKind.NONE, 0.5),
        (child(forenames="Orrin"), MatchKind.NONE, 0.7),  # a twin: gated
        (child(date_of_birth=date(2014, 3, 10)), MatchKind.NONE, 0.8),  # gated
    ],
)
def test_documented_examples(
    other: ChildIdentity, expected_kind: MatchKind, expected_score: float
) -> None:
    kind, value = kind_and_score(child(), other)
    assert kind is expected_kind
    assert value == pytest.approx(expected_score, abs=0.001)


def test_small_spelling_differences_still_match() -> None:
    kind, value = kind_and_score(child(), child(forenames="Zephyrin", surname="Quilfeather"))
    assert kind is MatchKind.DEMOGRAPHIC
    assert 0.9 <= value < 1
    assert forename_similarity("Zephyrine Maud", "Maud Zephyrine") == 1.0  # order swapped
    assert forename_similarity("Zephyrine Maud", "Zephyrine") >= 0.9  # middle name dropped


def test_a_former_surname_counts() -> None:
    now = child(surname="Brackenwhistle", former_surnames=("Quillfeather",))
    assert kind_and_score(child(), now) == (MatchKind.DEMOGRAPHIC, 1.0)


def test_conflicting_identifiers_cap_at_possible() -> None:
    a = child(nhs_number="9000000009")
    b = child(nhs_number="9434765919")
    assert kind_and_score(a, b) == (MatchKind.POSSIBLE, 1.0)
    assert kind_and_score(a, child(upn="R201100018042"))[0] is MatchKind.DEMOGRAPHIC


def test_uprn_or_same_first_line_without_postcodes() -> None:
    with_uprn = HOME.model_copy(update={"uprn": "100012345678", "postcode": None})
    moved_in = HOME.model_copy(update={"uprn": "100012345678", "lines": ("Flat 1",)})
    assert kind_and_score(child(addresses=(with_uprn,)), child(addresses=(moved_in,)))[1] == 1.0
    no_postcode = HOME.model_copy(update={"postcode": None})
    assert kind_and_score(child(addresses=(no_postcode,)), child())[1] == pytest.approx(0.92)


def test_policy_thresholds_are_ordered() -> None:
    with pytest.raises(ValueError, match="possible < certain"):
        MatchPolicy(certain=0.5, possible=0.6)
