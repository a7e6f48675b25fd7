"""The os-services PUT bodies: host and binary, and an optional reason
(2.1); forced_down too (2.11); the changes alone, the service being in the
URL (2.53)."""

import pytest

from mininova import exception
from mininova.api import validation
from mininova.api.openstack.compute.schemas import services


def rejected(body):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(services.update_v21, body)
    return str(caught.value)


def test_valid_bodies():
    validation.validate(services.update_v21, {"host": "host1", "binary": "mininova-compute"})
    validation.validate(services.update_v21, {"host": "host1", "binary": "mininova-compute",
                                                  "disabled_reason": "r" * 255})


@pytest.mark.parametrize("body, message", [
    ({"binary": "mininova-compute"}, "'host' is a required property"),
    ({"host": "host1"}, "'binary' is a required property"),
    ({"host": "host1", "binary": ""}, "Invalid input for field/attribute binary."),
    ({"host": "host 1", "binary": "b"}, "Invalid input for field/attribute host."),
    ({"host": "h", "binary": "b", "disabled_reason": ""},
     "Invalid input for field/attribute disabled_reason."),
    ({"host": "h", "binary": "b", "disabled_reason": "r" * 256},
     "Invalid input for field/attribute disabled_reason."),
    ({"host": "h", "binary": "b", "forced_down": True}, "'forced_down' was unexpected"),
])
def test_invalid_bodies(body, message):
    assert message in rejected(body)


def test_force_down_comes_with_2_11():
    body = {"host": "h", "binary": "b", "forced_down": True}
    validation.validate(services.update_v211, body)
    with pytest.raises(exception.ValidationError, match="forced_down"):
        validation.validate(services.update_v211, dict(body, forced_down="maybe"))


@pytest.mark.parametrize("body", [{}, {"status": "enabled"}, {"forced_down": "false"},
                                  {"status": "disabled", "disabled_reason": "broken disk"}])
def test_the_2_53_body_says_only_what_changes(body):
    validation.validate(services.update_v253, body)


@pytest.mark.parametrize("body, message", [
    ({"status": "up"}, "Invalid input for field/attribute status."),
    ({"host": "h"}, "'host' was unexpected"),
    ({"status": "disabled", "disabled_reason": ""},
     "Invalid input for field/attribute disabled_reason."),
])
def test_the_2_53_body_refuses_the_old_fields_and_bad_values(body, message):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(services.update_v253, body)
    assert message in str(caught.value)
