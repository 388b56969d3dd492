"""A planted canary never reaches a log line, whatever a careless call passes to the logger."""

import json
from collections.abc import Iterator

import pytest
import structlog

from broker.logconfig import REDACTED, configure_logging

CANARY_NAME = "Zebedee-Canary-7f3a"
CANARY_UPN = "R201100018042"
CANARY_NHS = "943 476 5919"


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[list[dict[str, object]]]:
    configure_logging(json_output=True)
    log = structlog.get_logger("test")
    log.info(
        "careless",
        payload={"child": {"forenames": CANARY_NAME}},
        child={"surname": CANARY_NAME},
        forenames=CANARY_NAME,
        context={"nested": {"surname": CANARY_NAME, "count": 3}},
        free_text=f"pupil {CANARY_UPN} nhs {CANARY_NHS}",
        items=[{"name": CANARY_NAME}],
        reason_code="schema_invalid",
    )
    err = capsys.readouterr().err
    yield [json.loads(line) for line in err.splitlines() if line.strip()]
    structlog.reset_defaults()


def test_canary_never_reaches_a_log_line(
    log_lines: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    text = json.dumps(log_lines)
    assert log_lines, "the logger wrote nothing: the test would prove nothing"
    for canary in (CANARY_NAME, CANARY_UPN, CANARY_NHS, CANARY_NHS.replace(" ", "")):
        assert canary not in text


def test_redaction_keeps_what_operators_need(log_lines: list[dict[str, object]]) -> None:
    (line,) = log_lines
    assert line["event"] == "careless"
    assert line["reason_code"] == "schema_invalid"
    assert line["payload"] == REDACTED
    assert line["context"] == {"nested": {"surname": REDACTED, "count": 3}}
    assert line["level"] == "info"
