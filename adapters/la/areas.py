"""Which LA's area a postcode is in, from a table the LA maintains (e.g. cut from the ONS
Postcode Directory): CSV rows `prefix,la_code`, where the longest matching prefix of the
normalised postcode wins (`B1` for a district, `B12 9` for a sector, a full postcode)."""

import csv
from dataclasses import dataclass
from pathlib import Path

from adapters.la.errors import InvalidInput
from schemas.reference import current_la_codes


@dataclass(frozen=True)
class PostcodeAreas:
    """An `AreaLookup` over postcode prefixes."""

    prefixes: dict[str, str]

    @classmethod
    def from_csv(cls, path: Path) -> "PostcodeAreas":
        """Load `prefix,la_code` rows (a header row `prefix,la_code` is required)."""
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != ["prefix", "la_code"]:
                raise InvalidInput("areas_file_header", "the header must be prefix,la_code")
            table = {_normal(row["prefix"]): row["la_code"].strip() for row in reader}
        unknown = sorted(code for code in set(table.values()) if code not in current_la_codes())
        if unknown:
            raise InvalidInput("areas_file_la_code", f"not current LA codes: {', '.join(unknown)}")
        return cls(table)

    def la_code(self, postcode: str) -> str | None:
        """The LA code of the longest prefix of `postcode` in the table, or None."""
        normal = _normal(postcode)
        for end in range(len(normal), 0, -1):
            code = self.prefixes.get(normal[:end])
            if code is not None and _at_boundary(normal, end):
                return code
        return None


def _normal(postcode: str) -> str:
    return " ".join(postcode.upper().split())


def _at_boundary(postcode: str, end: int) -> bool:
    """A prefix ends at a whole part: `B1` must not match `B12 9ZZ`."""
    if end == len(postcode) or postcode[end] == " ":
        return True
    return " " in postcode[:end]
