#!/usr/bin/env python3
"""What does mininova add to deleting, stopping and starting a guest?

Measured in one run, on this machine, on N guests of the tiny image
(m1.nano), each booted to its ``login:`` prompt first:

* **delete**: ``DELETE /servers/<id>`` → the server is gone from the API
  (404) *and* its libvirt domain no longer exists *and* its instance
  directory is removed; through all five services as separate processes
  over RabbitMQ;
* **delete floor**: what any tool must do to get rid of an equivalent guest
  (same XML, same kind of overlay on the same base file, also at its login
  prompt): destroy + undefine the domain (libvirt-python by default, or the
  ``virsh`` binary) and remove its directory;
* **stop**: ``POST .../action {"os-stop": null}`` → status SHUTOFF with
  power_state 4. Graceful: the guest gets the ACPI power button (busybox
  acpid), which is why every guest must show ``login:`` first;
* **start**: ``{"os-start": null}`` → ACTIVE with power_state 1;
* with ``--power-floor``, for reference, the same on the floor guests:
  shutdown until the domain is off, start.

Each step is timed while every other guest idles at its login prompt (a
started guest boots to it again before the next step). It prints the
medians and the delete ratio (target ≤ 1.5), and how much of mininova's
delete is the compute's libvirt and file work (from its log). Nothing is
asserted: numbers depend on the machine; the ratio is what to watch.

    sudo .venv/bin/python bench/lifecycle.py [--servers 5] [--only delete|power]
                                    [--floor-tool libvirt|virsh] [--power-floor]

About 2.5 minutes with 5 servers (--only delete: 1.5), most of it TCG boots.
Needs what the integration tests need (bin/run-tests prepares it all).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.boot_overhead import WORK_ROOT, floor_xml, make_vhost  # noqa: E402
from mininova.cli.client import ClientException  # noqa: E402
from mininova.virt.libvirt import config as vconfig  # noqa: E402
from mininova.virt.libvirt import driver as libvirt_driver  # noqa: E402
from tests.integration import deployment as dep  # noqa: E402

FLAVOR = "42"  # m1.nano
POLL = 0.01  # seconds between two looks, as boot_overhead
TARGET = 1.5
LOGIN_TIMEOUT = 120
ACTION_TIMEOUT = 90
POWER_RUNNING = 1
POWER_SHUTDOWN = 4
SHUTDOWN_POLL = getattr(libvirt_driver, "SHUTDOWN_POLL_SECONDS", "?")


# --- looking at a guest ------------------------------------------------------------


class Console:
    """A guest's serial console log (virtlogd's file), read from an offset:
    ``mark()`` then ``wait_for('login:')`` sees only what came after."""

    def __init__(self, path):
        self.path = Path(path)
        self.offset = 0

    def _read(self):
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""

    def mark(self):
        self.offset = len(self._read())

    def wait_for(self, text, timeout=LOGIN_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            data = self._read()
            if len(data) < self.offset:  # the file was started again
                self.offset = 0
            if text.encode() in data[self.offset:]:
                self.offset = len(data)
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{text!r} not on {self.path} after {timeout} s")
            time.sleep(0.2)


def domain_exists(conn, domain_uuid):
    try:
        conn.lookupByUUIDString(domain_uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise
    return True


def api_has(admin, server_id):
    try:
        admin.get_server(server_id)
    except ClientException as exc:
        if exc.code == 404:
            return False
        raise
    return True


def wait_for_power(admin, server_id, status, power, timeout=ACTION_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        server = admin.get_server(server_id)
        if server["status"] == status and server["OS-EXT-STS:power_state"] == power:
            return
        if server["status"] == "ERROR":
            raise SystemExit(f"server {server_id} went to ERROR: {server.get('fault')}")
        if time.monotonic() > deadline:
            raise SystemExit(f"server {server_id} not {status}/{power} after {timeout} s: "
                             f"{server['status']}/{server['OS-EXT-STS:power_state']}")
        time.sleep(POLL)


# --- mininova ------------------------------------------------------------------------


class Server:
    def __init__(self, cloud, server_id):
        self.id = server_id
        self.dir = cloud.instances_path / server_id
        self.console = Console(self.dir / "console.log")


def boot_servers(cloud, admin, image_id, count):
    servers = [Server(cloud, admin.create_server(f"lc-{i}", image_id, FLAVOR)["id"])
               for i in range(count)]
    for server in servers:
        dep.wait_for_status(admin, server.id, "ACTIVE")
    return servers


def time_mininova_delete(admin, conn, server):
    started = time.perf_counter()
    admin.delete_server(server.id)
    in_api = in_libvirt = on_disk = True
    while in_api or in_libvirt or on_disk:
        time.sleep(POLL)
        # Cheapest first; once a condition holds it holds for good.
        on_disk = on_disk and (server.dir.exists() or Path(f"{server.dir}_del").exists())
        in_libvirt = in_libvirt and domain_exists(conn, server.id)
        in_api = in_api and api_has(admin, server.id)
        if time.perf_counter() - started > ACTION_TIMEOUT:
            raise SystemExit(f"server {server.id} not gone after {ACTION_TIMEOUT} s: "
                             f"api={in_api} libvirt={in_libvirt} dir={on_disk}")
    return time.perf_counter() - started


def time_mininova_action(admin, server, action, status, power):
    started = time.perf_counter()
    admin.compute("POST", f"/servers/{server.id}/action", json={action: None},
                  expect_json=False)
    wait_for_power(admin, server.id, status, power)
    return time.perf_counter() - started


def hypervisor_delete_times(cloud, server_ids):
    """The compute's own "Took … seconds to destroy the instance on the
    hypervisor" (libvirt destroy + undefine + the files) of each server."""
    pattern = (r"\[instance: ([0-9a-f-]{36})\] Took ([0-9.]+) seconds to destroy the "
               r"instance on the hypervisor")
    found = dict(re.findall(pattern, cloud.log("mininova-compute")))
    return [float(found[server_id]) for server_id in server_ids if server_id in found]


# --- the floor -------------------------------------------------------------------------


class FloorGuest:
    """A guest defined and started straight from mininova's XML, renamed,
    on its own overlay of the same base file, in its own directory."""

    def __init__(self, conn, template_xml, base, workdir, index):
        self.dir = workdir / f"floor-{index}"
        self.dir.mkdir(mode=0o755)
        self.uuid = str(uuid.uuid4())
        self.name = f"mnbench-lc-{os.getpid()}-{index}"
        xml = floor_xml(template_xml, self.name, self.uuid, self.dir / "disk",
                        self.dir / "console.log")
        # Not the deployment's compute's guest: it must not count or sync it.
        domain = ET.fromstring(xml)
        for host in domain.iter(f"{{{vconfig.MININOVA_NS}}}host"):
            host.text = "mnbench-floor"
        subprocess.run(["qemu-img", "create", "-f", "qcow2", "-o",
                        f"backing_file={base},backing_fmt=raw", str(self.dir / "disk")],
                       check=True, capture_output=True)
        self.domain = conn.defineXML(ET.tostring(domain, encoding="unicode"))
        self.domain.createWithFlags(0)
        self.console = Console(self.dir / "console.log")

    def time_delete(self, tool):
        started = time.perf_counter()
        if tool == "virsh":
            virsh("destroy", self.name)
            virsh("undefine", self.name)
        else:
            self.domain.destroy()
            self.domain.undefine()
        shutil.rmtree(self.dir)
        return time.perf_counter() - started

    def time_stop(self, tool):
        started = time.perf_counter()
        if tool == "virsh":
            virsh("shutdown", self.name)
        else:
            self.domain.shutdown()
        deadline = time.monotonic() + ACTION_TIMEOUT
        while self.domain.isActive():
            if time.monotonic() > deadline:
                raise SystemExit(f"floor guest {self.name} did not shut down")
            time.sleep(POLL)
        return time.perf_counter() - started

    def time_start(self, tool):
        started = time.perf_counter()
        if tool == "virsh":
            virsh("start", self.name)
        else:
            self.domain.createWithFlags(0)
        return time.perf_counter() - started


def virsh(*args):
    subprocess.run(["virsh", "-q", "-c", "qemu:///system", *args], check=True,
                   capture_output=True)


def orphan_reap_delay():
    """Seconds between an orphaned process's exit and its reaping by PID 1.
    libvirt's destroy waits until QEMU (an orphan: it daemonizes) is reaped;
    the init of some containers and sandboxes reaps only now and then."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        child = os.fork()
        if child:
            os.write(write_end, str(child).encode())
        else:
            time.sleep(0.05)
        os._exit(0)
    os.waitpid(pid, 0)
    orphan = int(os.read(read_end, 32))
    os.close(read_end)
    os.close(write_end)
    exited = time.perf_counter()
    while True:
        try:
            state = Path(f"/proc/{orphan}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return time.perf_counter() - exited
        if state != "Z":
            exited = time.perf_counter()
        time.sleep(0.002)


def remove_floor_domains(conn):
    prefix = f"mnbench-lc-{os.getpid()}-"
    for domain in conn.listAllDomains():
        if domain.name().startswith(prefix):
            if domain.isActive():
                domain.destroy()
            domain.undefine()


# --- the run -------------------------------------------------------------------------------


def wait_for_logins(consoles):
    """Every guest at its login prompt (acpid is up: the power button works)."""
    with ThreadPoolExecutor(len(consoles)) as pool:
        list(pool.map(lambda console: console.wait_for("login:"), consoles))


def measure(admin, conn, servers, floors, only, tool, power_floor):
    """One pair (a server, a floor guest) at a time, every step timed while
    all the other guests idle at their login prompt; mininova first in one
    pair, the floor first in the next, so neither always goes second."""
    names = {None: ("stop", "start", "delete"), "power": ("stop", "start"),
             "delete": ("delete",)}[only]
    results = {name: [] for name in names}
    results.update({f"floor {name}": [] for name in names
                    if name == "delete" or power_floor})
    started = time.monotonic()
    wait_for_logins([g.console for g in servers + floors])
    print(f"  {len(servers)} + {len(floors)} guests at login after "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr)

    def both(index, name, mininova, floor):
        steps = [(name, mininova), (f"floor {name}", floor)]
        for key, step in steps if index % 2 == 0 else steps[::-1]:
            if key in results:
                results[key].append(step())

    for index, (server, floor) in enumerate(zip(servers, floors, strict=True)):
        if "stop" in names:
            both(index, "stop",
                 partial(time_mininova_action, admin, server, "os-stop", "SHUTOFF",
                         POWER_SHUTDOWN),
                 partial(floor.time_stop, tool))
            server.console.mark()
            floor.console.mark()
            both(index, "start",
                 partial(time_mininova_action, admin, server, "os-start", "ACTIVE",
                         POWER_RUNNING),
                 partial(floor.time_start, tool))
            # Booted again before anything else is timed (and before the
            # delete, so that it deletes a guest like the floor's).
            wait_for_logins([server.console] + ([floor.console] if power_floor else []))
        if "delete" in names:
            both(index, "delete", partial(time_mininova_delete, admin, conn, server),
                 partial(floor.time_delete, tool))
        print(f"  pair {index + 1}/{len(servers)} measured", file=sys.stderr)
    return results


def print_table(results, count, tool, reap_delay):
    floor_names = {"libvirt": "libvirt-python", "virsh": "virsh"}[tool]
    rows = [
        ("delete", "DELETE → 404 + no domain + no dir", "floor delete",
         f"destroy+undefine+rm -rf ({floor_names})"),
        ("stop", 'os-stop → SHUTOFF, power 4', "floor stop",
         f"shutdown until off ({floor_names})"),
        ("start", 'os-start → ACTIVE, power 1', "floor start", f"start ({floor_names})"),
    ]
    print(f"\nserver lifecycle on libvirt, {count} guests of the tiny image (seconds)")
    print(f"  {'':50} {'median':>7} {'min':>7} {'max':>7}")
    for name, label, floor_name, floor_label in rows:
        if name not in results:
            continue
        for key, text in ((name, f"mininova {label}"), (floor_name, f"floor {floor_label}")):
            values = results.get(key)
            if not values:
                continue
            print(f"  {text:50} {statistics.median(values):7.3f} {min(values):7.3f} "
                  f"{max(values):7.3f}")
    if "delete" in results:
        mininova = statistics.median(results["delete"])
        floor = statistics.median(results["floor delete"])
        verdict = "met" if mininova / floor <= TARGET else "NOT met"
        print(f"  delete ratio mininova/floor = {mininova / floor:.2f}   "
              f"(target ≤ {TARGET}: {verdict})")
        if len(results["hypervisor"]) == len(results["delete"]):
            rest = [total - hypervisor
                    for total, hypervisor in zip(results["delete"], results["hypervisor"],
                                                 strict=True)]
            print(f"  of a mininova delete, the compute's libvirt + files step (its log) "
                  f"median {statistics.median(results['hypervisor']):.3f}; the rest (API, RPC, "
                  f"DB, polling) median {statistics.median(rest):.3f}")
    if reap_delay > 0.05:
        print(f"  NOTE: PID 1 here reaps orphaned processes up to {reap_delay:.1f} s late, and "
              "libvirt's destroy waits for QEMU to be reaped: every delete, floor and stop "
              f"above holds 0-{reap_delay:.1f} s of that wait, so the ratio is noisy here")
    if "floor stop" in results:
        print("  stop and start: no target, their floor is for reference (mininova's compute "
              f"looks at a guest shutting down every {SHUTDOWN_POLL} s)")
    elif "stop" in results:
        print("  stop and start: no target; a stop is mostly the guest's own shutdown "
              "(--power-floor measures it)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=5,
                        help="guests measured (as many floor guests besides)")
    parser.add_argument("--only", choices=("delete", "power"),
                        help="measure only the delete, or only stop and start")
    parser.add_argument("--floor-tool", choices=("libvirt", "virsh"), default="libvirt",
                        help="the floor's calls: libvirt-python on an open connection "
                        "(the strict floor), or a virsh process per step")
    parser.add_argument("--power-floor", action="store_true",
                        help="also stop and start the floor guests (virsh shutdown / "
                        "start), for reference; adds about a minute")
    args = parser.parse_args()
    if args.servers < 1:
        parser.error("--servers must be at least 1")

    WORK_ROOT.mkdir(mode=0o755, exist_ok=True)
    workdir = WORK_ROOT / f"lifecycle-{os.getpid()}"
    workdir.mkdir(mode=0o755)
    vhost = make_vhost()
    cloud = dep.Deployment(workdir, f"rabbit://guest:guest@127.0.0.1:5672/{vhost}",
                           f"sqlite:///{workdir}/mininova.sqlite")
    # "Domain not found" is what the delete waits for, not news for stderr.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.open("qemu:///system")
    began = time.monotonic()
    reap_delay = max(orphan_reap_delay() for _ in range(3))
    try:
        cloud.start()
        admin = cloud.client()
        image = dep.upload_tiny_image(admin)
        # One boot to fill _base and keep its libvirt.xml as the floor's template.
        warm = admin.create_server("warm", image["id"], FLAVOR)
        dep.wait_for_status(admin, warm["id"], "ACTIVE")
        template_xml = (cloud.instances_path / warm["id"] / "libvirt.xml").read_text()
        admin.delete_server(warm["id"])
        dep.wait_for_gone(admin, warm["id"])
        base = next((cloud.instances_path / "_base").iterdir())

        servers = boot_servers(cloud, admin, image["id"], args.servers)
        floors = [FloorGuest(conn, template_xml, base, workdir, i)
                  for i in range(args.servers)]
        results = measure(admin, conn, servers, floors, args.only, args.floor_tool,
                          args.power_floor)
        if "delete" in results:
            results["hypervisor"] = hypervisor_delete_times(cloud, [s.id for s in servers])
    finally:
        remove_floor_domains(conn)
        conn.close()
        cloud.stop()
        cloud.remove_leftover_domains()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(results, args.servers, args.floor_tool, reap_delay)
    print(f"  (whole run {time.monotonic() - began:.0f} s)")


if __name__ == "__main__":
    main()
