#!/usr/bin/env python3
"""How fast does mininova turn an image into a base file on a first boot?

Measured in one run, on this machine, on the same qcow2 image (256 MiB
virtual, 200 MiB of data written with qemu-io, made here in a temporary
directory and removed at the end):

* **mininova**: ``mininova.virt.images.fetch_to_raw`` called directly in
  this process against the running image service of a real deployment:
  streamed download into ``<base>.part`` with its hash (sha512) computed
  beside it, the format inspector, ``qemu-img info`` under its resource
  limits, ``qemu-img convert`` into ``.converted`` with the cache mode the
  libvirt driver would use on this filesystem (these three while the hash
  catches up), the wait for the hash's verdict, and the rename. The direct call times the image
  preparation alone; a boot adds the API → conductor → compute path, the
  overlay and the guest's start, which bench/boot_overhead measures;
* **floor**: a bare ``qemu-img convert -f qcow2 -O raw`` of the same file,
  already on local disk (what any tool must do at least);
* and, for reference, a bare download of the same image from the same image
  service (``curl -o``) followed by the very ``qemu-img convert`` mininova
  runs: what any tool must do when the image is not on the host yet.

One round of the three is made first and not counted (a compute has
talked to the image service before its first download; this process has
not); the runs are then interleaved, each starting one step further on, a
``sync`` before each step.

Throughput is the raw bytes made (the virtual size) per second; it prints
the medians, the ratio to curl + convert (issue 16's target: >= 0.85) and
to the bare convert, where mininova's time went (the transfer, qemu-img's
two steps, and how long the hash still kept it waiting after them),
and, from real boots of the tiny image through the deployment (POST →
ACTIVE, as boot_overhead), the cached/uncached boot time ratio. Nothing is
asserted: numbers depend on the machine; the ratios are what to watch.

    sudo .venv/bin/python bench/image_prep.py [--runs 5] [--hashing-algorithm sha256]

Needs what the integration tests need (bin/run-tests prepares it all), and
about 1 GiB free under /var/tmp.
"""

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spread import describe_ratio  # noqa: E402  (beside this script)

from bench.boot_overhead import WORK_ROOT, make_vhost, time_mininova_boot  # noqa: E402
from mininova import context as mn_context  # noqa: E402
from mininova.conf import CONF  # noqa: E402
from mininova.image import glance, streaming  # noqa: E402
from mininova.virt import images  # noqa: E402
from mininova.virt.libvirt import utils as libvirt_utils  # noqa: E402
from tests.integration import deployment as dep  # noqa: E402

MiB = 1024 * 1024
VIRTUAL_SIZE = "256M"
DATA = "200M"


def make_image(workdir):
    path = workdir / "big.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(path), VIRTUAL_SIZE],
                   check=True, capture_output=True)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -P 0xab 0 {DATA}", str(path)],
                   check=True, capture_output=True)
    return path


class PhaseTimer:
    """Adds up the time spent in the named functions while attached."""

    def __init__(self):
        self.seconds = {}

    @contextlib.contextmanager
    def timing(self, owner, name, label):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + (
                    time.perf_counter() - started)
        setattr(owner, name, timed)
        try:
            yield
        finally:
            setattr(owner, name, original)


def time_fetch_to_raw(context, image, dest, cache_mode, phases):
    with phases.timing(streaming, "copy_to_file", "transfer"), \
            phases.timing(images, "qemu_img_info", "qemu-img info"), \
            phases.timing(images, "_convert_to_raw", "qemu-img convert"), \
            phases.timing(streaming.FileHasher, "hexdigests", "the hash's wait after them"):
        started = time.perf_counter()
        images.fetch_to_raw(context, image, str(dest), cache_mode)
        elapsed = time.perf_counter() - started
    size = dest.stat().st_size
    dest.unlink()
    return elapsed, size


def time_bare_convert(source, dest):
    started = time.perf_counter()
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(source), str(dest)],
                   check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    size = dest.stat().st_size
    dest.unlink()
    return elapsed, size


def time_bare_download_and_convert(url, workdir, cache_mode):
    part, dest = workdir / "bare.part", workdir / "bare.raw"
    started = time.perf_counter()
    subprocess.run(["curl", "-sf", "-H", "X-Auth-Token: admin:admin", "-o", str(part), url],
                   check=True)
    subprocess.run(["qemu-img", "convert", "-t", cache_mode, "-O", "raw", "-f", "qcow2",
                    str(part), str(dest)], check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    size = dest.stat().st_size
    part.unlink()
    dest.unlink()
    return elapsed, size


def measure_preparation(cloud, admin, workdir, runs):
    source = make_image(workdir)
    image_id = admin.create_image("big", str(source), "qcow2")["id"]
    CONF([], project="mininova", default_config_files=[])
    CONF.set_override("api_servers", [f"http://127.0.0.1:{cloud.image_port}"], "glance")
    context = mn_context.get_admin_context()
    image = glance.API().show(context, image_id)
    base_dir = workdir / "_base"
    base_dir.mkdir()
    # The cache mode the libvirt driver picks for this filesystem.
    cache_mode = "none" if libvirt_utils.supports_direct_io(str(base_dir)) else "writethrough"
    url = f"http://127.0.0.1:{cloud.image_port}/v2/images/{image_id}/file"
    phases = PhaseTimer()
    steps = {"mininova": lambda run: time_fetch_to_raw(
                 context, image, base_dir / f"base-{run}", cache_mode, phases),
             "floor": lambda run: time_bare_convert(source, workdir / "floor.raw"),
             "bare": lambda run: time_bare_download_and_convert(url, workdir, cache_mode)}
    # One round not counted: a compute has talked to the image service
    # before its first download (its session and connection are made, its
    # code imported); this process has not.
    for measure in steps.values():
        measure("warm-up")
    phases.seconds.clear()
    times = {name: [] for name in steps}
    order = list(steps)
    for run in range(runs):
        # Interleaved, so that drift hits all alike, and each run starts one
        # step further on, so that each comes after each other as often:
        # the files the previous step deleted (their discards) and its dirty
        # pages slow whichever comes next.
        shift = run % len(order)
        for name in order[shift:] + order[:shift]:
            os.sync()
            times[name].append(steps[name](run))
    admin.delete_image(image_id)
    source.unlink()
    return (times["mininova"], times["floor"], times["bare"], cache_mode,
            {k: v / runs for k, v in phases.seconds.items()})


def measure_boots(admin, runs):
    """(uncached, cached) POST → ACTIVE of the tiny image: each run uploads a
    new copy (a new image id, so a new base file), boots it, boots it again."""
    uncached, cached = [], []
    for index in range(runs):
        image = dep.upload_tiny_image(admin, f"tiny-{index}")
        uncached.append(time_mininova_boot(admin, image["id"], []))
        cached.append(time_mininova_boot(admin, image["id"], []))
    return uncached, cached


def describe(label, timings):
    seconds = [t for t, _size in timings]
    rate = timings[0][1] / MiB / statistics.median(seconds)
    return (f"  {label:<36} median {statistics.median(seconds):.3f} s  "
            f"min {min(seconds):.3f}  max {max(seconds):.3f}   {rate:7.1f} MiB/s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hashing-algorithm", default="sha512",
                        help="mininova-image's [image_service] hashing_algorithm: the "
                             "hash the download is checked against (Glance's default, "
                             "sha512, unless told)")
    args = parser.parse_args()

    WORK_ROOT.mkdir(mode=0o755, exist_ok=True)
    workdir = WORK_ROOT / f"image-prep-{os.getpid()}"
    workdir.mkdir(mode=0o755)
    vhost = make_vhost()
    cloud = dep.Deployment(workdir / "cloud", f"rabbit://guest:guest@127.0.0.1:5672/{vhost}",
                           f"sqlite:///{workdir}/mininova.sqlite", config={
                               "image_service": {"hashing_algorithm": args.hashing_algorithm}})
    try:
        cloud.start()
        admin = cloud.client()
        mininova, floor, bare, cache_mode, phases = measure_preparation(
            cloud, admin, workdir, args.runs)
        uncached, cached = measure_boots(admin, args.runs)
    finally:
        cloud.stop()
        cloud.remove_leftover_domains()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        shutil.rmtree(workdir, ignore_errors=True)

    m = statistics.median(t for t, _ in mininova)
    f = statistics.median(t for t, _ in floor)
    print(f"first-boot image preparation, {VIRTUAL_SIZE} qcow2 with {DATA} of data, "
          f"{args.hashing_algorithm} checked, {args.runs} runs each")
    print(describe(f"mininova fetch_to_raw (-t {cache_mode})", mininova))
    print(describe("floor qemu-img convert", floor))
    print(describe(f"reference curl -o + convert -t {cache_mode}", bare))
    # Throughput is the inverse of time: curl + convert's time over mininova's.
    ratio = describe_ratio([t for t, _ in bare], [t for t, _ in mininova])
    print(f"  throughput ratio mininova/(curl + convert) = {ratio}   (target >= 0.85)")
    print(f"  throughput ratio mininova/floor = {f / m:.2f}")
    print("  where mininova's time went (mean per run): " + ", ".join(
        f"{name} {seconds:.3f} s" for name, seconds in phases.items()))
    u, c = statistics.median(uncached), statistics.median(cached)
    print(f"boot of the tiny image, POST→ACTIVE, {args.runs} runs each (seconds)")
    print(f"  uncached (download + convert)  median {u:.3f}  min {min(uncached):.3f}  "
          f"max {max(uncached):.3f}")
    print(f"  cached                         median {c:.3f}  min {min(cached):.3f}  "
          f"max {max(cached):.3f}")
    print(f"  ratio cached/uncached = {c / u:.2f}   (first boot +{u - c:.3f} s)")


if __name__ == "__main__":
    main()
