"""Microversion negotiation of the Block Storage API
(mininova/volume/service/microversions.py)."""

import pytest

from mininova.volume.service import exception
from mininova.volume.service import microversions as mv

HEADER = "OpenStack-API-Version"


@pytest.mark.parametrize("headers, expected", [
    ({}, "3.0"),
    ({HEADER: "volume 3.27"}, "3.27"),
    ({HEADER: "volume latest"}, mv.MAX_VERSION),
    ({HEADER: "volume LATEST"}, mv.MAX_VERSION),
    ({HEADER: "compute 2.79, volume 3.44"}, "3.44"),
    # Another service's version does not count.
    ({HEADER: "compute 2.79"}, "3.0"),
])
def test_the_version_a_request_gets(headers, expected):
    assert str(mv.from_headers(headers)) == expected


@pytest.mark.parametrize("version", ["3.49", "4.0", "2.0"])
def test_a_version_out_of_range_is_406_with_cinders_message(version):
    with pytest.raises(exception.InvalidGlobalAPIVersion) as raised:
        mv.from_headers({HEADER: f"volume {version}"})
    assert raised.value.code == 406
    assert raised.value.format_message() == (
        f"Version {version} is not supported by the API. Minimum is 3.0 and maximum is "
        f"{mv.MAX_VERSION}.")


@pytest.mark.parametrize("version", ["3", "3.x", "v3.1", "3.01a"])
def test_a_malformed_version_is_400(version):
    with pytest.raises(exception.InvalidAPIVersionString) as raised:
        mv.from_headers({HEADER: f"volume {version}"})
    assert raised.value.code == 400


def test_versions_compare_as_numbers():
    assert mv.matches(mv.from_headers({HEADER: "volume 3.44"}), mv.NEW_ATTACH)
    assert not mv.matches(mv.from_headers({HEADER: "volume 3.9"}), mv.NEW_ATTACH)
    assert mv.matches(mv.from_headers({HEADER: "volume 3.48"}),
                      mv.VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS)


def test_answers_say_their_version_and_vary_on_it():
    headers = mv.response_headers(mv.from_headers({HEADER: "volume 3.44"}))
    assert headers == {HEADER: "volume 3.44", "Vary": HEADER}


def test_nova_needs_attachment_completion_within_the_range():
    # Nova's compute refuses a Cinder below 3.44 (nova-status upgrade check).
    assert mv.matches(mv.from_headers({HEADER: "volume latest"}), "3.44")
