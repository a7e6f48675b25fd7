#!/usr/bin/env python3
"""How much does mininova add to booting a guest? (the Rally idea, small)

Measured in one run, on this machine:

* **mininova**: POST /servers → status ACTIVE, for an image already in
  ``_base`` (the download is a one-off cost, measured by bench/image_prep),
  through all five services as separate processes over RabbitMQ;
* **floor**: what any tool must do to get the same guest running: a
  ``qemu-img create`` overlay on the same base file, then libvirt define and
  start of the same domain XML mininova wrote.

It prints both medians and their ratio (target ≤ 1.15), with the range
that 90% of bootstrap resamples of the run's own times give (spread.py):
a target inside it is within this run's noise. Nothing is asserted:
numbers depend on the machine; the ratio is what to watch.

The client sees ACTIVE by asking for the server every ``POLL_INTERVAL``
(10 ms), and each of those GETs costs the API a few ms of CPU, taken from
the guest's start on two cores. So that this share of the gap shows, the
floor is also timed while the same client polls a server (one left in
ERROR, no guest) at the same rate: "floor, client polling" below. The
target's ratio stays the one against the quiet floor. And, interleaved with
the others, the same boot timed by the cloud's own record: the client asks
only every ``QUIET_POLL_INTERVAL`` (0.25 s), and the boot ends at the
``finish_time`` of its build event (``os-instance-actions``; Nova's format
has microseconds), written just after ACTIVE is saved: "mininova,
recorded". That is the boot with next to no load from its client, against
the quiet floor.

With ``--keystone`` a second deployment behind the real Keystone (tokens
checked by keystonemiddleware, the image downloaded with the user's token)
boots in the same run, interleaved with the first: its median against the
noauth2 one says what token validation costs a boot (target: within 5%).

With ``--network`` the boot has one port on a network of mininova-network
(its own process, with its DHCP namespace, metadata proxy and L2 agent):
POST → ACTIVE then includes the port made and bound, os-vif's bridge, the
guest created paused and the wait for ``network-vif-plugged``. No config
drive (since 1 Dec 2026; the floor's domain has no CD-ROM either): the guest
reads its key from the metadata service. Its floor adds the bare network
steps: a bridge created, and libvirt making the tap and putting it on the
bridge when it starts the guest (target ratio ≤ 1.3), timed quiet and, as
for the plain boot, while the client polls a server. It also prints the
median time from the POST to a working SSH login into the guest
(``ssh -i <key> cirros@<ip> true``), the number a student feels.

With ``--timeline`` it also prints where the time of a boot goes: the
lines of the median boot's request id from every service, merged by time,
and the median of each step (API, scheduler, conductor, compute's claim,
task_state saves, overlay, define + start, ACTIVE saved) over all boots.

    sudo .venv/bin/python bench/boot_overhead.py [--runs 7] [--keystone] [--network] [--timeline]
                                                 [--keep-logs DIR]

Needs what the integration tests need (bin/run-tests prepares it all).
"""

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boot_timeline  # noqa: E402  (beside this script)
from polling import polling, seconds_from  # noqa: E402  (beside this script)
from spread import describe_ratio  # noqa: E402  (beside this script)

from tests.integration import deployment as dep  # noqa: E402
from tests.integration import keystone as keystone_fixture  # noqa: E402
from tests.integration.network_service import NetworkDeployment, free_cidr  # noqa: E402

WORK_ROOT = Path("/var/tmp/mininova-bench")
# How often the client asks for the server's status while it waits for
# ACTIVE: the benchmark's instrument (real clients poll every 1-5 s, for
# people), fine next to a boot of ~0.3 s.
POLL_INTERVAL = 0.01
# The quiet client: asks only every QUIET_POLL_INTERVAL, and takes the
# boot's end from the cloud's own record, the finish_time of the build's
# instance-action event (microseconds, as Nova shows it), written after the
# ACTIVE state is saved: the boot with next to no load from the client.
QUIET_POLL_INTERVAL = 0.25
BUILD_EVENT = "compute__do_build_and_run_instance"
SSH = ["ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
       "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", "-o", "LogLevel=ERROR"]


def make_vhost(suffix=""):
    vhost = f"mininova-bench-{os.getpid()}{suffix}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest",
                    ".*", ".*", ".*"], check=True)
    return vhost


def time_mininova_boot(admin, image_id, boots):
    """POST → ACTIVE of one server, in seconds; ``boots`` gets its id and the
    wall-clock times of the POST and of ACTIVE seen (for the timeline)."""
    posted_at, started = time.time(), time.perf_counter()
    server = admin.create_server("bench", image_id, "42")
    while True:
        status = admin.get_server(server["id"])["status"]
        if status == "ACTIVE":
            elapsed = time.perf_counter() - started
            break
        if status == "ERROR":
            raise SystemExit(f"boot failed: {admin.get_server(server['id']).get('fault')}")
        time.sleep(POLL_INTERVAL)
    boots.append((server["id"], posted_at, posted_at + elapsed))
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    return elapsed


def time_recorded_boot(admin, create):
    """POST (``create()``, which returns the new server) → the end of the
    build as the cloud recorded it (see ``QUIET_POLL_INTERVAL``), in
    seconds; the server is deleted after."""
    posted_at = time.time()
    server = create()
    while (finished := build_finish_time(admin, server["id"])) is None:
        time.sleep(QUIET_POLL_INTERVAL)
    if admin.get_server(server["id"])["status"] != "ACTIVE":
        raise SystemExit(f"boot failed: {admin.get_server(server['id']).get('fault')}")
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    return seconds_from(posted_at, finished)


def build_finish_time(admin, server_id):
    """The finish_time of the server's build event, None while it builds.
    (The ``create`` action itself is recorded by the conductor once the
    server is scheduled, as in Nova: a GET right after the POST may not
    list it yet.)"""
    create = next((action for action in admin.list_instance_actions(server_id)
                   if action["action"] == "create"), None)
    if create is None:
        return None
    events = admin.get_instance_action(server_id, create["request_id"])["events"]
    return next((event["finish_time"] for event in events if event["event"] == BUILD_EVENT),
                None)


def floor_xml(template_xml, name, domain_uuid, disk, console):
    """mininova's own libvirt.xml, with a new name, uuid, disk and console."""
    domain = ET.fromstring(template_xml)
    domain.find("name").text = name
    domain.find("uuid").text = domain_uuid
    domain.find("devices/disk/source").set("file", str(disk))
    domain.find("devices/serial/log").set("file", str(console))
    for entry in domain.iter("entry"):
        if entry.get("name") in ("serial", "uuid"):
            entry.text = domain_uuid
    return ET.tostring(domain, encoding="unicode")


def time_floor_boot(conn, template_xml, base, workdir, index):
    directory = workdir / f"floor-{index}"
    directory.mkdir(mode=0o755)
    domain_uuid = str(uuid.uuid4())
    xml = floor_xml(template_xml, f"mnbench-floor-{os.getpid()}-{index}", domain_uuid,
                    directory / "disk", directory / "console.log")
    started = time.perf_counter()
    subprocess.run(["qemu-img", "create", "-f", "qcow2", "-o",
                    f"backing_file={base},backing_fmt=raw", str(directory / "disk")],
                   check=True, capture_output=True)
    domain = conn.defineXML(xml)
    domain.createWithFlags(0)
    elapsed = time.perf_counter() - started
    domain.destroy()
    domain.undefine()
    shutil.rmtree(directory)
    return elapsed


def errored_server(admin, image_id):
    """A server for the polled floor to GET: its flavor fits no host
    (40,000 MB: more than this host's RAM times its allocation ratio, less
    than the default RAM quota), so it ends in ERROR with no guest, and a
    GET of it costs the API what a GET of a building server does."""
    admin.compute("POST", "/flavors", json={"flavor": {
        "name": "bench-fits-nowhere", "id": "bench-fits-nowhere", "ram": 40000,
        "vcpus": 1, "disk": 0}})
    server = admin.create_server("bench-poll-target", image_id, "bench-fits-nowhere")
    dep.wait_for_status(admin, server["id"], "ERROR")
    return server["id"]


def warm_up(cloud, admin):
    """An image in the cloud and in its _base: the first boot's download is
    bench/image_prep's business. Returns the image and the guest's XML."""
    image = dep.upload_tiny_image(admin)
    warm = admin.create_server("warm", image["id"], "42")
    dep.wait_for_status(admin, warm["id"], "ACTIVE")
    template_xml = (cloud.instances_path / warm["id"] / "libvirt.xml").read_text()
    admin.delete_server(warm["id"])
    dep.wait_for_gone(admin, warm["id"])
    return image, template_xml


def boot_with_port(admin, image_id, network_id, name):
    # No config drive: the floor's domain has no CD-ROM either. The guest
    # reads its key from the metadata service, through its network's
    # DHCP namespace.
    return admin.create_server(name, image_id, "42", networks=[{"uuid": network_id}],
                               key_name="bench")


def time_to_active(admin, server_id, started):
    while True:
        server = admin.get_server(server_id)
        if server["status"] == "ACTIVE":
            return time.perf_counter() - started, server
        if server["status"] == "ERROR":
            raise SystemExit(f"boot failed: {server.get('fault')}")
        time.sleep(POLL_INTERVAL)


def time_to_ssh(key, ip, started, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = subprocess.run([*SSH, "-i", str(key), f"cirros@{ip}", "true"],
                                capture_output=True, timeout=30)
        if result.returncode == 0:
            return time.perf_counter() - started
        time.sleep(0.2)
    raise SystemExit(f"no SSH login into {ip} after {timeout} s")


def time_floor_boot_with_bridge(conn, template_xml, base, workdir, index):
    """A bridge, an overlay, and mininova's XML with its own name, uuid,
    disk, console, MAC, tap and bridge, defined and started."""
    directory = workdir / f"floor-{index}"
    directory.mkdir(mode=0o755)
    bridge, tap = f"mnbbr{os.getpid() % 10000}{index}"[:15], f"mnbtap{index}"
    domain = ET.fromstring(template_xml)
    domain_uuid = str(uuid.uuid4())
    domain.find("name").text = f"mnbench-net-{os.getpid()}-{index}"
    domain.find("uuid").text = domain_uuid
    for entry in domain.iter("entry"):
        if entry.get("name") in ("serial", "uuid"):
            entry.text = domain_uuid
    domain.find("devices/disk/source").set("file", str(directory / "disk"))
    domain.find("devices/serial/log").set("file", str(directory / "console.log"))
    for cdrom in domain.findall("devices/disk[@device='cdrom']"):
        domain.find("devices").remove(cdrom)
    interface = domain.find("devices/interface")
    interface.find("source").set("bridge", bridge)
    interface.find("target").set("dev", tap)
    interface.find("mac").set("address", f"52:54:00:00:10:{index:02x}")
    started = time.perf_counter()
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
    subprocess.run(["qemu-img", "create", "-f", "qcow2", "-o",
                    f"backing_file={base},backing_fmt=raw", str(directory / "disk")],
                   check=True, capture_output=True)
    guest = conn.defineXML(ET.tostring(domain, encoding="unicode"))
    guest.createWithFlags(0)
    elapsed = time.perf_counter() - started
    guest.destroy()
    guest.undefine()
    subprocess.run(["ip", "link", "delete", bridge], check=False)
    shutil.rmtree(directory)
    return elapsed


def networked_case(runs, workdir, conn, timeline=False):
    """mininova-network and a mininova whose compute has networking on,
    in their own vhost; ``runs`` boots with one port and as many floors,
    quiet and polled, and as many timed by the cloud's record, interleaved.
    Returns (boot times, floor times, polled floor times, recorded boot
    times, POST→SSH times, the timeline's text or "")."""
    vhost = make_vhost("-network")
    transport = f"rabbit://guest:guest@127.0.0.1:5672/{vhost}"
    network = NetworkDeployment(workdir / "network", transport, "http://127.0.0.1:1")
    nova = dep.Deployment(workdir / "networked", transport,
                          f"sqlite:///{workdir}/networked.sqlite",
                          config={"neutron": {"enabled": "True",
                                              "endpoint_override": network.url,
                                              "service_metadata_proxy": "True",
                                              "metadata_proxy_shared_secret": "bench"}})
    mininova, floor, polled_floor, recorded, ssh, boots = [], [], [], [], [], []
    timeline_text = ""
    try:
        nova.start()
        network._write_config(transport, f"http://127.0.0.1:{nova.api_port}/v2.1", {
            "DEFAULT": {"host": nova.host},
            "dhcp": {"enable_isolated_metadata": "True"},
            "metadata_agent": {"nova_metadata_port": nova.metadata_port,
                               "metadata_proxy_shared_secret": "bench"}})
        network.start()
        net, _subnet = network.network_with_subnet(cidr=free_cidr())
        admin = nova.client()
        image = dep.upload_tiny_image(admin)
        key = workdir / "key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
        admin.compute("POST", "/os-keypairs", json={"keypair": {
            "name": "bench", "public_key": key.with_suffix(".pub").read_text().strip()}})
        warm = boot_with_port(admin, image["id"], net["id"], "warm")
        dep.wait_for_status(admin, warm["id"], "ACTIVE")
        template_xml = (nova.instances_path / warm["id"] / "libvirt.xml").read_text()
        admin.delete_server(warm["id"])
        dep.wait_for_gone(admin, warm["id"])
        base = next((nova.instances_path / "_base").iterdir())
        poll_target = errored_server(admin, image["id"])

        for index in range(runs):  # interleaved, so drift hits all alike
            posted_at, started = time.time(), time.perf_counter()
            created = boot_with_port(admin, image["id"], net["id"], f"bench-{index}")
            elapsed, server = time_to_active(admin, created["id"], started)
            mininova.append(elapsed)
            boots.append((server["id"], posted_at, posted_at + elapsed))
            ip = server["addresses"][net["name"]][0]["addr"]
            ssh.append(time_to_ssh(key, ip, started))
            admin.delete_server(server["id"])
            dep.wait_for_gone(admin, server["id"])
            recorded.append(time_recorded_boot(admin, lambda index=index: boot_with_port(
                admin, image["id"], net["id"], f"bench-recorded-{index}")))
            floor.append(time_floor_boot_with_bridge(conn, template_xml, base, workdir, index))
            with polling(lambda: admin.get_server(poll_target), POLL_INTERVAL):
                polled_floor.append(time_floor_boot_with_bridge(conn, template_xml, base,
                                                                workdir, runs + index))
        admin.delete_server(poll_target)
        if timeline:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                boot_timeline.print_timeline(nova.log_dir, boots, "with one port")
            timeline_text = out.getvalue()
    finally:
        try:
            network.tear_down()
        finally:
            nova.stop()
            nova.remove_leftover_domains()
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
    return mininova, floor, polled_floor, recorded, ssh, timeline_text


def report(label, times, floor=None):
    median = statistics.median(times)
    line = (f"  {label:<34} median {median:.3f}  min {min(times):.3f}  "
            f"max {max(times):.3f}")
    if floor:
        line += f"   ratio to the floor {describe_ratio(times, floor)}"
    print(line)


def keep_logs(workdir, destination):
    """Copy each deployment's ``*.log`` files under ``destination``, by the
    deployment's directory name (noauth2, networked, network...)."""
    for log in workdir.rglob("*.log"):
        target = destination / log.relative_to(workdir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(log, target)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keystone", action="store_true",
                        help="also boot through a deployment behind the real Keystone")
    parser.add_argument("--network", action="store_true",
                        help="also boot with one port on a network of mininova-network")
    parser.add_argument("--timeline", action="store_true",
                        help="print where the time of a boot goes, from the request "
                             "id's log lines in every service (boot_timeline.py)")
    parser.add_argument("--keep-logs", metavar="DIR", type=Path,
                        help="copy every service's logs there before the run's "
                             "directory is removed (to read a boot's lines whole)")
    args = parser.parse_args()

    WORK_ROOT.mkdir(mode=0o755, exist_ok=True)
    workdir = WORK_ROOT / str(os.getpid())
    workdir.mkdir(mode=0o755)
    # One vhost per deployment: two clouds on one would share the conductor's
    # and the scheduler's queues, each answering the other's calls.
    vhosts = [make_vhost()] + ([make_vhost("-keystone")] if args.keystone else [])
    transports = [f"rabbit://guest:guest@127.0.0.1:5672/{vhost}" for vhost in vhosts]
    clouds, keystone, networked, timelines = [], None, None, []
    conn = libvirt.open("qemu:///system")
    try:
        # Each cloud is on the list before it starts: one that fails to
        # start is still stopped below, no service process left running.
        clouds.append(dep.Deployment(workdir / "noauth2", transports[0],
                                     f"sqlite:///{workdir}/noauth2.sqlite"))
        clouds[0].start()
        if args.keystone:
            keystone = keystone_fixture.Keystone(workdir / "keystone")
            keystone.start()
            clouds.append(dep.Deployment(
                workdir / "keystone-auth", transports[1],
                f"sqlite:///{workdir}/keystone.sqlite",
                config=keystone.service_config(),
                admin_token=lambda: keystone.token("admin")))
            clouds[1].start()
            keystone.point_at(clouds[1])
        admins = [cloud.client() for cloud in clouds]
        images = []
        for cloud, admin in zip(clouds, admins, strict=True):
            image, template_xml = warm_up(cloud, admin)
            images.append(image)
        base = next((clouds[0].instances_path / "_base").iterdir())
        poll_target = errored_server(admins[0], images[0]["id"])

        times = [[] for _ in clouds]
        boots = [[] for _ in clouds]
        floor, polled_floor, recorded = [], [], []
        for index in range(args.runs):  # interleaved, so drift hits all alike
            for cloud_times, cloud_boots, admin, image in zip(times, boots, admins, images,
                                                              strict=True):
                cloud_times.append(time_mininova_boot(admin, image["id"], cloud_boots))
            recorded.append(time_recorded_boot(admins[0], lambda: admins[0].create_server(
                "bench", images[0]["id"], "42")))
            floor.append(time_floor_boot(conn, template_xml, base, workdir, index))
            with polling(lambda: admins[0].get_server(poll_target), POLL_INTERVAL):
                polled_floor.append(time_floor_boot(conn, template_xml, base, workdir,
                                                    args.runs + index))
        admins[0].delete_server(poll_target)
        if args.timeline:
            for cloud, cloud_boots, label in zip(clouds, boots, ("noauth2", "Keystone"),
                                                 strict=False):
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    boot_timeline.print_timeline(cloud.log_dir, cloud_boots, label)
                timelines.append(out.getvalue())
        for cloud in clouds:  # the networked case runs alone, on a quiet machine
            cloud.stop()
        if args.network:
            networked = networked_case(args.runs, workdir, conn, args.timeline)
    finally:
        conn.close()
        for cloud in clouds:
            cloud.stop()
            cloud.remove_leftover_domains()
        if keystone is not None:
            keystone.stop()
        for vhost in vhosts:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        if args.keep_logs:
            keep_logs(workdir, args.keep_logs)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"boot of a cached image, {args.runs} runs each (seconds)")
    report("mininova POST→ACTIVE (noauth2)", times[0], floor)
    if args.keystone:
        report("mininova POST→ACTIVE (Keystone)", times[1], floor)
    report("floor create+define+start", floor)
    report(f"floor, client polling every {POLL_INTERVAL * 1000:.0f} ms", polled_floor, floor)
    print(f"  ratio mininova/floor = "
          f"{statistics.median(times[0]) / statistics.median(floor):.2f}   (target <= 1.15); "
          f"mininova/polled floor = "
          f"{statistics.median(times[0]) / statistics.median(polled_floor):.2f}")
    report(f"mininova, recorded, {QUIET_POLL_INTERVAL * 1000:.0f} ms polls", recorded, floor)
    if args.keystone:
        ratio = statistics.median(times[1]) / statistics.median(times[0])
        print(f"  ratio Keystone/noauth2 = {ratio:.3f}   (target <= 1.05)")

    if networked:
        mininova, floor, polled_floor, recorded, ssh, timeline_text = networked
        timelines.append(timeline_text)
        print(f"boot with one port on a network, {args.runs} runs each (seconds)")
        report("mininova POST→ACTIVE (port, vif)", mininova, floor)
        report("floor bridge+create+define+start", floor)
        report("floor, client polling every 10 ms", polled_floor, floor)
        print(f"  ratio mininova/floor = "
              f"{statistics.median(mininova) / statistics.median(floor):.2f}   "
              f"(target <= 1.3); mininova/polled floor = "
              f"{statistics.median(mininova) / statistics.median(polled_floor):.2f}")
        report(f"mininova, recorded, {QUIET_POLL_INTERVAL * 1000:.0f} ms polls", recorded, floor)
        report("POST → SSH login into the guest", ssh)
    for timeline in timelines:
        print(timeline, end="")


if __name__ == "__main__":
    main()
