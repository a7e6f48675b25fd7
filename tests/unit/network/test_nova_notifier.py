"""Which port changes become Nova external events, and how they are
batched (mininova/network/notifiers/nova.py)."""

import threading
import time

import pytest
from keystoneauth1 import loading as ks_loading

from mininova.network.notifiers import nova

SERVER = "e00902fe-14b8-49ea-97aa-cbd93c491065"
PORT = {"id": "35adf9bc-d8bd-4a2d-81bd-53679a6f1cec", "device_id": SERVER,
        "device_owner": "compute:nova"}


@pytest.fixture
def notifier(conf):
    notifier = nova.NovaNotifier()
    queued = []
    notifier.batch_notifier.queue_event = queued.append
    return notifier, queued


@pytest.mark.parametrize("old, new, name, status", [
    ("DOWN", "ACTIVE", "network-vif-plugged", "completed"),
    ("BUILD", "ACTIVE", "network-vif-plugged", "completed"),
    ("DOWN", "ERROR", "network-vif-plugged", "failed"),
    ("ACTIVE", "DOWN", "network-vif-unplugged", "completed"),
])
def test_status_changes_nova_hears_of(notifier, old, new, name, status):
    notifier, queued = notifier
    notifier.record_port_status_changed(PORT, old, new)
    assert queued == [{"server_uuid": SERVER, "name": name, "status": status,
                       "tag": PORT["id"]}]


@pytest.mark.parametrize("old, new", [("DOWN", "BUILD"), ("ACTIVE", "ACTIVE"),
                                      ("BUILD", "DOWN")])
def test_status_changes_nova_does_not_hear_of(notifier, old, new):
    notifier, queued = notifier
    notifier.record_port_status_changed(PORT, old, new)
    assert queued == []


def test_only_servers_ports(notifier):
    notifier, queued = notifier
    dhcp_port = dict(PORT, device_owner="network:dhcp", device_id="dhcpxyz")
    notifier.record_port_status_changed(dhcp_port, "DOWN", "ACTIVE")
    notifier.send_network_change("update_port", dhcp_port, dhcp_port)
    assert queued == []


def test_api_changes(notifier):
    notifier, queued = notifier
    notifier.send_network_change("update_port", PORT, PORT)
    notifier.send_network_change("delete_port", PORT, PORT)
    assert [e["name"] for e in queued] == ["network-changed", "network-vif-deleted"]
    assert "status" not in queued[0]


def test_turned_off(conf, notifier):
    notifier, queued = notifier
    conf.set_override("notify_nova_on_port_status_changes", False, "network")
    conf.set_override("notify_nova_on_port_data_changes", False, "network")
    notifier.record_port_status_changed(PORT, "DOWN", "ACTIVE")
    notifier.send_network_change("update_port", PORT, PORT)
    assert queued == []


def test_batches_the_first_event_goes_at_once():
    batches = []
    sent = threading.Event()

    def send(batch):
        batches.append(batch)
        sent.set()

    batcher = nova.BatchNotifier(0.3, send)
    started = time.monotonic()
    batcher.queue_event("a")
    assert sent.wait(2) and time.monotonic() - started < 0.2
    batcher.queue_event("b")
    batcher.queue_event("c")
    deadline = time.monotonic() + 3
    while len(batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert batches == [["a"], ["b", "c"]]


def test_noauth2_adapter_aims_at_the_local_compute_api(conf):
    adapter = nova.NovaNotifier._make_adapter()
    assert adapter.endpoint_override == "http://127.0.0.1:8774/v2.1"
    assert adapter.session.auth is None


def test_keystone_adapter_uses_the_service_user_and_the_catalog(conf, monkeypatch):
    conf.set_override("auth_strategy", "keystone", "api")
    loaded = {}
    session = object()

    def load_auth(config, group):
        loaded["auth"] = group
        return "the [nova] service user"

    def load_session(config, group, auth):
        loaded["session"] = (group, auth)
        return session

    # keystoneauth reads [nova] auth_type, auth_url, username... (its
    # options are registered when a plugin is loaded: faked here).
    monkeypatch.setattr(ks_loading, "load_auth_from_conf_options", load_auth)
    monkeypatch.setattr(ks_loading, "load_session_from_conf_options", load_session)
    adapter = nova.NovaNotifier._make_adapter()
    assert loaded == {"auth": "nova", "session": ("nova", "the [nova] service user")}
    assert adapter.session is session
    assert adapter.endpoint_override is None          # the catalog's compute endpoint
    assert adapter.service_type == "compute"
