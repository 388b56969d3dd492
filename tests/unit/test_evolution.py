"""Schema evolution: upgrades, lossless downgrades, and clear refusals."""

import random

import pytest

from schemas.errors import (
    LossyDowngradeError,
    NoMigrationPathError,
    SchemaError,
    UnknownMessageTypeError,
    UnknownSchemaVersionError,
)
from schemas.examples import example_payload
from schemas.messages.deletion_return import DeletionReturnV1, DeletionReturnV2
from schemas.messages.receipt import ReceiptV1
from schemas.registry import MessageSpec, PayloadInvalidError, SchemaRegistry, default_registry

DELETION = "school.deletion_return"


def v1_example(seed: int = 0) -> DeletionReturnV1:
    payload = example_payload(DELETION, 1, rng=random.Random(seed))
    assert isinstance(payload, DeletionReturnV1)
    return payload


@pytest.mark.parametrize("seed", range(5))
def test_v1_upgrades_to_v2_without_loss(seed: int) -> None:
    old = v1_example(seed)
    new = default_registry().migrate(DELETION, old, 2)
    assert isinstance(new, DeletionReturnV2)
    assert new.safeguarding is None
    assert new.child.consistent_identifier is None
    old_data = old.model_dump()
    new_data = new.model_dump(exclude={"safeguarding"})
    new_data["child"].pop("consistent_identifier")
    assert new_data == old_data


@pytest.mark.parametrize("seed", range(5))
def test_v2_downgrades_to_v1_when_nothing_is_lost(seed: int) -> None:
    old = v1_example(seed)
    registry = default_registry()
    assert registry.migrate(DELETION, registry.migrate(DELETION, old, 2), 1) == old


def test_lossy_downgrade_names_the_fields() -> None:
    v2 = default_registry().migrate(DELETION, v1_example(), 2)
    data = v2.model_dump()
    data["child"]["consistent_identifier"] = "9434765919"
    data["safeguarding"] = {"risk_flags": ["looked_after"], "known_to_social_care": True}
    lossy = DeletionReturnV2.model_validate(data)
    with pytest.raises(LossyDowngradeError) as caught:
        default_registry().migrate(DELETION, lossy, 1)
    assert "child.consistent_identifier" in str(caught.value)
    assert "safeguarding" in str(caught.value)
    assert "9434765919" not in str(caught.value)
    assert caught.value.reason == "lossy_downgrade"


def test_migrating_to_the_same_version_is_the_identity() -> None:
    old = v1_example()
    assert default_registry().migrate(DELETION, old, 1) is old


def test_unknown_type_is_refused_everywhere() -> None:
    registry = default_registry()
    for call in (
        lambda: registry.spec("school.unknown", 1),
        lambda: registry.latest("school.unknown"),
        lambda: registry.validate("school.unknown", 1, {}),
        lambda: registry.migrate("school.unknown", v1_example(), 1),
    ):
        with pytest.raises(UnknownMessageTypeError) as caught:
            call()
        assert caught.value.reason == "unknown_message_type"


def test_unknown_version_is_refused() -> None:
    registry = default_registry()
    with pytest.raises(UnknownSchemaVersionError) as caught:
        registry.spec(DELETION, 3)
    assert caught.value.reason == "unknown_schema_version"
    with pytest.raises(UnknownSchemaVersionError):
        registry.validate(DELETION, 0, {})
    with pytest.raises(UnknownSchemaVersionError):
        registry.migrate(DELETION, v1_example(), 3)


def test_a_payload_of_another_type_is_refused() -> None:
    receipt = example_payload("receipt", 1)
    assert isinstance(receipt, ReceiptV1)
    with pytest.raises(UnknownSchemaVersionError):
        default_registry().migrate(DELETION, receipt, 2)


def test_bad_data_is_payload_invalid() -> None:
    data = v1_example().model_dump(mode="json")
    data["ground"] = "9(1)(z)"
    data.pop("deletion_date")
    with pytest.raises(PayloadInvalidError) as caught:
        default_registry().validate(DELETION, 1, data)
    assert caught.value.reason == "schema_invalid"
    assert isinstance(caught.value, SchemaError)
    assert "ground" in str(caught.value)
    assert "deletion_date: Field required" in str(caught.value)
    assert "9(1)(z)" not in str(caught.value)


def test_missing_migration_is_refused() -> None:
    registry = SchemaRegistry(
        [MessageSpec(DELETION, 1, DeletionReturnV1), MessageSpec(DELETION, 2, DeletionReturnV2)]
    )
    with pytest.raises(NoMigrationPathError) as caught:
        registry.migrate(DELETION, v1_example(), 2)
    assert caught.value.reason == "no_migration_path"


def test_every_newer_version_can_be_reached_from_the_one_before() -> None:
    registry = default_registry()
    for message_type in registry.types():
        latest = registry.latest(message_type)
        for version in range(1, latest):
            registry.spec(message_type, version)
            old = example_payload(message_type, version)
            assert (
                type(registry.migrate(message_type, old, latest))
                is registry.spec(message_type, latest).model
            )


def test_an_unexpected_member_name_is_not_echoed() -> None:
    registry = default_registry()
    data = example_payload("school.deletion_return").model_dump(mode="json")
    data["Ada Testchild 2015-03-01"] = 1
    with pytest.raises(PayloadInvalidError) as refused:
        registry.validate("school.deletion_return", registry.latest("school.deletion_return"), data)
    assert "Ada" not in str(refused.value)
    assert "(unexpected member)" in str(refused.value)
