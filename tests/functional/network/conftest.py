"""The network service in this process: its API on a free port, its own
SQLite database, its RPC over memory://, no agents (they need root and the
host: the integration tier runs them). A fake Nova records the external
events the service sends."""

import http.server
import json
import threading
import time

import pytest
import requests

from mininova.network import policy as network_policy
from mininova.network import service as service_module


class FakeNova:
    """``POST /v2.1/os-server-external-events`` recorder, answering as Nova
    does (200, each event with ``code`` 200)."""

    def __init__(self):
        self.requests = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                recorder.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body, "time": time.monotonic()})
                answer = json.dumps({"events": [dict(event, code=200,
                                                     status=event.get("status", "completed"))
                                                for event in body["events"]]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v2.1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def events(self):
        return [event for request in self.requests for event in request["body"]["events"]]

    def wait_for(self, name, tag, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if event["name"] == name and event["tag"] == tag:
                    return event
            time.sleep(0.01)
        raise AssertionError(f"no {name} for {tag}; events: {self.events()}")


@pytest.fixture
def fake_nova():
    nova = FakeNova()
    nova.thread.start()
    yield nova
    nova.server.shutdown()
    nova.server.server_close()


@pytest.fixture
def network_service(conf, fake_nova):
    conf.set_override("connection", f"sqlite:///{conf.state_path}/network.sqlite", "network")
    conf.set_override("endpoint_override", fake_nova.url, "nova")
    conf.set_override("send_events_interval", 0, "network")
    service = service_module.NetworkService(port=0, agents=[]).start()
    yield service
    service.stop()
    network_policy.reset()


class NetClient:
    """A user of the Networking API: ``token`` is noauth2's ``user:project``,
    ``roles`` an X-Roles header (a reader, a service)."""

    def __init__(self, url, token, roles=None):
        self.url = url
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = token
        if roles:
            self.session.headers["X-Roles"] = roles

    def request(self, method, path, body=None, **params):
        return self.session.request(method, f"{self.url}/v2.0/{path}", json=body,
                                    params=params or None, timeout=30)

    def get(self, path, **params):
        return self.request("GET", path, **params)

    def post(self, path, body):
        return self.request("POST", path, body)

    def put(self, path, body):
        return self.request("PUT", path, body)

    def delete(self, path):
        return self.request("DELETE", path)

    # Shortcuts that must succeed.

    def create(self, resource, **values):
        response = self.post(f"{resource}s", {resource: values})
        assert response.status_code == 201, response.text
        return response.json()[resource]

    def network_with_subnet(self, cidr="10.0.0.0/24", **network):
        net = self.create("network", name="net", **network)
        subnet = self.create("subnet", network_id=net["id"], cidr=cidr, ip_version=4)
        return net, subnet


def neutron_error(response, code, kind):
    """The response is Neutron's error of ``kind``; its message."""
    assert response.status_code == code, response.text
    error = response.json()["NeutronError"]
    assert error["type"] == kind, error
    assert error["detail"] == ""
    return error["message"]


@pytest.fixture
def url(network_service):
    return f"http://127.0.0.1:{network_service.port}"


@pytest.fixture
def admin(url):
    return NetClient(url, "admin:admin")


@pytest.fixture
def demo(url):
    return NetClient(url, "demo:demo")


@pytest.fixture
def other(url):
    """A member of another project."""
    return NetClient(url, "other:other")


@pytest.fixture
def demo_reader(url):
    return NetClient(url, "reader:demo", roles="reader")


@pytest.fixture
def nova_service(url):
    """Nova's service user, as noauth2 lets it say (role service)."""
    return NetClient(url, "nova:service", roles="service")
