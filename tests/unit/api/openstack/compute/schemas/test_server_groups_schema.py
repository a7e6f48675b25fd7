"""The os-server-groups create body: a name and exactly one known policy."""

import pytest

from mininova import exception
from mininova.api import validation
from mininova.api.openstack.compute.schemas import server_groups


def body(**group):
    return {"server_group": group}


def rejected(value):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(server_groups.create, value)
    return str(caught.value)


@pytest.mark.parametrize("policy", ["affinity", "anti-affinity"])
def test_the_two_policies(policy):
    validation.validate(server_groups.create, body(name="web", policies=[policy]))


def test_an_unknown_policy_is_named():
    assert rejected(body(name="web", policies=["soft-affinity"])) == (
        "Invalid input for field/attribute 0. Value: soft-affinity. 'soft-affinity' is not "
        "one of ['anti-affinity', 'affinity']")


@pytest.mark.parametrize("policies", [[], ["affinity", "anti-affinity"], "affinity",
                                      ["affinity", "affinity"]])
def test_exactly_one_policy_in_a_list(policies):
    assert rejected(body(name="web", policies=policies)).startswith(
        "Invalid input for field/attribute policies.")


def test_name_and_policies_are_required_and_nothing_else():
    assert "'policies' is a required property" in rejected(body(name="web"))
    assert "'name' is a required property" in rejected(body(policies=["affinity"]))
    assert "'policy' was unexpected" in rejected(
        body(name="web", policies=["affinity"], policy="affinity"))
    assert rejected(body(name=" web", policies=["affinity"])).startswith(
        "Invalid input for field/attribute name.")
