"""The work list's building blocks without I/O: the at-rest cipher and its settings, the
answer's schema rules, name matching and the CLI's address parsing."""

import secrets
from datetime import date
from uuid import uuid4

import pytest
from pydantic import SecretStr, ValidationError

from broker.responder import (
    AnswerInvalid,
    InboundRef,
    ItemBinding,
    LocateAnswer,
    ResponderSettings,
    WorkCipher,
    WorkItemUndecryptable,
    new_key,
)
from broker.responder.cli import parse_address
from broker.responder.records import SubjectKey, normal_name
from broker.responder.settings import DEV_WORK_KEY
from broker.settings import Environment
from schemas.messages.cme import LocateOutcome
from tests.unit.responders_builders import CHILD_DOB, NHS_NUMBER, address, nhs_number, subject

BINDING = ItemBinding("health:M85001", "a1b2c3d4e5f6")


def cipher(key_id: str = "k1") -> WorkCipher:
    return WorkCipher(key_id, {key_id: secrets.token_bytes(32)})


def test_a_token_opens_only_under_its_key_and_binding() -> None:
    one = cipher()
    token = one.seal(b'{"surname": "Thistlewood"}', BINDING)
    assert "Thistlewood" not in token
    assert one.open(token, BINDING) == b'{"surname": "Thistlewood"}'
    with pytest.raises(WorkItemUndecryptable):
        one.open(token, ItemBinding("health:M85001", "ffffffffffff"))  # moved to another row
    with pytest.raises(WorkItemUndecryptable):
        one.open(token, ItemBinding("housing:330-ta", BINDING.item_id))  # to another agency
    with pytest.raises(WorkItemUndecryptable):
        cipher().open(token, BINDING)  # another key under the same id
    with pytest.raises(WorkItemUndecryptable):
        one.open(token[:-4] + "AAAA", BINDING)


def test_a_retired_key_still_opens_old_tokens() -> None:
    old_key, new = new_key(), new_key()
    before = ResponderSettings(work_key=SecretStr(old_key), work_key_id="k1")
    token = before.cipher().seal(b"x", BINDING)
    after = ResponderSettings(
        work_key=SecretStr(new), work_key_id="k2", retired_work_keys={"k1": SecretStr(old_key)}
    )
    assert after.cipher().open(token, BINDING) == b"x"
    assert after.cipher().seal(b"x", BINDING).startswith("v1.k2.")


def test_production_refuses_the_placeholder_key_and_bad_keys_are_not_echoed() -> None:
    with pytest.raises(ValidationError, match="CME_RESPONDER_WORK_KEY"):
        ResponderSettings(environment=Environment.PRODUCTION)
    assert ResponderSettings(environment=Environment.PRODUCTION, work_key=SecretStr(new_key()))
    with pytest.raises(ValidationError) as caught:
        ResponderSettings(work_key=SecretStr("not-a-key-at-all"))
    assert "not-a-key-at-all" not in str(caught.value)
    assert ResponderSettings().work_key.get_secret_value() == DEV_WORK_KEY


def test_an_answer_breaking_the_schema_rules_is_refused_by_field() -> None:
    ref = InboundRef("health:M85001", "la:330", uuid4(), "cme.locate_enquiry", 1)
    found_nothing = LocateAnswer(LocateOutcome.FOUND, date(2026, 11, 2))
    with pytest.raises(AnswerInvalid):
        found_nothing.response(ref, "CME-330-2026-000123")
    withheld_with_gp = LocateAnswer(
        LocateOutcome.KNOWN_WITHHELD, date(2026, 11, 2), registered_gp="M85001"
    )
    with pytest.raises(AnswerInvalid, match="withheld"):
        withheld_with_gp.response(ref, "CME-330-2026-000123")
    good = LocateAnswer(LocateOutcome.FOUND, date(2026, 11, 2), registered_gp="M85001")
    response = good.response(ref, "CME-330-2026-000123")
    assert response.enquiry_message_id == ref.message_id


def test_names_match_as_people_write_them() -> None:
    assert normal_name("O'Brien-Smith") == normal_name("obrien smith")
    assert normal_name("Zoë") == normal_name("ZOE")
    key = SubjectKey.of(subject(former_surnames=("Brackenridge",), nhs_number=NHS_NUMBER))
    assert key.matches(surnames=("BRACKENRIDGE",), forenames="isla", date_of_birth=CHILD_DOB)
    assert not key.matches(surnames=("Thistlewood",), forenames="Maya", date_of_birth=CHILD_DOB)
    assert not key.matches(
        surnames=("Thistlewood",), forenames="Isla", date_of_birth=date(2015, 5, 2)
    )
    assert not key.matches(
        surnames=("Thistlewood",),
        forenames="Isla",
        date_of_birth=CHILD_DOB,
        nhs_number=nhs_number(4000),
    )


def test_the_cli_reads_an_address_with_or_without_a_postcode() -> None:
    assert parse_address("12 Example Road, Exampleton, zz991ab") == address()
    two_lines = parse_address("Flat 2, 12 Example Road, Exampleton")
    assert two_lines.lines == ("Flat 2", "12 Example Road")
    assert two_lines.postcode is None
    with pytest.raises(AnswerInvalid):
        parse_address("Exampleton, ZZ99 1AB")
