"""The metadata agent (mininova/network/agent/metadata.py): who is asking,
the signed request to Nova, and what of Nova's answer reaches the guest.
The server's answers and Nova are stand-ins: no socket, no RPC."""

import hashlib
import hmac

import pytest
import requests

from mininova.network.agent import metadata
from mininova.network.plugin_rpc import PluginRpcCallbacks

NETWORK_ID = "273a63a0-2065-46fe-a74b-d44526fcc9d3"
INSTANCE_ID = "e00902fe-14b8-49ea-97aa-cbd93c491065"
PROJECT_ID = "b2a6a3b1e2a74e7d9bda1b1f7a0c9d11"
GUEST = "10.0.0.7"
SECRET = "s3cr3t"
PATH = "/openstack/latest/meta_data.json?x=1"
PROXY_HEADERS = {"X-Neutron-Network-ID": NETWORK_ID, "X-Forwarded-For": GUEST}


def guest_port(device_id=INSTANCE_ID):
    return {"id": "p-guest", "network_id": NETWORK_ID, "device_id": device_id,
            "project_id": PROJECT_ID, "tenant_id": PROJECT_ID,
            "fixed_ips": [{"subnet_id": "s1", "ip_address": GUEST}]}


class PluginApi:
    """The server's answer to get_ports, and what it was asked."""

    def __init__(self, ports):
        self.ports = ports
        self.asked = []

    def get_ports(self, context, filters):
        self.asked.append(filters)
        return self.ports


class FakeAnswer:
    def __init__(self, status, body=b"", content_type="application/json"):
        self.status_code = status
        self.content = body
        self.headers = requests.structures.CaseInsensitiveDict({"Content-Type": content_type})


@pytest.fixture
def nova(conf, monkeypatch):
    """Nova's metadata API: records each request, answers ``nova.answer``."""
    conf.set_override("metadata_proxy_shared_secret", SECRET, "metadata_agent")
    conf.set_override("nova_metadata_host", "192.0.2.10", "metadata_agent")

    class Nova:
        answer = FakeAnswer(200, b'{"uuid": "x"}')
        asked = []

        @staticmethod
        def request(method, url, headers, timeout):
            Nova.asked.append({"method": method, "url": url, "headers": headers})
            if isinstance(Nova.answer, Exception):
                raise Nova.answer
            return Nova.answer

    monkeypatch.setattr(metadata.requests, "request", Nova.request)
    return Nova


def handle(ports, headers=PROXY_HEADERS, method="GET"):
    plugin_api = PluginApi(ports)
    response = metadata.MetadataProxyHandler(plugin_api).handle(
        method, PATH, requests.structures.CaseInsensitiveDict(headers))
    return response, plugin_api


def test_the_signature_is_the_hmac_sha256_of_the_instance_id():
    expected = hmac.new(b"s3cr3t", INSTANCE_ID.encode(), hashlib.sha256).hexdigest()
    assert metadata.sign_instance_id(SECRET, INSTANCE_ID) == expected
    assert metadata.sign_instance_id("other", INSTANCE_ID) != expected


def test_one_port_the_request_goes_to_nova_signed(nova):
    response, plugin_api = handle([guest_port()])
    assert plugin_api.asked == [{"network_id": [NETWORK_ID],
                                 "fixed_ips": {"ip_address": [GUEST]}}]
    [asked] = nova.asked
    assert asked["method"] == "GET"
    assert asked["url"] == "http://192.0.2.10:8775" + PATH
    assert asked["headers"] == {
        "X-Forwarded-For": GUEST, "X-Instance-ID": INSTANCE_ID, "X-Tenant-ID": PROJECT_ID,
        "X-Instance-ID-Signature": hmac.new(SECRET.encode(), INSTANCE_ID.encode(),
                                            hashlib.sha256).hexdigest()}
    assert response == (200, "application/json", b'{"uuid": "x"}')


def test_an_ipv6_nova_host_is_bracketed(nova, conf):
    conf.set_override("nova_metadata_host", "fd00::10", "metadata_agent")
    handle([guest_port()])
    assert nova.asked[0]["url"] == "http://[fd00::10]:8775" + PATH


@pytest.mark.parametrize("ports", [[], [guest_port(), guest_port("another-server")]],
                         ids=["no port", "two ports"])
def test_not_exactly_one_port_is_a_404_and_nova_is_not_asked(nova, ports, caplog):
    response, _ = handle(ports)
    assert response.status == 404
    assert NETWORK_ID.encode() in response.body
    assert nova.asked == []
    assert GUEST in caplog.text


@pytest.mark.parametrize("headers", [{"X-Forwarded-For": GUEST},
                                     {"X-Neutron-Network-ID": NETWORK_ID}, {}])
def test_a_request_without_the_proxys_headers_is_refused(nova, headers):
    response, plugin_api = handle([guest_port()], headers=headers)
    assert response.status == 400
    assert plugin_api.asked == [] and nova.asked == []


@pytest.mark.parametrize("status", [200, 400, 403, 404, 409, 500])
def test_novas_status_and_body_reach_the_guest(nova, status):
    nova.answer = FakeAnswer(status, b"nova says", "text/plain")
    response, _ = handle([guest_port()])
    assert response == (status, "text/plain", b"nova says")


def test_a_403_is_logged_as_a_secret_mismatch(nova, caplog):
    nova.answer = FakeAnswer(403, b"")
    handle([guest_port()])
    assert "shared secrets do not match" in caplog.text


def test_a_500_of_novas_is_logged(nova, caplog):
    nova.answer = FakeAnswer(500, b"")
    handle([guest_port()])
    assert "Remote metadata server experienced an internal server error." in caplog.text


def test_another_status_of_novas_is_a_500(nova, caplog):
    nova.answer = FakeAnswer(302, b"elsewhere")
    response, _ = handle([guest_port()])
    assert response.status == 500
    assert b"elsewhere" not in response.body
    assert "302" in caplog.text


@pytest.mark.parametrize("error", [requests.ConnectionError("refused"),
                                   requests.Timeout("too slow")])
def test_nova_unreachable_is_a_500_and_logged(nova, error, caplog):
    nova.answer = error
    response, _ = handle([guest_port()])
    assert response.status == 500
    assert "could not be reached" in caplog.text


def test_the_server_unreachable_is_a_500(nova, caplog):
    class Unreachable:
        def get_ports(self, context, filters):
            raise TimeoutError("no answer on q-plugin")

    response = metadata.MetadataProxyHandler(Unreachable()).handle(
        "GET", PATH, requests.structures.CaseInsensitiveDict(PROXY_HEADERS))
    assert response.status == 500
    assert nova.asked == []
    assert "Unexpected error." in caplog.text


def test_head_is_passed_on_as_head(nova):
    handle([guest_port()], method="HEAD")
    assert nova.asked[0]["method"] == "HEAD"


# --- the server's side of get_ports (plugin_rpc.py) ------------------------------------

class Plugin:
    def get_ports(self, context, filters=None, fixed_ips=None):
        return {"filters": filters, "fixed_ips": fixed_ips}


def test_get_ports_turns_neutrons_fixed_ips_filter_into_the_plugins():
    callbacks = PluginRpcCallbacks(Plugin())
    asked = callbacks.get_ports(None, {"network_id": [NETWORK_ID],
                                       "fixed_ips": {"ip_address": [GUEST]}})
    assert asked == {"filters": {"network_id": [NETWORK_ID]},
                     "fixed_ips": [{"ip_address": GUEST}]}
    assert callbacks.get_ports(None, {"network_id": [NETWORK_ID]})["fixed_ips"] is None


def test_get_ports_refuses_several_addresses_it_would_and_together():
    with pytest.raises(ValueError):
        PluginRpcCallbacks(Plugin()).get_ports(
            None, {"fixed_ips": {"ip_address": [GUEST, "10.0.0.8"]}})
