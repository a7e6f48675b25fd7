"""python-openstackclient, unchanged, with volumes: behind the real
Keystone, a volume made from the tiny image, a server booted from it
(``server create --volume``), a blank volume added to and removed from the
running server, everything deleted again (the boot volume outlives its
server: ``--volume`` does not delete it on termination)."""

import pytest

from tests.integration import deployment as dep
from tests.integration.test_openstack_clients import clients_env, openstack  # noqa: F401
from tests.waiting import wait_until


def volume_status(env, name):
    return openstack(env, "mininova-demo", "volume", "show", name)["status"]


def wait_volume(env, name, status, timeout=180):
    return wait_until(lambda: volume_status(env, name), lambda s: s == status, timeout,
                      interval=1, what=f"volume {name} {status}")


@pytest.fixture(scope="module")
def tiny(clients_env):  # noqa: F811
    image = openstack(clients_env, "mininova-admin", "image", "create", "--disk-format",
                      "qcow2", "--container-format", "bare", "--public", "--file",
                      str(dep.TINY_IMAGE), "tiny")
    yield image
    openstack(clients_env, "mininova-admin", "image", "delete", image["id"], parse=False)


def test_openstackclient_boots_from_a_volume_and_attaches_one(clients_env, tiny,  # noqa: F811
                                                              keystone_cloud):
    env = clients_env
    openstack(env, "mininova-demo", "volume", "create", "--image", "tiny", "--size", "1",
              "v1")
    openstack(env, "mininova-demo", "volume", "create", "--size", "1", "data1")
    server = None
    try:
        wait_volume(env, "v1", "available")
        wait_volume(env, "data1", "available")
        server = openstack(env, "mininova-demo", "server", "create", "--volume", "v1",
                           "--flavor", "m1.nano", "--wait", "bfv")
        assert server["status"] == "ACTIVE"
        assert volume_status(env, "v1") == "in-use"
        dep.wait_for_console(keystone_cloud.client(), server["id"], "login:", timeout=180)
        assert not (keystone_cloud.instances_path / server["id"] / "disk").exists()

        openstack(env, "mininova-demo", "server", "add", "volume", "bfv", "data1",
                  parse=False)
        wait_volume(env, "data1", "in-use")
        shown = openstack(env, "mininova-demo", "server", "show", "bfv")
        attached = str(shown.get("volumes_attached"))
        data1 = openstack(env, "mininova-demo", "volume", "show", "data1")
        assert data1["id"] in attached
        assert data1["attachments"][0]["device"] == "/dev/vdb"

        openstack(env, "mininova-demo", "server", "remove", "volume", "bfv", "data1",
                  parse=False)
        wait_volume(env, "data1", "available")
    finally:
        if server is not None:
            openstack(env, "mininova-demo", "server", "delete", "--wait", "bfv", parse=False)
        wait_volume(env, "v1", "available")
        for name in ("v1", "data1"):
            openstack(env, "mininova-demo", "volume", "delete", name, parse=False)
    assert keystone_cloud.domain_names() == []
