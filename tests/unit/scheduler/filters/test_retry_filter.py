"""RetryFilter: a rescheduled build skips the hosts it was already tried on."""

import logging

import pytest

from mininova.scheduler.filters import retry_filter
from mininova.scheduler.host_manager import HostState

pytestmark = pytest.mark.usefixtures("conf")


def test_first_attempt_passes_every_host():
    verdict = retry_filter.RetryFilter().host_passes(HostState("host1", "node1"), {})
    assert verdict
    assert verdict.reason == "not tried yet"


def test_host_not_in_the_retry_record_passes():
    spec = {"retry": {"num_attempts": 2, "hosts": [["host2", "node2"]]}}
    assert retry_filter.RetryFilter().host_passes(HostState("host1", "node1"), spec)


def test_host_already_tried_fails_and_logs_novas_line(caplog):
    caplog.set_level(logging.INFO, logger="mininova.scheduler.filters.retry_filter")
    spec = {"retry": {"num_attempts": 2, "hosts": [["host1", "node1"]]}}
    verdict = retry_filter.RetryFilter().host_passes(HostState("host1", "node1"), spec)
    assert not verdict
    assert verdict.reason == "already tried for this build"
    assert ("Host ['host1', 'node1'] fails.  Previously tried hosts: [['host1', 'node1']]"
            in caplog.messages)


def test_the_reason_says_how_the_last_attempt_failed():
    spec = {"retry": {"num_attempts": 2, "hosts": [["host1", "node1"]],
                      "exc_reason": "Insufficient compute resources: Free memory 1.00 MB."}}
    verdict = retry_filter.RetryFilter().host_passes(HostState("host1", "node1"), spec)
    assert verdict.reason == ("already tried for this build; it failed with: "
                              "Insufficient compute resources: Free memory 1.00 MB.")


def test_tried_hosts_may_arrive_as_tuples():
    # After a JSON round trip they are lists; built in Python they may be tuples.
    spec = {"retry": {"num_attempts": 2, "hosts": [("host1", "node1")]}}
    assert not retry_filter.RetryFilter().host_passes(HostState("host1", "node1"), spec)


def test_same_host_other_node_passes():
    spec = {"retry": {"num_attempts": 2, "hosts": [["host1", "node2"]]}}
    assert retry_filter.RetryFilter().host_passes(HostState("host1", "node1"), spec)
