"""The metadata proxy of a qdhcp- namespace
(mininova/network/agent/metadata_proxy.py): what it passes on to the
metadata agent, and what it sends the guest back. The guest's request is
bytes in memory and the agent a stand-in: no socket."""

import io
import types

import pytest

from mininova.network.agent import metadata_proxy

NETWORK_ID = "273a63a0-2065-46fe-a74b-d44526fcc9d3"
GUEST = "10.0.0.7"


class GuestConnection:
    """What the handler reads the request from and writes the answer to."""

    def __init__(self, request):
        self.rfile = io.BytesIO(request)
        self.sent = b""

    def makefile(self, mode, *args, **kwargs):
        return self.rfile

    def sendall(self, data):
        self.sent += data


@pytest.fixture
def agent(monkeypatch):
    """The metadata agent: records what it is asked, answers ``agent.answer``."""
    asked = []
    stand_in = types.SimpleNamespace(asked=asked, answer=(200, "application/json", b'{"a": 1}'))

    def ask_agent(socket_path, method, path, headers):
        asked.append({"socket": socket_path, "method": method, "path": path,
                      "headers": headers})
        if isinstance(stand_in.answer, Exception):
            raise stand_in.answer
        return stand_in.answer

    monkeypatch.setattr(metadata_proxy, "ask_agent", ask_agent)
    return stand_in


def guest_request(request_line, *headers):
    """The answer's bytes to ``request_line`` sent with ``headers``."""
    raw = "\r\n".join([request_line, "Host: 169.254.169.254", *headers, "", ""]).encode()
    connection = GuestConnection(raw)
    server = types.SimpleNamespace(network_id=NETWORK_ID, socket_path="/run/agent.sock")
    metadata_proxy.ProxyRequestHandler(connection, (GUEST, 40000), server)
    return connection.sent


def test_only_the_proxys_own_headers_reach_the_agent(agent):
    guest_request("GET /openstack/latest/meta_data.json HTTP/1.1",
                  "X-Neutron-Network-ID: someone-elses-network",
                  "X-Forwarded-For: 10.0.0.99",
                  "X-Instance-ID: someone-elses-server",
                  "X-Instance-ID-Signature: forged",
                  "X-Tenant-ID: someone-elses-project")
    [asked] = agent.asked
    assert asked["headers"] == {"X-Forwarded-For": GUEST, "X-Neutron-Network-ID": NETWORK_ID}
    assert asked["path"] == "/openstack/latest/meta_data.json"
    assert asked["socket"] == "/run/agent.sock"


def test_the_agents_answer_reaches_the_guest(agent):
    agent.answer = (404, "text/plain; charset=UTF-8", b"Instance was not found.\n")
    answer = guest_request("GET /openstack/latest/user_data HTTP/1.1")
    head, body = answer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.0 404 ")
    assert b"Content-Type: text/plain; charset=UTF-8" in head
    assert b"Content-Length: 24" in head
    assert body == b"Instance was not found.\n"


def test_head_gets_no_body(agent):
    answer = guest_request("HEAD /openstack HTTP/1.1")
    assert agent.asked[0]["method"] == "HEAD"
    assert answer.endswith(b"\r\n\r\n")
    assert b"Content-Length: 8" in answer


def test_other_methods_are_not_passed_on(agent):
    answer = guest_request("POST /openstack/latest/password HTTP/1.1")
    assert answer.startswith(b"HTTP/1.0 501 ")
    assert agent.asked == []


def test_the_agent_unreachable_is_a_500(agent):
    agent.answer = FileNotFoundError("no socket")
    answer = guest_request("GET /openstack HTTP/1.1")
    assert answer.startswith(b"HTTP/1.0 500 ")


@pytest.mark.parametrize("target, expected", [
    ("/openstack/latest/meta_data.json", "/openstack/latest/meta_data.json"),
    ("/openstack?x=1&y=2", "/openstack?x=1&y=2"),
    ("http://169.254.169.254/latest/meta-data/?a=b", "/latest/meta-data/?a=b"),
    ("http://169.254.169.254", "/"),
])
def test_path_and_query_of_a_request_target(target, expected):
    assert metadata_proxy.path_and_query(target) == expected


def test_daemonize_needs_a_pid_file():
    with pytest.raises(SystemExit):
        metadata_proxy.parse_args(["--network-id", NETWORK_ID,
                                   "--metadata-proxy-socket", "/run/s", "--daemonize"])
