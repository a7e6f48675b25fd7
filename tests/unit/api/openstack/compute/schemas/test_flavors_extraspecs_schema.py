"""The flavor extra specs bodies: metadata-like keys, string or number values."""

import pytest

from mininova import exception
from mininova.api import validation
from mininova.api.openstack.compute.schemas import flavors_extraspecs as schema


def rejected(body_schema, body):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(body_schema, body)
    return str(caught.value)


def test_strings_and_numbers():
    validation.validate(schema.create, {"extra_specs": {
        "capabilities:cpu_arch": "x86_64", "hw:numa_nodes": 2, "quota:cpu_period": 1.5,
        "key with spaces.and-dots_": "v" * 255}})


def test_more_than_128_specs_are_fine():
    validation.validate(schema.create, {"extra_specs": {f"k{i}": "v" for i in range(200)}})


@pytest.mark.parametrize("specs, start", [
    ({"a/b": "1"}, "Invalid input for field/attribute extra_specs."),
    ({"k" * 256: "1"}, "Invalid input for field/attribute extra_specs."),
    ({"key\n": "1"}, "Invalid input for field/attribute extra_specs."),
    ({"key": "v" * 256}, "Invalid input for field/attribute key."),
    ({"key": None}, "Invalid input for field/attribute key."),
    ({"key": True}, "Invalid input for field/attribute key."),
    ({"key": ["a"]}, "Invalid input for field/attribute key."),
])
def test_bad_specs(specs, start):
    assert rejected(schema.create, {"extra_specs": specs}).startswith(start)


def test_create_is_closed():
    assert rejected(schema.create, {"extra_specs": {}, "x": 1}).startswith(
        "Additional properties are not allowed")
    assert "'extra_specs' is a required property" in rejected(schema.create, {})


def test_update_is_exactly_one_spec():
    validation.validate(schema.update, {"hw:numa_nodes": "1"})
    rejected(schema.update, {})
    rejected(schema.update, {"a": "1", "b": "2"})
