"""Scoring how likely two recorded identities are the same child (pure: no I/O, no keys).

The register first looks for a shared UPN, NHS number or consistent identifier (certain).
Failing that it finds candidates sharing a demographic key (surname or first forename, with
the date of birth) and scores each pair here, after decryption:

    score = 0.30 forenames + 0.30 surname + 0.20 date of birth + 0.20 address

* names: normalised (`protect.normalise_name`), compared with difflib's ratio; a similarity
  below 0.75 counts 0, so an unrelated name earns nothing. Forenames take the best of the
  whole string, the sorted tokens (order swapped) and 0.9 x the first forename alone (a
  middle name added or dropped). Surnames take the best pair among current and former ones.
* date of birth: 1 when equal, else 0.
* address, best pair: the same UPRN, or the same postcode and a first line at least 0.85
  alike, 1.0; the same postcode only, or the same first line and town without postcodes, 0.6.

Gates, whatever the sum: forenames that clearly differ (< 0.5) mean a sibling or twin, so the
result is NONE; a different date of birth is NONE; both sides holding a UPN, NHS number or
consistent identifier that differ caps the result at POSSIBLE (a person looks).

With the default thresholds (certain 0.90, possible 0.60): the same names and birth date at
the same postcode score 0.92 (DEMOGRAPHIC); with no address in common, 0.80 (POSSIBLE, because
children with common names share birthdays); a changed surname at the same address, 0.70
(POSSIBLE); only a forename and birth date in common, 0.50 (NONE).
"""

from dataclasses import dataclass
from difflib import SequenceMatcher

from adapters.la.model import MatchKind
from adapters.la.protect import first_forename, normalise_identifier, normalise_name
from schemas.child import Address, ChildIdentity

W_FORENAMES = 0.30
W_SURNAME = 0.30
W_DOB = 0.20
W_ADDRESS = 0.20
NAME_FLOOR = 0.75
"""Below this similarity a name earns nothing."""
SIBLING_BELOW = 0.5
"""Forenames less alike than this: a different child of the same family."""
LINE_ALIKE = 0.85


@dataclass(frozen=True)
class MatchPolicy:
    """The thresholds between DEMOGRAPHIC, POSSIBLE and NONE."""

    certain: float = 0.90
    possible: float = 0.60

    def __post_init__(self) -> None:
        if not 0 < self.possible < self.certain <= 1:
            raise ValueError("need 0 < possible < certain <= 1")


@dataclass(frozen=True)
class Score:
    """A pair's score, and the gates that override it."""

    value: float
    different_child: bool = False
    """A gate says these are two children (sibling forenames, another birth date)."""
    conflicting_identifier: bool = False


def _similar(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return 1.0 if a == b else SequenceMatcher(None, a, b).ratio()


def _floor(similarity: float) -> float:
    return similarity if similarity >= NAME_FLOOR else 0.0


def forename_similarity(a: str, b: str) -> float:
    """How alike two forename strings are (0..1), raw (before the floor)."""
    whole = _similar(normalise_name(a), normalise_name(b))
    tokens_a = sorted(normalise_name(t) for t in a.replace("-", " ").split())
    tokens_b = sorted(normalise_name(t) for t in b.replace("-", " ").split())
    swapped = _similar("".join(tokens_a), "".join(tokens_b))
    first = 0.9 * _similar(first_forename(a), first_forename(b))
    return max(whole, swapped, first)


def surname_similarity(a: ChildIdentity, b: ChildIdentity) -> float:
    """The best similarity among current and former surnames (0..1)."""
    names_a = {normalise_name(n) for n in (a.surname, *a.former_surnames)}
    names_b = {normalise_name(n) for n in (b.surname, *b.former_surnames)}
    return max((_similar(x, y) for x in names_a for y in names_b), default=0.0)


def _postcode(address: Address) -> str:
    return normalise_identifier(address.postcode) if address.postcode else ""


def _address_pair(a: Address, b: Address) -> float:
    if a.uprn and a.uprn == b.uprn:
        return 1.0
    line = _similar(normalise_name(a.lines[0]), normalise_name(b.lines[0]))
    same_postcode = bool(_postcode(a)) and _postcode(a) == _postcode(b)
    if same_postcode:
        return 1.0 if line >= LINE_ALIKE else 0.6
    no_postcodes = not _postcode(a) or not _postcode(b)
    same_town = normalise_name(a.town) == normalise_name(b.town)
    return 0.6 if no_postcodes and same_town and line >= LINE_ALIKE else 0.0


def address_similarity(a: ChildIdentity, b: ChildIdentity) -> float:
    """The best agreement between any address of one and any of the other (0, 0.6 or 1)."""
    return max((_address_pair(x, y) for x in a.addresses for y in b.addresses), default=0.0)


def _identifiers_conflict(a: ChildIdentity, b: ChildIdentity) -> bool:
    for x, y in (
        (a.upn, b.upn),
        (a.nhs_number, b.nhs_number),
        (a.consistent_identifier, b.consistent_identifier),
    ):
        if x and y and normalise_identifier(x) != normalise_identifier(y):
            return True
    return False


def score(a: ChildIdentity, b: ChildIdentity) -> Score:
    """Score a pair of identities (see the module docstring for the rule)."""
    forenames = forename_similarity(a.forenames, b.forenames)
    same_dob = a.date_of_birth == b.date_of_birth
    value = (
        W_FORENAMES * _floor(forenames)
        + W_SURNAME * _floor(surname_similarity(a, b))
        + W_DOB * (1.0 if same_dob else 0.0)
        + W_ADDRESS * address_similarity(a, b)
    )
    return Score(
        value=round(value, 4),
        different_child=forenames < SIBLING_BELOW or not same_dob,
        conflicting_identifier=_identifiers_conflict(a, b),
    )


def classify(result: Score, policy: MatchPolicy) -> MatchKind:
    """DEMOGRAPHIC, POSSIBLE or NONE for a score under the policy."""
    if result.different_child or result.value < policy.possible:
        return MatchKind.NONE
    if result.value >= policy.certain and not result.conflicting_identifier:
        return MatchKind.DEMOGRAPHIC
    return MatchKind.POSSIBLE
