"""Real OpenStack clients, unchanged, against mininova behind the real
Keystone: python-openstackclient, openstacksdk and python-novaclient (from
.venv-keystone, the clients' own virtualenv), each authenticating with a
password from the clouds.yaml the setup writes, finding the compute and
image endpoints in the catalog, and booting a real guest."""

import json
import subprocess
import textwrap

import pytest

from tests.integration import deployment as dep
from tests.integration import keystone as keystone_fixture

CLIENT_PYTHON = keystone_fixture.KEYSTONE_VENV / "bin" / "python"
OPENSTACK = keystone_fixture.KEYSTONE_VENV / "bin" / "openstack"


@pytest.fixture(scope="module")
def clients_env(keystone, keystone_cloud):
    import os

    env = {key: value for key, value in os.environ.items() if not key.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = str(keystone.dir / "clouds.yaml")
    return env


def openstack(env, cloud, *args, parse=True):
    command = [str(OPENSTACK), "--os-cloud", cloud, *args]
    if parse:
        command += ["-f", "json"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
    return json.loads(result.stdout) if parse and result.stdout.strip() else result.stdout


def run_python(env, code):
    result = subprocess.run([str(CLIENT_PYTHON), "-c", textwrap.dedent(code)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def tiny_image(clients_env):
    return openstack(clients_env, "mininova-admin", "image", "create", "--disk-format",
                     "qcow2", "--container-format", "bare", "--public", "--file",
                     str(dep.TINY_IMAGE), "tiny")


def test_openstackclient_runs_a_servers_life(clients_env, tiny_image, keystone_cloud):
    env = clients_env
    openstack(env, "mininova-admin", "flavor", "create", "--ram", "64", "--disk", "0",
              "--vcpus", "1", "osc.nano")
    keypair = openstack(env, "mininova-demo", "keypair", "create", "osc-key", parse=False)
    assert "PRIVATE KEY" in keypair
    server = openstack(env, "mininova-demo", "server", "create", "--image", "tiny",
                       "--flavor", "osc.nano", "--key-name", "osc-key", "--wait", "vm-osc")
    assert server["status"] == "ACTIVE"
    listed = openstack(env, "mininova-demo", "server", "list")
    assert [s["Name"] for s in listed] == ["vm-osc"]
    openstack(env, "mininova-demo", "server", "stop", "vm-osc", parse=False)
    dep.wait_until(lambda: openstack(env, "mininova-demo", "server", "show", "vm-osc")["status"],
                   lambda status: status == "SHUTOFF", what="vm-osc stopped")
    openstack(env, "mininova-demo", "server", "start", "vm-osc", parse=False)
    dep.wait_until(lambda: openstack(env, "mininova-demo", "server", "show", "vm-osc")["status"],
                   lambda status: status == "ACTIVE", what="vm-osc started")
    openstack(env, "mininova-demo", "server", "reboot", "--wait", "vm-osc", parse=False)
    openstack(env, "mininova-demo", "server", "delete", "--wait", "vm-osc", parse=False)
    openstack(env, "mininova-demo", "keypair", "delete", "osc-key", parse=False)
    openstack(env, "mininova-admin", "flavor", "delete", "osc.nano", parse=False)
    assert keystone_cloud.domain_names() == []


def test_openstackclient_reads_quotas_limits_services_hypervisors(clients_env, tiny_image):
    env = clients_env
    quota = openstack(env, "mininova-admin", "quota", "show", "demo")
    # OSC 10 lists the quotas as rows: {"Resource": "instances", "Limit": 10}.
    quota = {row["Resource"]: row["Limit"] for row in quota}
    assert quota["instances"] == 10
    # The volume service is in the catalog too: its quotas come with Nova's.
    assert quota["volumes"] == 10 and quota["gigabytes"] == 1000
    openstack(env, "mininova-admin", "quota", "set", "--instances", "20", "--volumes", "7",
              "demo", parse=False)
    limits = openstack(env, "mininova-demo", "limits", "show", "--absolute")
    assert {"Name": "instances", "Value": 20} in limits
    assert {"Name": "max_total_volumes", "Value": 7} in limits
    services = openstack(env, "mininova-admin", "compute", "service", "list")
    assert {s["Binary"] for s in services} >= {"mininova-compute", "mininova-conductor"}
    hypervisors = openstack(env, "mininova-admin", "hypervisor", "list")
    assert len(hypervisors) == 1
    images = openstack(env, "mininova-demo", "image", "list")
    assert "tiny" in [i["Name"] for i in images]


def test_openstacksdk_creates_stops_and_deletes_a_server(clients_env, tiny_image):
    out = run_python(clients_env, """
        import openstack
        conn = openstack.connect(cloud="mininova-demo")
        flavor = conn.compute.find_flavor("m1.nano")
        image = conn.image.find_image("tiny")
        keypair = conn.compute.create_keypair(name="sdk-key")
        server = conn.compute.create_server(name="vm-sdk", image_id=image.id,
                                            flavor_id=flavor.id, key_name="sdk-key",
                                            networks="none")
        server = conn.compute.wait_for_server(server, wait=300)
        conn.compute.stop_server(server)
        conn.compute.wait_for_server(server, status="SHUTOFF", wait=300)
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=300)
        conn.compute.delete_keypair(keypair)
        print(sorted(f.name for f in conn.compute.flavors())[:2], "ok")
    """)
    assert out.strip().endswith("ok")


def test_novaclient_lists_flavors_servers_services(clients_env, tiny_image, keystone):
    out = run_python(clients_env, f"""
        from keystoneauth1 import loading, session
        from novaclient import client
        auth = loading.get_plugin_loader("password").load_from_options(
            auth_url="{keystone.auth_url}", username="admin",
            password="{keystone.passwords['ADMIN_PASSWORD']}", project_name="admin",
            user_domain_name="Default", project_domain_name="Default")
        nova = client.Client("2.79", session=session.Session(auth=auth))
        assert "m1.nano" in [f.name for f in nova.flavors.list()]
        assert any(s.binary == "mininova-compute" for s in nova.services.list())
        assert nova.servers.list() == []
        print("ok")
    """)
    assert out.strip() == "ok"
