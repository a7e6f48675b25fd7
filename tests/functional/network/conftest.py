"""The network service in this process: its API on a free port, its own
SQLite database, its RPC over memory://, no agents (they need root and the
host: the integration tier runs them). A fake Nova records the external
events the service sends."""

import pytest
import requests

from mininova.network import policy as network_policy
from mininova.network import service as service_module
from tests.fake_nova import FakeNova
from tests.functional.helpers import make_client, make_client_like


@pytest.fixture
def fake_nova():
    nova = FakeNova().start()
    yield nova
    nova.stop()


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
def nova(conf, network_service, request):
    """The cloud, its compute told where the network service is (a client
    of its compute API, as demo)."""
    conf.set_override("enabled", True, "neutron")
    conf.set_override("endpoint_override", f"http://127.0.0.1:{network_service.port}",
                      "neutron")
    conf.set_override("vif_plugging_timeout", 0)
    return make_client(request.getfixturevalue("cloud"), "demo:demo")


@pytest.fixture
def image(nova, tmp_path):
    """A small raw image in that cloud (the fake driver never reads it)."""
    path = tmp_path / "tiny.raw"
    path.write_bytes(b"\0" * 1024 * 1024)
    return make_client_like(nova, "admin:admin").create_image("tiny", str(path), "raw")


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
