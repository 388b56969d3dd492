"""Reading agreement documents (YAML or JSON) from a directory.

Every `*.yaml`, `*.yml` and `*.json` file directly in the directory holds one agreement
version. A problem is reported with the file and the field path (`flows.2.message_types.0`),
never with the value found there.
"""

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from broker.agreements.book import AgreementBook
from broker.agreements.errors import AgreementDocumentError
from broker.agreements.model import Agreement

SUFFIXES = (".yaml", ".yml", ".json")
_MAX_PROBLEMS = 20


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a repeated key: PyYAML would silently keep the last one, which
    could quietly replace a whole list of flows."""


def _mapping_without_repeats(loader: _StrictLoader, node: yaml.MappingNode) -> Any:
    keys = [loader.construct_object(key, deep=True) for key, _ in node.value]
    for position, key in enumerate(keys):
        if key in keys[:position]:
            mark = node.value[position][0].start_mark
            raise yaml.constructor.ConstructorError(
                None, None, "a key repeats in the same mapping", mark
            )
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_repeats
)


def _where(line: int, column: int) -> str:
    return f"line {line}, column {column}"


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise AgreementDocumentError(str(path), ["cannot be read as UTF-8 text"]) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise AgreementDocumentError(
                str(path), [f"not valid JSON ({_where(exc.lineno, exc.colno)})"]
            ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506  a SafeLoader subclass
    except yaml.YAMLError as exc:
        # str(exc) quotes the offending line, so only the position is reported.
        mark = getattr(exc, "problem_mark", None)
        where = f" ({_where(mark.line + 1, mark.column + 1)})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        if problem != "a key repeats in the same mapping":
            problem = "not valid YAML"
        raise AgreementDocumentError(str(path), [f"{problem}{where}"]) from None


def _problems(error: ValidationError) -> list[str]:
    items = error.errors(include_url=False, include_input=False, include_context=False)
    locations = [tuple(item["loc"]) for item in items]
    problems = []
    for location, item in zip(locations, items, strict=True):
        # A container's error that follows from an error inside it (a list left "empty after
        # validation" because its only item failed) is noise: report the inner one only.
        if any(other[: len(location)] == location and other != location for other in locations):
            continue
        where = ".".join(str(part) for part in location) or "(document)"
        problems.append(f"{where}: {item['msg']}")
    return problems[:_MAX_PROBLEMS]


def parse_agreement(data: Any, source: str) -> Agreement:
    """Validate one already-parsed document; `source` names it in errors."""
    if not isinstance(data, dict):
        raise AgreementDocumentError(source, ["(document): must be a mapping of fields"])
    try:
        return Agreement.model_validate(data)
    except ValidationError as exc:
        raise AgreementDocumentError(source, _problems(exc)) from None


def load_agreement_file(path: Path) -> Agreement:
    """Read and validate one agreement document."""
    return parse_agreement(_read(path), str(path))


def load_agreements(directory: Path) -> AgreementBook:
    """Every agreement document in `directory`, validated, as an `AgreementBook`.

    Raises `AgreementDocumentError` (naming the file and the field path) for the first invalid
    document, for two documents with the same id and version, and for a directory that is
    missing or holds no documents (a hub with no agreements would refuse every share).
    """
    if not directory.is_dir():
        raise AgreementDocumentError(str(directory), ["not a directory"])
    paths = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not paths:
        raise AgreementDocumentError(str(directory), ["no agreement documents (*.yaml, *.json)"])
    found: dict[tuple[str, int], Path] = {}
    agreements = []
    for path in paths:
        agreement = load_agreement_file(path)
        first = found.setdefault((agreement.id, agreement.version), path)
        if first is not path:
            raise AgreementDocumentError(
                str(path), [f"id, version: already defined by {first.name}"]
            )
        agreements.append(agreement)
    return AgreementBook(agreements)
