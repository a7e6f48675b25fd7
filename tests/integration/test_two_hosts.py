"""Two real compute services on one machine: distinct host names and
instances_path, one libvirtd, each owning only its own guests. The RAM
weigher spreads servers over them, and an anti-affinity server group keeps
its members apart."""

import configparser
import subprocess
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

from mininova.virt.libvirt.config import MININOVA_NS
from tests.integration import deployment as dep
from tests.waiting import wait_for_settled

SECOND = "mininova-compute-b"


def start_second_compute(cloud):
    """Another compute service: same cloud, its own host name and directories."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(cloud.compute_conf)
    host = f"{cloud.host}-b"
    config["DEFAULT"]["host"] = host
    config["DEFAULT"]["instances_path"] = str(cloud.state_path / "instances-b")
    config["DEFAULT"]["log_dir"] = str(cloud.dir / "log-b")
    path = cloud.dir / "mininova-compute-b.conf"
    with open(path, "w") as f:
        config.write(f)
    (cloud.dir / "log-b").mkdir(exist_ok=True)
    out = open(cloud.dir / "log-b" / "mininova-compute.stdout", "ab")
    cloud.processes[SECOND] = subprocess.Popen(
        [dep.BIN / "mininova-compute", "--config-file", path],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return host


@pytest.fixture(scope="module")
def hosts(cloud):
    second = start_second_compute(cloud)
    admin = cloud.client()
    deadline = time.monotonic() + 60
    while sorted(h["hypervisor_hostname"] for h in admin.list_hypervisors()
                 if h["state"] == "up") != sorted([cloud.host, second]):
        assert time.monotonic() < deadline, "the second compute did not come up"
        time.sleep(0.5)
    return cloud.host, second


def owner_in_libvirt(server_id):
    """The compute host a guest's own metadata names."""
    conn = libvirt.open("qemu:///system")
    try:
        domain = conn.lookupByUUIDString(server_id)
        metadata = ET.fromstring(domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, MININOVA_NS))
        return metadata.findtext("host")  # libvirt returns it without its namespace
    finally:
        conn.close()


def boot(admin, tiny, name, **extra):
    server = admin.create_server(name, tiny["id"], "42", **extra)
    return dep.wait_for_status(admin, server["id"], "ACTIVE")


def delete_all(admin, servers):
    for server in servers:
        admin.delete_server(server["id"])
    for server in servers:
        dep.wait_for_gone(admin, server["id"])


def test_ram_weigher_spreads_servers_over_the_two_hosts(cloud, hosts, admin, tiny):
    first = boot(admin, tiny, "spread-1")
    second = boot(admin, tiny, "spread-2")
    assert {first["OS-EXT-SRV-ATTR:host"], second["OS-EXT-SRV-ATTR:host"]} == set(hosts)
    for server in (first, second):
        host = server["OS-EXT-SRV-ATTR:host"]
        instances_path = cloud.state_path / ("instances" if host == hosts[0] else "instances-b")
        assert (instances_path / server["id"] / "disk").exists()
        assert owner_in_libvirt(server["id"]) == host
    delete_all(admin, [first, second])
    assert cloud.domain_names() == []


def test_anti_affinity_keeps_members_apart_and_refuses_a_third(cloud, hosts, admin, tiny):
    group = admin.create_server_group("apart", "anti-affinity")
    hint = {"group": group["id"]}
    members = [boot(admin, tiny, f"apart-{i}", scheduler_hints=hint) for i in (1, 2)]
    assert {m["OS-EXT-SRV-ATTR:host"] for m in members} == set(hosts)
    third = admin.create_server("apart-3", tiny["id"], "42", scheduler_hints=hint)
    third = dep.wait_for_status(admin, third["id"], "ERROR")
    assert third["fault"]["message"].startswith(
        "No valid host was found. There are not enough hosts available. "
        "ServerGroupAntiAffinityFilter: (start: 2, end: 0): ")
    assert sorted(admin.get_server_group(group["id"])["members"]) == sorted(
        [m["id"] for m in members] + [third["id"]])
    delete_all(admin, [*members, third])
    assert cloud.domain_names() == []


def test_affinity_keeps_members_together(cloud, hosts, admin, tiny):
    group = admin.create_server_group("together", "affinity")
    hint = {"group": group["id"]}
    members = [boot(admin, tiny, f"together-{i}", scheduler_hints=hint) for i in (1, 2, 3)]
    assert len({m["OS-EXT-SRV-ATTR:host"] for m in members}) == 1
    delete_all(admin, members)


def migrate(admin, server_id):
    response = admin.session.post(f"{admin.compute_url}/servers/{server_id}/action",
                                  json={"migrate": None}, timeout=30)
    assert response.status_code == 202, response.text


def confirm_or_revert(admin, server_id, action):
    response = admin.session.post(f"{admin.compute_url}/servers/{server_id}/action",
                                  json={action: None}, timeout=30)
    assert response.status_code in (202, 204), response.text


@pytest.mark.parametrize("decision", ["confirmResize", "revertResize"])
def test_cold_migration_moves_disk_and_guest_to_the_other_host(cloud, hosts, admin, tiny,
                                                              decision):
    server = boot(admin, tiny, f"mover-{decision}")
    dep.wait_for_console(admin, server["id"])
    source = server["OS-EXT-SRV-ATTR:host"]
    [dest] = [host for host in hosts if host != source]
    paths = {hosts[0]: cloud.state_path / "instances", hosts[1]: cloud.state_path / "instances-b"}
    migrate(admin, server["id"])
    moved = wait_for_settled(admin, server["id"], "VERIFY_RESIZE", timeout=120)
    assert moved["OS-EXT-SRV-ATTR:host"] == dest
    assert owner_in_libvirt(server["id"]) == dest
    assert (paths[dest] / server["id"] / "disk").exists()
    assert (paths[source] / f"{server['id']}_resize").exists()

    confirm_or_revert(admin, server["id"], decision)
    settled = wait_for_settled(admin, server["id"], "ACTIVE", timeout=120)
    final = dest if decision == "confirmResize" else source
    assert settled["OS-EXT-SRV-ATTR:host"] == final
    assert owner_in_libvirt(server["id"]) == final
    assert not (paths[source] / f"{server['id']}_resize").exists()
    other = source if final == dest else dest
    assert not (paths[other] / server["id"]).exists()
    dep.wait_for_console(admin, server["id"])
    delete_all(admin, [server])
    assert cloud.domain_names() == []
