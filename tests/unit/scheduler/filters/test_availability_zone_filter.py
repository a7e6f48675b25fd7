"""AvailabilityZoneFilter: when the request names a zone, the host must be in it."""

import pytest

from mininova.scheduler.filters import availability_zone_filter
from mininova.scheduler.host_manager import HostState

pytestmark = pytest.mark.usefixtures("conf")


def make_host(zone=None):
    host = HostState("host1", "node1")
    if zone is not None:
        host.availability_zone = zone
    return host


def test_hosts_start_in_the_default_zone_nova():
    assert make_host().availability_zone == "nova"


def test_no_requested_zone_passes_any_host():
    verdict = availability_zone_filter.AvailabilityZoneFilter().host_passes(
        make_host("az1"), {"availability_zone": None})
    assert verdict
    assert verdict.reason == "no zone requested"


def test_host_in_the_requested_zone_passes():
    verdict = availability_zone_filter.AvailabilityZoneFilter().host_passes(
        make_host(), {"availability_zone": "nova"})
    assert verdict
    assert verdict.reason == "in zone nova"


def test_host_in_another_zone_fails():
    verdict = availability_zone_filter.AvailabilityZoneFilter().host_passes(
        make_host("az1"), {"availability_zone": "nova"})
    assert not verdict
    assert verdict.reason == "zone az1 ≠ requested nova"


def test_availability_zone_filter_runs_once_per_request():
    assert availability_zone_filter.AvailabilityZoneFilter.run_filter_once_per_request is True
