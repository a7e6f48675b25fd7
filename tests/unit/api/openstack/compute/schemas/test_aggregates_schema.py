"""The os-aggregates body schemas."""

import pytest

from mininova import exception
from mininova.api import validation
from mininova.api.openstack.compute.schemas import aggregates


def rejected(schema, body):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(schema, body)
    return str(caught.value)


@pytest.mark.parametrize("body", [
    {"aggregate": {"name": "rack1"}},
    {"aggregate": {"name": "rack1", "availability_zone": "az1"}},
    {"aggregate": {"name": "r" * 255, "availability_zone": None}},
])
def test_valid_create_bodies(body):
    validation.validate(aggregates.create, body)


@pytest.mark.parametrize("body, start", [
    ({"aggregate": {"name": ""}}, "Invalid input for field/attribute name."),
    ({"aggregate": {"name": "r" * 256}}, "Invalid input for field/attribute name."),
    ({"aggregate": {"name": "rack1 "}}, "Invalid input for field/attribute name."),
    ({"aggregate": {"name": "x", "availability_zone": "a:b"}},
     "Invalid input for field/attribute availability_zone."),
    ({"aggregate": {"name": "x", "availability_zone": ""}},
     "Invalid input for field/attribute availability_zone."),
    ({"aggregate": {"name": "x", "hosts": []}}, "Invalid input for field/attribute aggregate."),
    ({"aggregate": {}}, "Invalid input for field/attribute aggregate."),
    ({"name": "x"}, "'aggregate' is a required property"),
])
def test_invalid_create_bodies(body, start):
    assert rejected(aggregates.create, body).startswith(start)


def test_update_needs_a_name_or_a_zone():
    validation.validate(aggregates.update, {"aggregate": {"name": "x"}})
    validation.validate(aggregates.update, {"aggregate": {"availability_zone": "az1"}})
    # null passes the schema: the API answers it with Nova's own message.
    validation.validate(aggregates.update, {"aggregate": {"availability_zone": None}})
    assert rejected(aggregates.update, {"aggregate": {}}).startswith(
        "Invalid input for field/attribute aggregate.")


@pytest.mark.parametrize("host", ["host1", "compute-1.example.org", "a_b"])
def test_host_names(host):
    validation.validate(aggregates.add_host, {"add_host": {"host": host}})
    validation.validate(aggregates.remove_host, {"remove_host": {"host": host}})


@pytest.mark.parametrize("host", ["", "h" * 256, "host 1", "host/1", "host1\n"])
def test_bad_host_names(host):
    assert rejected(aggregates.add_host, {"add_host": {"host": host}}).startswith(
        "Invalid input for field/attribute host.")


def test_a_host_action_is_closed():
    assert "'extra' was unexpected" in rejected(
        aggregates.add_host, {"add_host": {"host": "h", "extra": 1}})


def test_metadata_values_may_be_null_to_unset():
    validation.validate(aggregates.set_metadata,
                        {"set_metadata": {"metadata": {"ssd": "true", "gpu": None}}})


@pytest.mark.parametrize("metadata", [{"a/b": "1"}, {"k": "v" * 256}, {"k": 1}])
def test_bad_metadata(metadata):
    rejected(aggregates.set_metadata, {"set_metadata": {"metadata": metadata}})


def test_the_shared_metadata_schema_is_not_changed():
    # set_metadata allows null values in a copy, never in servers' metadata.
    from mininova.api.validation import parameter_types

    assert [v["type"] for v in parameter_types.metadata["patternProperties"].values()] == [
        "string"]
