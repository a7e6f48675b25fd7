#!/usr/bin/env python3
"""How much does mininova add to booting a guest? (the Rally idea, small)

Measured in one run, on this machine:

* **mininova**: POST /servers → status ACTIVE, for an image already in
  ``_base`` (the download is a one-off cost, measured by bench/image_prep),
  through all five services as separate processes over RabbitMQ;
* **floor**: what any tool must do to get the same guest running: a
  ``qemu-img create`` overlay on the same base file, then libvirt define and
  start of the same domain XML mininova wrote.

It prints both medians and their ratio (target ≤ 1.5). Nothing is asserted:
numbers depend on the machine; the ratio is what to watch.

    sudo .venv/bin/python bench/boot_overhead.py [--runs 7]

Needs what the integration tests need (bin/run-tests prepares it all).
"""

import argparse
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

from tests.integration import deployment as dep  # noqa: E402

WORK_ROOT = Path("/var/tmp/mininova-bench")


def make_vhost():
    vhost = f"mininova-bench-{os.getpid()}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest",
                    ".*", ".*", ".*"], check=True)
    return vhost


def time_mininova_boot(admin, image_id):
    started = time.perf_counter()
    server = admin.create_server("bench", image_id, "42")
    while True:
        status = admin.get_server(server["id"])["status"]
        if status == "ACTIVE":
            elapsed = time.perf_counter() - started
            break
        if status == "ERROR":
            raise SystemExit(f"boot failed: {admin.get_server(server['id']).get('fault')}")
        time.sleep(0.01)
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    return elapsed


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    WORK_ROOT.mkdir(mode=0o755, exist_ok=True)
    workdir = WORK_ROOT / str(os.getpid())
    workdir.mkdir(mode=0o755)
    vhost = make_vhost()
    cloud = dep.Deployment(workdir, f"rabbit://guest:guest@127.0.0.1:5672/{vhost}",
                           f"sqlite:///{workdir}/mininova.sqlite")
    conn = libvirt.open("qemu:///system")
    try:
        cloud.start()
        admin = cloud.client()
        image = dep.upload_tiny_image(admin)
        # One boot to fill _base and keep its libvirt.xml as the floor's template.
        warm = admin.create_server("warm", image["id"], "42")
        dep.wait_for_status(admin, warm["id"], "ACTIVE")
        template_xml = (cloud.instances_path / warm["id"] / "libvirt.xml").read_text()
        admin.delete_server(warm["id"])
        dep.wait_for_gone(admin, warm["id"])
        base = next((cloud.instances_path / "_base").iterdir())

        mininova, floor = [], []
        for index in range(args.runs):  # interleaved, so drift hits both alike
            mininova.append(time_mininova_boot(admin, image["id"]))
            floor.append(time_floor_boot(conn, template_xml, base, workdir, index))
    finally:
        conn.close()
        cloud.stop()
        cloud.remove_leftover_domains()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        shutil.rmtree(workdir, ignore_errors=True)

    m, f = statistics.median(mininova), statistics.median(floor)
    print(f"boot of a cached image, {args.runs} runs each (seconds)")
    print(f"  mininova POST→ACTIVE  median {m:.3f}  min {min(mininova):.3f}  "
          f"max {max(mininova):.3f}")
    print(f"  floor create+define+start  median {f:.3f}  min {min(floor):.3f}  "
          f"max {max(floor):.3f}")
    print(f"  ratio mininova/floor = {m / f:.2f}   (target <= 1.5)")


if __name__ == "__main__":
    main()
