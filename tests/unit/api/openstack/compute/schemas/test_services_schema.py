"""The os-services PUT body: host and binary, and an optional reason."""

import pytest

from mininova import exception
from mininova.api import validation
from mininova.api.openstack.compute.schemas import services


def rejected(body):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(services.service_update, body)
    return str(caught.value)


def test_valid_bodies():
    validation.validate(services.service_update, {"host": "host1", "binary": "mininova-compute"})
    validation.validate(services.service_update, {"host": "host1", "binary": "mininova-compute",
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
