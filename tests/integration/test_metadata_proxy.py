"""The isolated metadata proxy on the real host: mininova-network with
``[dhcp] enable_isolated_metadata``, its proxy in the network's ``qdhcp-``
namespace on 169.254.169.254:80, and a guest's request going all the way
to a stand-in for Nova's metadata API on 127.0.0.1 (Nova's real one is
the other service's; this checks what the network side sends it).

The "guest" is a namespace of the test's own joined to the network's
bridge, as in test_network.py; no packet leaves the host. The deployment,
its proxies, dnsmasq and namespaces are removed afterwards, also when a
test fails (network_service.NetworkDeployment.remove_leftovers)."""

import hashlib
import hmac
import json
import os
import signal
import sys

import pytest

from mininova.network import utils
from tests.fake_nova import FakeMetadataApi, FakeNova
from tests.integration.network_service import NetworkDeployment, run, wait_for
from tests.integration.test_network import dhcp_port, dhcp_ready, plug_guest

SERVER = "e00902fe-14b8-49ea-97aa-cbd93c491065"
SECRET = "integration-secret"
PATH = "/openstack/latest/meta_data.json"
PROXY_MODULE = "mininova.network.agent.metadata_proxy"


@pytest.fixture(scope="module")
def nova_metadata():
    api = FakeMetadataApi(body=json.dumps({"uuid": SERVER})).start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def net(work_root, network_rabbit_url, nova_metadata):
    path = work_root / "metadata"
    path.mkdir(mode=0o755)
    nova = FakeNova().start()
    cloud = NetworkDeployment(path, network_rabbit_url, nova.url, config={
        "dhcp": {"enable_isolated_metadata": True},
        "metadata_agent": {"nova_metadata_port": nova_metadata.port,
                           "metadata_proxy_shared_secret": SECRET}})
    try:
        yield cloud.start()
    finally:
        try:
            cloud.tear_down()
        finally:
            nova.stop()


def proxy_pid(deployment, network_id):
    """The network's proxy, once it runs (None before)."""
    pid_file = deployment.dhcp_dir(network_id) / "metadata_proxy.pid"
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return None
    return pid if pid in deployment.metadata_proxy_pids() else None


def network_namespace_of(pid):
    """The inode of the process's network namespace."""
    return os.stat(f"/proc/{pid}/ns/net").st_ino


def test_the_proxy_serves_a_guest_and_goes_with_the_network(net, nova_metadata):
    network, subnet = net.network_with_subnet()
    namespace = utils.dhcp_namespace(network["id"])
    wait_for(lambda: dhcp_ready(net, network["id"]), "dnsmasq")
    pid = wait_for(lambda: proxy_pid(net, network["id"]), "the metadata proxy")

    # It runs in the qdhcp- namespace and listens on 169.254.169.254:80 there.
    assert network_namespace_of(pid) == os.stat(f"/run/netns/{namespace}").st_ino
    listening = run("ss", "-ltnH", namespace=namespace).stdout
    assert "169.254.169.254:80 " in listening

    # A guest with the route dnsmasq gives it (option 121) asks.
    port = net.create("port", network_id=network["id"], device_id=SERVER,
                      device_owner="compute:nova")
    guest_ip = port["fixed_ips"][0]["ip_address"]
    guest, _ = plug_guest(net, network, port, "metadata")
    prefix = subnet["cidr"].split("/")[1]
    run("ip", "addr", "add", f"{guest_ip}/{prefix}", "dev", "eth0", namespace=guest)
    dhcp_ip = dhcp_port(net, network["id"])["fixed_ips"][0]["ip_address"]
    run("ip", "route", "add", "169.254.169.254/32", "via", dhcp_ip, namespace=guest)
    script = ("import urllib.request, sys\n"
              "answer = urllib.request.urlopen('http://169.254.169.254" + PATH + "',"
              " timeout=20)\n"
              "sys.stdout.write(str(answer.status) + ' ' + answer.read().decode())\n")
    out = run(sys.executable, "-c", script, namespace=guest)
    assert out.stdout == f"200 {json.dumps({'uuid': SERVER})}", out.stderr
    [received] = [r for r in nova_metadata.requests
                  if r["headers"].get("X-Forwarded-For") == guest_ip]
    assert received["path"] == PATH
    assert received["headers"]["X-Instance-ID"] == SERVER
    assert received["headers"]["X-Tenant-ID"] == port["project_id"]
    assert received["headers"]["X-Instance-ID-Signature"] == hmac.new(
        SECRET.encode(), SERVER.encode(), hashlib.sha256).hexdigest()

    # A proxy that dies is started again by the agent's periodic check.
    os.kill(pid, signal.SIGKILL)
    def restarted():
        current = proxy_pid(net, network["id"])
        return current if current != pid else None

    new_pid = wait_for(restarted, "a new metadata proxy", timeout=20)
    assert network_namespace_of(new_pid) == os.stat(f"/run/netns/{namespace}").st_ino

    # Deleting the network stops it before the namespace goes.
    net.call("DELETE", f"ports/{port['id']}", expect=204)
    net.call("DELETE", f"networks/{network['id']}", expect=204)
    wait_for(lambda: not os.path.exists(f"/run/netns/{namespace}"), "the namespace gone")
    wait_for(lambda: new_pid not in net.metadata_proxy_pids(), "the metadata proxy gone")
    assert not net.dhcp_dir(network["id"]).exists()
