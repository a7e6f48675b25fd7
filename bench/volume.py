#!/usr/bin/env python3
"""How fast does mininova-volume turn an image into a volume?

Measured in one run, on this machine, on the same qcow2 image (made here
with qemu-img and qemu-io in a temporary directory, removed at the end):

* **mininova-volume, HTTP**: ``POST /v3/<project>/volumes`` with
  ``imageRef``, polled until the volume is ``available``: the download from
  mininova-image (streamed, sha512-checked), the format inspector,
  ``qemu-img info`` under its limits, ``qemu-img convert -f qcow2 -O raw``
  into the volume file (qemu-img's default cache mode, as Cinder's for a
  file volume) and, where the volume is bigger, the resize to its size;
* **mininova-volume, direct URL**: the same request to a second
  mininova-volume with ``[volume] allowed_direct_url_schemes = file`` (the
  image service shows ``direct_url``): the same checks and convert, read
  from the image store's file in place, no download. mininova-image and
  both mininova-volume run as their own processes (the console scripts of
  this venv, noauth2, SQLite), as in a deployment;
* **mininova-volume, direct URL, its record**: the same request again, the
  client polling only every ``QUIET_POLL_INTERVAL`` (0.25 s), and the time
  taken from the POST to the volume's own ``updated_at`` (Cinder's format
  has microseconds), which the service sets as it marks the volume
  ``available``: the service's time with next to no load from the client
  (the 20 ms polls above slow a bare convert by 6-42 % on two cores);
* **floor**: a bare ``qemu-img convert -f qcow2 -O raw`` of the same image
  (the image service's own file, which the direct-URL volume reads too)
  into a file (what any tool must do at least); its output cache mode is
  qemu-img's default, ``unsafe``: nothing is flushed;
* **durable floor**: the same with ``-t none`` (O_DIRECT: the data is on
  the disk when qemu-img exits; Cinder's mode for block-device volumes,
  and the service's own before 30 Nov 2026), for reference;
* and, for reference, a bare download of the same image from the same
  image service (``curl -o``) followed by the same convert: what any tool
  must do when the image is not on the volume host yet;
* **floor, client polling**: the bare convert again while the client GETs
  a volume (an empty one, made at the start) every ``POLL_INTERVAL``, as it
  does while it waits for the volumes above: on two cores those GETs take
  CPU from the convert, and this says how much of the gap is the
  instrument's. The target's ratio stays the one against the quiet floor.

The cases are interleaved, each run in its own order (a shuffle seeded by
the run's number, the same every time the bench runs), a ``sync`` before
each step: over the runs each case follows different ones.

Throughput is the raw bytes made (the virtual size) per second; it prints
the medians, for each case the ratios floor/mininova (the issue's target:
>= 0.8), durable floor/mininova and (curl + convert)/mininova, and where
the volume service's time went (from its log: the download line and the
qemu-img lines). Nothing is asserted: numbers depend on the machine.

    .venv/bin/python bench/volume.py [--runs 5] [--virtual-size 1G] [--data 512M]
    sudo .venv/bin/python bench/volume.py --boot [--runs 5]

``--boot`` measures the other half, Nova's: a whole deployment (every
service its own process, RabbitMQ, real libvirt, as bench/boot_overhead.py
runs it) boots the tiny image's server from an image-backed volume
(``block_device_mapping_v2`` image → volume, boot_index 0, 1 GB,
delete_on_termination) and, interleaved, the same server from the image
(the root disk a qcow2 overlay on the cached ``_base`` file, warmed first):
POST → ACTIVE for each, the medians and the ratio image-boot/volume-boot.
A volume boot makes a volume (download, convert) every time, where the
image boot finds its base file cached: that difference is the price of a
volume that outlives the server.

Needs qemu-img, qemu-io and curl, and about 3 times the virtual size free
under /var/tmp. Leaves nothing behind: the services are stopped and the
directory removed, also when it fails.

Measured on the development machine (2 vCPUs shared with other helpers'
test runs, load 3-9, ext4 with discard, 5 runs, 1 GiB virtual with 512 MiB
of data): HTTP 6.62 s, direct URL 2.52 s, floor 1.12 s, durable floor
2.20 s, curl + convert 2.97 s; ratios floor/HTTP 0.17, floor/direct 0.45,
durable floor/direct 0.87 (before: HTTP 5.36 s, floor 0.38 s, ratio 0.07;
the floor's own noise is that large). The gap left is the flush of
``-t none`` (docs/volumes.md, "Benchmark").
The client keeps one HTTP session (keep-alive) and polls every 20 ms
since 30 Nov 2026's fifth session (before: a new connection per request,
every 50 ms); see ``POLL_INTERVAL`` and docs/performance.md.
``--boot`` (3 runs): boot from the image 2.00 s, from an image-backed
volume 5.15 s, ratio 0.39 (docs/block-devices.md, "On the compute host").
1 Dec 2026, 11 runs: direct URL 0.465 s polled, 0.364 s by its record,
floor 0.317 s: 0.68 polled, **0.87 by its record** (docs/performance.md,
"The twelfth session").
"""

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from polling import polling, seconds_from  # noqa: E402  (beside this script)

from tests.integration import deployment as dep  # noqa: E402

BIN = Path(sys.executable).parent
WORK_ROOT = Path("/var/tmp/mininova-bench")
TOKEN = {"X-Auth-Token": "admin:admin"}
MiB = 1024 * 1024
# How often the client asks for the volume's status. Real clients wait for
# people and poll every few seconds (Nova 3 s, openstacksdk 2 s, Tempest
# 1 s); this one measures the service, so its poll is its instrument: it
# must be fine next to the work measured (a direct-URL volume takes about
# 0.2 s here; the poll adds half its interval on average) and cheap for the
# service (a GET is ~4 ms of its CPU on a quiet machine, 7-9 ms on a loaded
# one, taken from the convert on 2 cores). 20 ms: 10 ms of error on
# average, and the polls take 15-20 % of one core while the convert runs.
# At 10 ms with a new connection per request the polls made the volume
# slower (third session); see docs/performance.md, "The fifth session".
# The HTTP case polls the same way (its polls take CPU from its download
# and hash alike).
POLL_INTERVAL = 0.02
# The quiet client: polls every QUIET_POLL_INTERVAL and takes the volume's
# end from the service's own record (its ``updated_at``, microseconds, set
# when the volume became ``available``), not from when a poll saw it. Its
# few GETs take next to nothing from the convert; see "recorded" below.
QUIET_POLL_INTERVAL = 0.25


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Services:
    """mininova-image and two mininova-volume, each its own process: one
    downloads images over HTTP (the defaults), the other reads the image's
    file in place (``[volume] allowed_direct_url_schemes = file``; the image
    service shows ``direct_url``, which the first one ignores)."""

    CASES = ("http", "direct")

    def __init__(self, workdir):
        self.workdir = workdir
        self.image_port = free_port()
        self.volume_ports = {case: free_port() for case in self.CASES}
        self.confs = {case: self._write_conf(case) for case in self.CASES}
        self.processes = []
        # One HTTP session, its connections kept alive, as the real clients
        # keep theirs (keystoneauth's Session, under openstacksdk and the
        # openstack CLI): a poll is then one request, not a TCP handshake
        # and a request.
        self.session = requests.Session()
        self.session.headers.update(TOKEN)

    def _write_conf(self, case):
        conf = self.workdir / f"mininova-{case}.conf"
        direct = "file" if case == "direct" else ""
        conf.write_text(f"""[DEFAULT]
state_path = {self.workdir}/state
log_dir = {self.workdir}/log
debug = True
[image_service]
bind_host = 127.0.0.1
bind_port = {self.image_port}
show_image_direct_url = True
[glance]
api_servers = http://127.0.0.1:{self.image_port}
[volume]
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = {self.volume_ports[case]}
connection = sqlite:///{self.workdir}/state/volume-{case}.sqlite
volumes_path = {self.workdir}/state/volumes-{case}
image_conversion_dir = {self.workdir}/state/conversion-{case}
allowed_direct_url_schemes = {direct}
""")
        return conf

    def start(self):
        (self.workdir / "log").mkdir()
        (self.workdir / "state").mkdir()
        commands = [("mininova-image", self.confs["http"], "mininova-image")]
        commands += [("mininova-volume", self.confs[case], f"mininova-volume-{case}")
                     for case in self.CASES]
        for name, conf, log_name in commands:
            out = open(self.workdir / "log" / f"{log_name}.stdout", "wb")
            self.processes.append(subprocess.Popen(
                [BIN / name, "--config-file", conf, "--log-file",
                 self.workdir / "log" / f"{log_name}.log"], stdout=out, stderr=out,
                start_new_session=True))
        for port in (self.image_port, *self.volume_ports.values()):
            _wait(lambda p=port: _answers(f"http://127.0.0.1:{p}/"), "a service to answer")

    def stop(self):
        self.session.close()
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    @property
    def image_url(self):
        return f"http://127.0.0.1:{self.image_port}"

    def volume_url(self, case):
        return f"http://127.0.0.1:{self.volume_ports[case]}/v3/admin"

    def log(self, case):
        return (self.workdir / "log" / f"mininova-volume-{case}.log").read_text()


def _answers(url):
    try:
        requests.get(url, timeout=1)
        return True
    except requests.ConnectionError:
        return False


def _wait(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def make_image(workdir, virtual_size, data):
    path = workdir / "image.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(path), virtual_size], check=True,
                   capture_output=True)
    # Random-looking data in real clusters (no zero detection to shortcut).
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -P 0xab 0 {data}", str(path)],
                   check=True, capture_output=True)
    return path


def upload(services, path):
    body = requests.post(f"{services.image_url}/v2/images", headers=TOKEN, timeout=30, json={
        "name": "bench", "disk_format": "qcow2", "container_format": "bare"}).json()
    with open(path, "rb") as data:
        requests.put(f"{services.image_url}/v2/images/{body['id']}/file", data=data,
                     headers={**TOKEN, "Content-Type": "application/octet-stream"},
                     timeout=600).raise_for_status()
    return requests.get(f"{services.image_url}/v2/images/{body['id']}", headers=TOKEN,
                        timeout=30).json()


def settle():
    """Start each measurement from a disk with nothing pending: the previous
    one's dirty pages, and the discards its deleted files cause on a
    filesystem mounted with ``discard``, would slow whichever came next
    (measured here: a bare convert 0.5 s alone, 1.1-1.5 s just after a
    durable one was deleted)."""
    os.sync()


def time_volume(services, case, image, size_gb, poll_interval=POLL_INTERVAL,
                recorded=False):
    """POST → ``available`` of one volume made from ``image``, then deleted:
    as the client saw it (polling every ``poll_interval``), or with
    ``recorded``, up to the time the service recorded (``updated_at``)."""
    session = services.session
    posted_at, started = time.time(), time.perf_counter()
    response = session.post(f"{services.volume_url(case)}/volumes", timeout=60,
                            json={"volume": {"size": size_gb, "imageRef": image["id"]}})
    response.raise_for_status()
    volume_id = response.json()["volume"]["id"]
    url = f"{services.volume_url(case)}/volumes/{volume_id}"
    while True:
        volume = session.get(url, timeout=30).json()["volume"]
        if volume["status"] not in ("creating", "downloading"):
            break
        time.sleep(poll_interval)
    elapsed = time.perf_counter() - started
    if volume["status"] != "available":
        raise RuntimeError(f"volume {volume_id} ended {volume['status']}; see the service's log")
    session.delete(url, timeout=30).raise_for_status()
    _wait(lambda: session.get(url, timeout=30).status_code == 404, "the volume's delete")
    if recorded:
        return seconds_from(posted_at, volume["updated_at"])
    return elapsed


def time_floor(source, dest, cache_mode=None):
    """The issue's floor: a bare convert, qemu-img's defaults (its output
    cache mode is ``unsafe``: nothing is flushed to the disk); with
    ``cache_mode="none"``, the durable way (O_DIRECT)."""
    started = time.perf_counter()
    options = ["-t", cache_mode] if cache_mode else []
    subprocess.run(["qemu-img", "convert", *options, "-f", "qcow2", "-O", "raw", str(source),
                    str(dest)], check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    dest.unlink()
    return elapsed


def polling_target(services):
    """An empty 1 GB volume of the direct-URL service, for the polled floor."""
    response = services.session.post(f"{services.volume_url('direct')}/volumes",
                                      json={"volume": {"size": 1}}, timeout=60)
    response.raise_for_status()
    url = f"{services.volume_url('direct')}/volumes/{response.json()['volume']['id']}"
    _wait(lambda: services.session.get(url, timeout=30).json()["volume"]["status"]
          == "available", "the polled volume")
    return url


def time_curl_and_convert(services, image, workdir):
    part, dest = workdir / "bare.part", workdir / "bare.raw"
    started = time.perf_counter()
    subprocess.run(["curl", "-sf", "-H", "X-Auth-Token: admin:admin", "-o", str(part),
                    f"{services.image_url}/v2/images/{image['id']}/file"], check=True)
    # The service's own cache mode, so that this is its work minus its code.
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(part),
                    str(dest)], check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    part.unlink()
    dest.unlink()
    return elapsed


def phases_from_log(log):
    """Where the service's time went, from its own log (debug lines on):
    the download line (size and rate give its seconds) and the ``CMD ...
    returned: 0 in N s`` lines of each qemu-img command; means per run."""
    phases = {}
    for size, rate in re.findall(r"Image download ([\d.]+) MB at ([\d.]+) MB/s", log):
        phases.setdefault("download (+sha512)", []).append(float(size) / float(rate))
    for command, seconds in re.findall(r'CMD "qemu-img (info|convert|resize) [^"]*" '
                                       r"returned: 0 in ([\d.]+)s", log):
        phases.setdefault(f"qemu-img {command}", []).append(float(seconds))
    return {name: statistics.mean(values) for name, values in phases.items()}


def describe(label, seconds, virtual_bytes):
    median = statistics.median(seconds)
    return (f"  {label:<40} median {median:.3f} s  min {min(seconds):.3f}  "
            f"max {max(seconds):.3f}   {virtual_bytes / MiB / median:7.1f} MiB/s")


def time_to_active(admin, server_id, started):
    while True:
        server = admin.get_server(server_id)
        if server["status"] == "ACTIVE":
            return time.perf_counter() - started
        if server["status"] == "ERROR":
            raise RuntimeError(f"boot failed: {server.get('fault')}")
        time.sleep(0.01)


def time_boot(admin, image_id, from_volume):
    """POST → ACTIVE of one server, then deleted (with its volume)."""
    started = time.perf_counter()
    if from_volume:
        server = admin.create_server("bench-bfv", "", "42", block_device_mapping_v2=[{
            "boot_index": 0, "uuid": image_id, "source_type": "image",
            "destination_type": "volume", "volume_size": 1,
            "delete_on_termination": True}])
    else:
        server = admin.create_server("bench-image", image_id, "42")
    elapsed = time_to_active(admin, server["id"], started)
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"], timeout=120)
    return elapsed


def boot_case(runs):
    """Boot from an image-backed volume against the image boot, in one
    deployment (see the module's docstring)."""
    vhost = f"mininova-bench-volume-{os.getpid()}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest",
                    ".*", ".*", ".*"], check=True)
    WORK_ROOT.mkdir(mode=0o755, exist_ok=True)
    workdir = WORK_ROOT / f"volume-boot-{os.getpid()}"
    workdir.mkdir(mode=0o755)
    cloud = dep.Deployment(workdir, f"rabbit://guest:guest@127.0.0.1:5672/{vhost}",
                           f"sqlite:///{workdir}/mininova.sqlite")
    try:
        cloud.start()
        admin = cloud.client()
        image = dep.upload_tiny_image(admin)
        time_boot(admin, image["id"], from_volume=False)   # the _base file, cached
        from_image, from_volume = [], []
        for _ in range(runs):  # interleaved, so drift hits both alike
            from_image.append(time_boot(admin, image["id"], from_volume=False))
            from_volume.append(time_boot(admin, image["id"], from_volume=True))
    finally:
        cloud.stop()
        cloud.remove_leftover_domains()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"POST → ACTIVE of the tiny image's server, m1.nano, {runs} runs each")
    for label, times in (("boot from the image (_base cached)", from_image),
                         ("boot from an image-backed volume (1 GB)", from_volume)):
        print(f"  {label:<42} median {statistics.median(times):.3f} s  "
              f"min {min(times):.3f}  max {max(times):.3f}")
    print(f"  ratio image boot / volume boot = "
          f"{statistics.median(from_image) / statistics.median(from_volume):.2f}")


def measurements(services, image, size_gb, source, workdir, polled_url):
    """Each case's name and a call that measures it once."""
    floor = workdir / "floor.raw"

    def polled():
        # The bare convert while the client GETs a volume, as it does
        # while it waits for one (the session is idle meanwhile).
        with polling(lambda: services.session.get(polled_url, timeout=30), POLL_INTERVAL):
            return time_floor(source, floor)

    steps = [(case, lambda case=case: time_volume(services, case, image, size_gb))
             for case in Services.CASES]
    steps.append(("recorded", lambda: time_volume(services, "direct", image, size_gb,
                                                  QUIET_POLL_INTERVAL, recorded=True)))
    return steps + [("floor", lambda: time_floor(source, floor)),
                    ("durable", lambda: time_floor(source, floor, "none")),
                    ("curl", lambda: time_curl_and_convert(services, image, workdir)),
                    ("polled", polled)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--virtual-size", default="1G")
    parser.add_argument("--data", default="512M")
    parser.add_argument("--boot", action="store_true",
                        help="boot from volume against boot from image, POST → ACTIVE")
    args = parser.parse_args()
    if args.boot:
        boot_case(args.runs)
        return

    WORK_ROOT.mkdir(mode=0o755, exist_ok=True)
    workdir = WORK_ROOT / f"volume-{os.getpid()}"
    workdir.mkdir(mode=0o755)
    services = Services(workdir)
    try:
        services.start()
        image = upload(services, make_image(workdir, args.virtual_size, args.data))
        # Every floor converts the image service's own file, the one the
        # direct-URL volume reads: the same bytes, and the same history in
        # the page cache (this kernel's DAMON pages out what has not been
        # read for about a minute, and a copy read three times a run stays
        # warmer than a file read once).
        source = Path(urllib.parse.urlparse(image["direct_url"]).path)
        virtual_bytes = image["virtual_size"]
        size_gb = max(1, -(-virtual_bytes // (1024 ** 3)))
        polled_url = polling_target(services)
        steps = measurements(services, image, size_gb, source, workdir, polled_url)
        times = {name: [] for name, _ in steps}
        for run in range(args.runs):
            # Interleaved, so that drift hits all alike, and each run in
            # another order, so that what one case leaves the disk to do
            # (the discards of its deleted files; the HTTP case leaves three
            # times as much as the others) does not always fall on the same
            # next one. (A rotation, used until 1 Dec 2026, kept every case
            # after the same one: the direct-URL volume always came after
            # the HTTP one; measured apart, it made no difference, 163 vs.
            # 165 ms.)
            order = list(steps)
            random.Random(run).shuffle(order)
            for name, measure in order:
                settle()
                times[name].append(measure())
        phases = {case: phases_from_log(services.log(case)) for case in Services.CASES}
    finally:
        services.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report(args, image, virtual_bytes, times, phases)


def report(args, image, virtual_bytes, times, phases):
    print(f"image → volume, qcow2 of {args.virtual_size} virtual with {args.data} of data "
          f"({image['size'] / MiB:.0f} MiB file), {args.runs} runs each")
    for name, label in (("http", "mininova-volume, HTTP download"),
                        ("direct", "mininova-volume, direct URL (file://)"),
                        ("recorded", "direct URL, its record, quiet client"),
                        ("floor", "floor qemu-img convert"),
                        ("durable", "floor -t none (durable, O_DIRECT)"),
                        ("curl", "reference curl -o + convert"),
                        ("polled", f"floor, client polling every "
                                   f"{POLL_INTERVAL * 1000:.0f} ms")):
        print(describe(label, times[name], virtual_bytes))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"  the client's polls make the bare convert "
          f"{median['polled'] / median['floor']:.2f} times as long")
    for case in Services.CASES:
        print(f"  {case}: throughput ratio mininova-volume/floor = "
              f"{median['floor'] / median[case]:.2f} (target >= 0.8), "
              f"/durable floor = {median['durable'] / median[case]:.2f}, "
              f"/(curl + convert) = {median['curl'] / median[case]:.2f}, "
              f"/polled floor = {median['polled'] / median[case]:.2f}")
        print("    where the service's time went (mean per run): " + ", ".join(
            f"{name} {seconds:.3f} s" for name, seconds in phases[case].items()))
    print(f"  direct, timed by its record (client polling every "
          f"{QUIET_POLL_INTERVAL * 1000:.0f} ms): throughput ratio mininova-volume/floor = "
          f"{median['floor'] / median['recorded']:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
