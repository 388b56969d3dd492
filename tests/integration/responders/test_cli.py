"""`cme-broker enquiries ...` and `cme-broker social-care ...` over a data directory whose
responders hold real items (the commands composed here as the lead's `adapters/cli.py` does)."""

from datetime import date
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from adapters.housing.app import build_housing
from adapters.housing.model import TenancyRecord, Tenure
from adapters.housing.settings import HousingSettings
from adapters.social_care.app import build_social_care
from adapters.social_care.cli import social_care_app
from adapters.social_care.settings import SocialCareSettings
from broker.cli.context import set_data_dir
from broker.clock import utc_now
from broker.responder.app import build_responder, open_work_list
from broker.responder.cipher import new_key
from broker.responder.cli import enquiries_app
from broker.responder.records import SubjectKey
from schemas.messages.cme import LocateResponseV1
from tests.clock import Clock
from tests.integration.responders.world import HEALTH, HOUSING, SOCIAL_CARE, ResponderWorld
from tests.unit.responders_builders import SURNAME, address, enquiry, escalation

runner = CliRunner()
app = typer.Typer()
app.add_typer(enquiries_app, name="enquiries")
app.add_typer(social_care_app, name="social-care")


@app.callback()
def main(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    set_data_dir(data_dir)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ResponderWorld:
    """A data directory (the CLI's default SQLite file) shared by the world and the CLI."""
    key = new_key()
    monkeypatch.setenv("CME_RESPONDER_WORK_KEY", key)
    monkeypatch.delenv("CME_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    clock = Clock()
    clock.now = utc_now()  # the CLI seals on the real clock: read its replies on it too
    url = f"sqlite:///{(tmp_path / 'cme.db').resolve()}"
    return ResponderWorld(tmp_path, url, clock, work_key=key)


def cli(data: Path, *args: str, status: int = 0) -> str:
    result = runner.invoke(app, ["--data-dir", str(data), *args])
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == status, output
    return output


def test_list_show_answer_and_answer_again(world: ResponderWorld, tmp_path: Path) -> None:
    work = open_work_list(world.container, world.responder_settings)
    world.enquire(build_responder(world.container, HEALTH, work).responder, enquiry())
    (item,) = work.items(HEALTH)

    listing = cli(tmp_path, "enquiries", "list", "--as", HEALTH)
    assert item.item_id in listing
    assert "2026-11-09" in listing
    assert "no_source" in listing
    assert SURNAME not in listing  # the list shows no personal data
    assert SURNAME in cli(tmp_path, "enquiries", "show", item.item_id, "--as", HEALTH)

    answer = ("enquiries", "answer", item.item_id, "--as", HEALTH, "--outcome", "found")
    assert "answer_invalid" in cli(tmp_path, *answer, status=2)
    where = "12 Example Road, Exampleton, ZZ99 1AB"
    done = cli(tmp_path, *answer, "--gp", "M85001", "--address", where, "--by", "user:t")
    assert "staged for la:330" in done
    (reply,) = world.replies(HEALTH)
    assert isinstance(reply.payload, LocateResponseV1)
    assert reply.payload.current_address == address()
    assert reply.payload.registered_gp == "M85001"
    assert "already_answered" in cli(tmp_path, *answer, "--gp", "M85001", status=2)
    assert "0 item(s)" in cli(tmp_path, "enquiries", "list", "--as", HEALTH)
    assert "answered: found" in cli(tmp_path, "enquiries", "list", "--as", HEALTH, "--all")
    assert "work_item_not_found" in cli(
        tmp_path, "enquiries", "show", item.item_id, "--as", SOCIAL_CARE, status=2
    )


def test_the_front_door_lists_same_day_escalations_and_takes_them_on(
    world: ResponderWorld, tmp_path: Path
) -> None:
    social_care = build_social_care(world.container, SocialCareSettings(), world.responder_settings)
    world.escalate(social_care.app.responder, escalation(same_day=True))
    (item,) = social_care.front_door.waiting()
    door = cli(tmp_path, "social-care", "front-door", "--as", SOCIAL_CARE)
    assert item.item_id in door
    assert "SAME DAY" in door
    assert SURNAME not in door
    assert "taken on" in cli(tmp_path, "social-care", "take-on", item.item_id, "--as", SOCIAL_CARE)
    assert "0 at the front door" in cli(tmp_path, "social-care", "front-door", "--as", SOCIAL_CARE)


def test_show_puts_what_the_records_hold_before_the_person(
    world: ResponderWorld, tmp_path: Path
) -> None:
    forwarding = address("9 New Lane", "ZZ99 5NL")
    left = TenancyRecord("P-1", Tenure.TENANCY, address(), date(2017, 1, 1), date(2019, 3, 1),
                         forwarding)  # fmt: skip
    housing = build_housing(
        world.container, HousingSettings(), world.responder_settings, Records([left])
    )
    world.enquire(housing.responder, enquiry())
    (item,) = housing.responder.work.items(HOUSING)
    listing = cli(tmp_path, "enquiries", "list", "--as", HOUSING)
    assert "location_uncertain" in listing
    assert "New Lane" not in listing  # the list shows no personal data
    shown = cli(tmp_path, "enquiries", "show", item.item_id, "--as", HOUSING)
    assert "NOT sent" in shown
    assert "9 New Lane, Exampleton, ZZ99 5NL" in shown
    assert "Moved out on 2019-03-01" in shown


class Records:
    def __init__(self, records: list[TenancyRecord]) -> None:
        self.records = records

    def find(self, child: SubjectKey) -> list[TenancyRecord]:
        return self.records
