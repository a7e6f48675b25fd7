"""Service heartbeats (mininova/service.py): a failed beat is logged once,
its recovery once, and nothing else happens (the service is down only when
no beat arrives for service_down_time)."""

import logging

import pytest

from mininova import rpc, service


class FlakyConductor:
    """Answers heartbeats, or raises the next of ``failures``."""

    def __init__(self, failures):
        self.failures = list(failures)
        self.beats = 0

    def service_heartbeat(self, context, service_id):
        if self.failures:
            raise self.failures.pop(0)
        self.beats += 1


def make_service(failures):
    conductor = FlakyConductor(failures)
    svc = service.Service("host1", "mininova-compute", "compute", manager=None,
                          service_api=conductor)
    svc.service_ref = {"id": 7}
    return svc, conductor


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="mininova.service")
    return caplog


def test_an_outage_is_logged_once_and_so_is_the_recovery(conf, log):
    timeout = rpc.MessagingTimeout(msg_id="a", reason="conductor did not answer")
    unreachable = rpc.MessageDeliveryFailure(method="service_heartbeat", target="conductor",
                                             seconds=10, reason="refused")
    svc, conductor = make_service([timeout, unreachable, timeout])
    for _beat in range(5):
        svc.report_state()
    assert conductor.beats == 2
    assert [r.getMessage().split(":")[0] for r in log.records] == [
        "Lost connection to mininova-conductor for reporting service status",
        "Recovered from being unable to report status.",
    ]


def test_an_unexpected_error_is_nova_s_model_server_went_away(conf, log):
    svc, _conductor = make_service([RuntimeError("database is locked")] * 2)
    svc.report_state()
    svc.report_state()
    svc.report_state()
    assert [r.getMessage() for r in log.records] == [
        "model server went away", "Recovered from being unable to report status."]
