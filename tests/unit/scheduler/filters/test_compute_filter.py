"""ComputeFilter: only hosts whose compute service is enabled and up."""

import logging
from datetime import timedelta

import pytest
from oslo_utils import timeutils

from mininova.scheduler.filters import compute_filter
from mininova.scheduler.host_manager import HostState

pytestmark = pytest.mark.usefixtures("conf")


def make_host(disabled=False, disabled_reason=None, seconds_since_heartbeat=0):
    host = HostState("host1", "node1")
    host.service = {
        "host": "host1",
        "binary": "mininova-compute",
        "disabled": disabled,
        "disabled_reason": disabled_reason,
        "forced_down": False,
        "last_seen_up": timeutils.utcnow() - timedelta(seconds=seconds_since_heartbeat),
    }
    return host


def test_enabled_service_that_reported_recently_passes():
    verdict = compute_filter.ComputeFilter().host_passes(make_host(), {})
    assert verdict
    assert verdict.reason == "service enabled and up"


def test_disabled_service_fails_with_its_reason():
    host = make_host(disabled=True, disabled_reason="maintenance")
    verdict = compute_filter.ComputeFilter().host_passes(host, {})
    assert not verdict
    assert verdict.reason == "service disabled: maintenance"


def test_disabled_service_without_a_reason_says_so():
    verdict = compute_filter.ComputeFilter().host_passes(make_host(disabled=True), {})
    assert verdict.reason == "service disabled: no reason given"


def test_heartbeat_older_than_service_down_time_fails(conf, caplog):
    caplog.set_level(logging.WARNING, logger="mininova.scheduler.filters.compute_filter")
    host = make_host(seconds_since_heartbeat=conf.service_down_time + 30)
    verdict = compute_filter.ComputeFilter().host_passes(host, {})
    assert not verdict
    assert verdict.reason.startswith("service down: last heartbeat 90 s ago")
    assert f"{host!r} has not been heard from in a while" in caplog.messages


def test_heartbeat_just_inside_service_down_time_passes(conf):
    host = make_host(seconds_since_heartbeat=conf.service_down_time - 5)
    assert compute_filter.ComputeFilter().host_passes(host, {})


def test_service_that_never_reported_fails():
    host = make_host()
    host.service["last_seen_up"] = None
    verdict = compute_filter.ComputeFilter().host_passes(host, {})
    assert verdict.reason == "service has never reported"


def test_compute_filter_runs_once_per_request():
    assert compute_filter.ComputeFilter.run_filter_once_per_request is True
