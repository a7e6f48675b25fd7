#!/usr/bin/env python3
"""The control plane with 1000 compute services: what does it cost?

Starts a deployment as in the integration tests (image, volume, conductor,
scheduler, api and one compute, each its own process over the machine's
RabbitMQ in a vhost of the bench's own, SQLite; the fake virt driver), with
Nova's default ``report_interval`` (10 s) and ``service_down_time`` (60 s),
then ``--computes`` more fake-driver compute services in ``--processes``
worker processes (many ``mininova-compute`` services per process, each
with its own RPC server, heartbeat and periodic tasks, as ``Service``
builds them; they share their process's reply queue and publishing pool).

Once every service has reported, for ``--seconds``:

* the conductor's and the scheduler's CPU share (``/proc/<pid>/stat``
  utime + stime over the window, as a share of one CPU), and the workers';
* the heartbeat age: at every sample, now − ``last_seen_up`` of each
  compute service (stamped by the conductor when it writes the beat). A
  beat every 10 s gives ages of 0-10 s; what is above that is lag
  (messages waiting in the conductor's queue, the database);
* services down (no beat for ``service_down_time``): should be 0;
* broker connections of the vhost (``rabbitmqctl list_connections``), and
  per process (``ss``: who holds each connection to 5672).

Then one boot through the API (the tiny image, m1.nano): POST → ACTIVE,
scheduled among all the hosts.

Printed, not asserted.

    .venv/bin/python bench/control_plane_scale.py [--computes 1000] [--processes 4] [--seconds 120]
"""

import argparse
import collections
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration import deployment as dep  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
WORKER_ENV = "MININOVA_BENCH_WORKER"  # "first:count": this process is a worker


# --- a worker: many compute services in one process --------------------------------

def worker_main(config_file, first, count, prefix):
    """Run ``count`` fake compute services until SIGTERM."""
    from mininova import config, rpc, service
    from mininova.cmd import compute

    config.parse_args([sys.argv[0], "--config-file", config_file])
    config.setup_logging(f"bench-computes-{first}")
    hosts = [f"{prefix}-{index:05d}" for index in range(first, first + count)]
    # Started a few at a time: each start is a handful of conductor calls.
    with futures.ThreadPoolExecutor(8) as pool:
        services = list(pool.map(lambda host: _started(compute, host), hosts))
    print(f"started {len(services)} compute services", flush=True)
    service.wait_for_signal(services)
    rpc.cleanup()


def _started(compute, host):
    server = compute.build_service(host=host, compute_driver="fake.FakeDriver")
    server.start()
    return server


# --- measuring -------------------------------------------------------------------

def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def heartbeat_ages(database, prefix):
    """now − last_seen_up of each bench compute service, in seconds."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute("SELECT last_seen_up FROM services WHERE binary = "
                            "'mininova-compute' AND host LIKE ?", (f"{prefix}-%",)).fetchall()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return [(now - datetime.fromisoformat(seen)).total_seconds() for (seen,) in rows if seen]


def connections_of_vhost(vhost):
    out = subprocess.run(["rabbitmqctl", "-q", "list_connections", "vhost"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return sum(1 for line in out.splitlines() if line.strip() == vhost)


def connections_by_pid():
    """{pid: number of TCP connections to 127.0.0.1:5672}."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", "dst", "127.0.0.1:5672"],
                         capture_output=True, text=True, timeout=60).stdout
    counts = collections.Counter()
    for line in out.splitlines():
        for part in line.split("pid=")[1:]:
            counts[int(part.split(",")[0])] += 1
    return counts


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def wait_for_reports(database, prefix, count, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ages = heartbeat_ages(database, prefix)
        if len(ages) >= count:
            return
        print(f"  {len(ages)}/{count} compute services registered", flush=True)
        time.sleep(10)
    raise SystemExit(f"only {len(heartbeat_ages(database, prefix))} of {count} compute "
                     f"services registered in {timeout} s")


def measure(cloud, database, prefix, workers, seconds):
    pids = {"conductor": cloud.processes["mininova-conductor"].pid,
            "scheduler": cloud.processes["mininova-scheduler"].pid}
    pids.update({f"worker {index}": worker.pid for index, worker in enumerate(workers)})
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    ages, down, samples = [], 0, 0
    while time.monotonic() - started < seconds:
        time.sleep(5)
        sample = heartbeat_ages(database, prefix)
        ages += sample
        down = max(down, sum(1 for age in sample if age > 60))
        samples += 1
    wall = time.monotonic() - started
    shares = {name: (cpu_seconds(pid) - before[name]) / wall for name, pid in pids.items()}
    return shares, ages, down, samples, wall


def boot_one(cloud):
    client = cloud.client()
    image = dep.upload_tiny_image(client)
    started = time.monotonic()
    server = client.create_server("scale-boot", image["id"], "42")  # m1.nano
    dep.wait_for_status(client, server["id"], "ACTIVE", timeout=300)
    elapsed = time.monotonic() - started
    host = client.get_server(server["id"])["OS-EXT-SRV-ATTR:host"]
    client.delete_server(server["id"])
    return elapsed, host


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--computes", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mininova-bench-scale-"))
    vhost = f"mininova-bench-scale-{os.getpid()}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest",
                    ".*", ".*", ".*"], check=True)
    database = workdir / "mininova.sqlite"
    cloud = dep.Deployment(workdir, f"rabbit://guest:guest@127.0.0.1:5672/{vhost}",
                           f"sqlite:///{database}", compute_driver="fake.FakeDriver",
                           config={"DEFAULT": {"report_interval": "10",
                                               "service_down_time": "60",
                                               "debug": "False"}})
    prefix = f"{cloud.host}-fake"
    workers = []
    try:
        cloud.start()
        per_process = -(-args.computes // args.processes)
        for first in range(0, args.computes, per_process):
            count = min(per_process, args.computes - first)
            out = open(cloud.log_dir / f"bench-computes-{first}.stdout", "ab")
            workers.append(subprocess.Popen(
                [sys.executable, __file__], stdout=out, stderr=subprocess.STDOUT,
                env=dict(os.environ, **{WORKER_ENV: f"{cloud.compute_conf}:{first}:{count}:"
                                                    f"{prefix}"}),
                start_new_session=True))
        print(f"starting {args.computes} fake compute services in {len(workers)} processes "
              f"(vhost {vhost}, logs in {cloud.log_dir})", flush=True)
        started = time.monotonic()
        wait_for_reports(database, prefix, args.computes, timeout=1800)
        print(f"  all registered in {time.monotonic() - started:.0f} s; one report interval "
              f"more before measuring", flush=True)
        time.sleep(15)
        shares, ages, down, samples, wall = measure(cloud, database, prefix, workers,
                                                    args.seconds)
        vhost_connections = connections_of_vhost(vhost)
        per_pid = connections_by_pid()
        single = per_pid.get(cloud.processes["mininova-compute"].pid, 0)
        controllers = {name: per_pid.get(cloud.processes[f"mininova-{name}"].pid, 0)
                       for name in ("conductor", "scheduler", "api")}
        boot, host = boot_one(cloud)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=120)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        cloud.stop()
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        shutil.rmtree(workdir, ignore_errors=True)

    computes = args.computes + 1
    print(f"{computes} compute services (fake driver, report_interval 10 s), measured "
          f"{wall:.0f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for name in ("conductor", "scheduler"):
        print(f"  {name:9s} CPU: {shares[name] * 100:5.1f} % of one CPU")
    worker_share = sum(share for name, share in shares.items() if name.startswith("worker"))
    print(f"  workers   CPU: {worker_share * 100:5.1f} % of one CPU ({len(workers)} processes, "
          f"{args.computes} services)")
    print(f"  heartbeat age ({samples} samples × {args.computes} services): "
          f"p50 {statistics.median(ages):.1f} s, p99 {percentile(ages, 0.99):.1f} s, "
          f"max {max(ages):.1f} s (a beat every 10 s: above 10 s is lag); "
          f"lag ≈ {max(0.0, percentile(ages, 0.99) - 10):.1f} s at p99")
    print(f"  services down at any sample: {down}")
    worker_pids = {worker.pid for worker in workers}
    worker_connections = sum(per_pid[pid] for pid in worker_pids)
    print(f"  broker connections of the vhost: {vhost_connections} "
          f"(workers: {worker_connections} for {args.computes} services = "
          f"{worker_connections / args.computes:.3f} per service; the deployment's own "
          f"mininova-compute process: {single}; "
          f"{', '.join(f'{name} {count}' for name, count in controllers.items())})")
    print(f"  one boot among {computes} hosts: POST → ACTIVE {boot:.2f} s (on {host})")


if __name__ == "__main__":
    if os.environ.get(WORKER_ENV):
        conf, first, count, prefix = os.environ[WORKER_ENV].split(":")
        worker_main(conf, int(first), int(count), prefix)
    else:
        main()
