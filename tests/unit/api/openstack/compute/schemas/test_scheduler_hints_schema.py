"""``os:scheduler_hints`` in the POST /servers body: ``group`` is a uuid; other
hints pass as strings or lists of strings."""

import pytest

from mininova import exception
from mininova.api import validation
from mininova.api.openstack.compute.schemas import servers

SERVER = {"name": "web-1", "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "flavorRef": "1"}
GROUP = "0b5c1b9e-9a4c-4d0e-9c53-1c0c2e0f0f3a"


def with_hints(hints):
    return {"server": dict(SERVER), "os:scheduler_hints": hints}


def rejected(body):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(servers.create, body)
    return str(caught.value)


@pytest.mark.parametrize("hints", [
    {},
    {"group": GROUP},
    {"group": GROUP, "same_host": ["a", "b"], "target_cell": "cell1"},
])
def test_valid_hints(hints):
    validation.validate(servers.create, with_hints(hints))


def test_the_group_must_be_a_uuid():
    assert rejected(with_hints({"group": "web"})) == (
        "Invalid input for field/attribute group. Value: web. 'web' is not a 'uuid'")
    assert rejected(with_hints({"group": ["web"]})).startswith(
        "Invalid input for field/attribute group.")


@pytest.mark.parametrize("value", [{"nested": "x"}, 3, None, ["a", 1]])
def test_other_hints_are_strings_or_lists_of_strings(value):
    rejected(with_hints({"query": value}))


def test_hints_are_an_object_beside_server_not_inside_it():
    rejected(with_hints(["group"]))
    body = {"server": dict(SERVER, **{"os:scheduler_hints": {"group": GROUP}})}
    assert "'os:scheduler_hints' was unexpected" in rejected(body)
