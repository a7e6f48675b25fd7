"""A guest's metadata request through the real pieces, without a
namespace: the metadata proxy as its own process on 127.0.0.1, the
metadata agent on a unix socket in the test's directory, the server's
port lookup over RPC (memory://), and a stand-in for Nova's metadata API
on 127.0.0.1 that records what it receives.

The "guest" is the test itself, connecting from 127.0.0.5 (any 127/8
address is the host's own), the fixed IP of a port on a 127.0.0.0/24
subnet: to the proxy it is a guest's address like another. The proxy is
killed and the socket removed at the end, also when a test fails."""

import hashlib
import hmac
import http.client
import os
import signal
import socket
import subprocess
import sys

import pytest

from mininova.network.agent import metadata, metadata_driver
from mininova.network.linux import dhcp
from tests.fake_nova import FakeMetadataApi
from tests.waiting import wait_until

SERVER = "e00902fe-14b8-49ea-97aa-cbd93c491065"
GUEST = "127.0.0.5"
SECRET = "functional-secret"
PATH = "/openstack/latest/meta_data.json"


@pytest.fixture
def fake_nova_metadata(conf):
    api = FakeMetadataApi(body='{"uuid": "%s"}' % SERVER).start()
    conf.set_override("nova_metadata_port", api.port, "metadata_agent")
    conf.set_override("metadata_proxy_shared_secret", SECRET, "metadata_agent")
    yield api
    api.stop()


@pytest.fixture
def metadata_agent(network_service, tmp_path):
    agent = metadata.MetadataAgent(socket_path=str(tmp_path / "metadata_proxy")).start()
    yield agent
    agent.stop()


@pytest.fixture
def guest_port(admin):
    network = admin.create("network", name="metadata-net")
    admin.create("subnet", network_id=network["id"], cidr="127.0.0.0/24", ip_version=4)
    port = admin.create("port", network_id=network["id"], device_id=SERVER,
                        device_owner="compute:nova", fixed_ips=[{"ip_address": GUEST}])
    return port


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def start_proxy(network_id, socket_path, port, *extra):
    command = [sys.executable, "-m", metadata_driver.PROXY_MODULE,
               "--network-id", network_id, "--metadata-proxy-socket", socket_path,
               "--bind-host", "127.0.0.1", "--bind-port", str(port), *extra]
    return subprocess.Popen(command, env=metadata_driver._child_environment(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def proxy(guest_port, metadata_agent, tmp_path):
    """The proxy of the guest's network, in the foreground; its port."""
    port = free_port()
    process = start_proxy(guest_port["network_id"], metadata_agent.socket_path, port)
    try:
        wait_until(lambda: listening(port) or process.poll() is not None, bool, 20,
                   what="the metadata proxy listening")
        assert process.poll() is None, process.stderr.read().decode()
        yield port
    finally:
        process.kill()
        process.wait()
        process.stderr.close()


def get(port, path=PATH, source=GUEST, headers=None, method="GET"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                            source_address=(source, 0))
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def test_a_guests_request_reaches_nova_signed_and_the_answer_comes_back(
        proxy, guest_port, fake_nova_metadata, admin):
    status, content_type, body = get(proxy, PATH + "?x=1")
    assert (status, content_type) == (200, "application/json")
    assert body == ('{"uuid": "%s"}' % SERVER).encode()
    [received] = fake_nova_metadata.requests
    assert received["path"] == PATH + "?x=1"
    headers = received["headers"]
    assert headers["X-Forwarded-For"] == GUEST
    assert headers["X-Instance-ID"] == SERVER
    assert headers["X-Tenant-ID"] == guest_port["project_id"] == "admin"
    assert headers["X-Instance-ID-Signature"] == hmac.new(
        SECRET.encode(), SERVER.encode(), hashlib.sha256).hexdigest()
    assert "X-Neutron-Network-ID" not in headers


def test_what_a_guest_says_of_itself_is_not_believed(proxy, fake_nova_metadata):
    get(proxy, headers={"X-Forwarded-For": "127.0.0.9", "X-Instance-ID": "another-server",
                        "X-Neutron-Network-ID": "another-network",
                        "X-Instance-ID-Signature": "forged", "X-Tenant-ID": "another"})
    [received] = fake_nova_metadata.requests
    assert received["headers"]["X-Forwarded-For"] == GUEST
    assert received["headers"]["X-Instance-ID"] == SERVER
    assert received["headers"]["X-Tenant-ID"] == "admin"


def test_an_address_no_port_holds_gets_a_404(proxy, fake_nova_metadata):
    status, _type, body = get(proxy, source="127.0.0.6")
    assert status == 404
    assert b"Instance was not found" in body
    assert fake_nova_metadata.requests == []


def test_novas_refusal_reaches_the_guest(proxy, fake_nova_metadata):
    fake_nova_metadata.status, fake_nova_metadata.body = 403, "signature mismatch"
    status, _type, body = get(proxy)
    assert (status, body) == (403, b"signature mismatch")


def test_nova_down_is_a_500(proxy, fake_nova_metadata):
    fake_nova_metadata.stop()
    status, _type, _body = get(proxy)
    assert status == 500


def test_the_agent_gone_is_a_500(proxy, metadata_agent):
    metadata_agent.stop()
    assert not os.path.exists(metadata_agent.socket_path)
    status, _type, _body = get(proxy)
    assert status == 500


def test_the_daemonized_proxy_writes_its_pid_file_once_listening(guest_port, metadata_agent,
                                                                fake_nova_metadata,
                                                                tmp_path):
    port, pid_file = free_port(), tmp_path / "proxy.pid"
    starter = start_proxy(guest_port["network_id"], metadata_agent.socket_path, port,
                          "--pid-file", str(pid_file), "--daemonize")
    pid = None
    try:
        assert starter.wait(timeout=20) == 0, starter.stderr.read().decode()
        pid = int(pid_file.read_text())
        assert pid != starter.pid
        assert listening(port)
        assert get(port)[0] == 200
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
        starter.stderr.close()
        if pid is None and pid_file.exists():
            pid = int(pid_file.read_text())
        if pid:
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not dhcp.daemon_running(pid), bool, 10,
                       what="the proxy gone")


def test_only_the_proxies_user_may_write_to_the_agents_socket(metadata_agent):
    # Whoever can connect names the network and the address it asks for.
    assert os.stat(metadata_agent.socket_path).st_mode & 0o777 == 0o644
