#!/usr/bin/env python3
"""mininova side by side with Rally: ``NovaServers.boot_and_delete_server``.

Rally (``rally`` and ``rally-openstack``, in ``.venv-rally``, pinned in
bin/lib/rally-requirements.txt) is what an operator would point at a real
Nova to measure it. This script points it at mininova, in one run:

* a mininova deployment behind the real Keystone, each service its own
  process over RabbitMQ (its own vhost), the tiny image uploaded (public)
  and once booted, so that it is in ``_base`` (the first boot's download is
  bench/image_prep's business);
* Rally, with its own database in a temporary directory, given the cloud as
  an "existing" OpenStack platform (Keystone's admin credentials); its
  ``users`` context makes a project and a user for the run, as on any cloud;
* the task ``NovaServers.boot_and_delete_server`` (``flavor: {name: m1.nano}``,
  ``image: {name: tiny}``) at concurrency 1 and 4, first with Rally's own
  polling settings, then with short ones;
* mininova's own measurement of the same sequence at the same concurrency:
  a token, POST /servers, GET until ACTIVE, DELETE, GET until 404, polled
  every 10 ms with mininova's client.

It prints, for each: the median, p90 and max of an iteration's duration and
the success rate, Rally's atomic actions (``nova.boot_server``,
``nova.delete_server``) and the reference of a real Nova on hardware (Rally's
published 5.1 s median at concurrency 4). Rally's boot and delete are
quantised by its polling: it sleeps ``nova_server_boot_prepoll_delay``
(1 s) after the POST, then GETs every ``nova_server_boot_poll_interval``
(2 s); after the DELETE it GETs every ``nova_server_delete_poll_interval``
(2 s). Rally leaves the prepoll sleep out of an iteration's duration (its
"idle duration") but keeps it in ``nova.boot_server``. Nothing is asserted.

    sudo .venv/bin/python bench/rally_boot_and_delete.py [--times 10 20] [--no-short-polls]
                         [--own-broker] [--keep-logs DIR]

Keystone keeps its data in a PostgreSQL database of the run's own
(``MININOVA_TEST_POSTGRES_URL``, as the integration tests): on SQLite, four
concurrent logins now and then get a 500 ("database is locked").

Everything it starts (Keystone and its database, the services, Rally's database, the vhost
or with ``--own-broker`` the RabbitMQ node, the domains) is stopped and
removed at the end, also on failure, Ctrl-C or SIGTERM. Needs what the
integration tests need (bin/run-tests prepares it).
"""

import argparse
import concurrent.futures
import contextlib
import datetime
import io
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from mininova.cli.client import ClientException  # noqa: E402
from tests.integration import deployment as dep  # noqa: E402
from tests.integration import keystone as keystone_fixture  # noqa: E402
from tests.integration.private_rabbit import PrivateRabbit  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RALLY_VENV = REPO / ".venv-rally"
RALLY = RALLY_VENV / "bin" / "rally"
RALLY_REQUIREMENTS = REPO / "bin" / "lib" / "rally-requirements.txt"
WORK_ROOT = Path("/var/tmp/mininova-bench")
CONCURRENCIES = (1, 4)
# Rally's published run of this scenario against a real Nova on hardware.
REFERENCE_MEDIAN_C4 = 5.1
# Rally's own defaults (rally_openstack/common/cfg/nova.py), for the floor.
RALLY_DEFAULT_POLLS = {"nova_server_boot_prepoll_delay": 1.0,
                       "nova_server_boot_poll_interval": 2.0,
                       "nova_server_delete_poll_interval": 2.0}
SHORT_POLLS = {"nova_server_boot_prepoll_delay": 0.0,
               "nova_server_boot_poll_interval": 0.1,
               "nova_server_delete_poll_interval": 0.1}
# mininova's own loop polls this often: well under a boot, so it measures
# the cloud, not the poll.
OWN_POLL = 0.01


# --- Rally's virtualenv ------------------------------------------------------------


def ensure_rally_venv():
    """``.venv-rally`` with the pinned Rally, (re)installed only when the
    requirements changed since the last install (as .venv-keystone)."""
    stamp = RALLY_VENV / ".installed"
    if stamp.exists() and stamp.stat().st_mtime >= RALLY_REQUIREMENTS.stat().st_mtime:
        return
    print(f"Installing Rally in {RALLY_VENV} (bin/lib/rally-requirements.txt)", flush=True)
    if not (RALLY_VENV / "bin" / "python").exists():
        subprocess.run(["python3", "-m", "venv",
                        str(RALLY_VENV)], check=True)
    subprocess.run([str(RALLY_VENV / "bin" / "pip"), "install", "-q", "-r",
                    str(RALLY_REQUIREMENTS)], check=True)
    stamp.touch()


# --- Rally -------------------------------------------------------------------------


class Rally:
    """The ``rally`` command with a database and configuration of its own,
    in ``directory`` (removed by the caller)."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True)
        self.database = f"sqlite:///{self.dir / 'rally.sqlite'}"
        self.process = None

    def config(self, name, polls):
        """A configuration file: the database, the log and ``polls`` (the
        [openstack] options) over Rally's defaults."""
        path = self.dir / f"{name}.conf"
        lines = ["[DEFAULT]", f"log_file = {self.dir / 'rally.log'}", "debug = True",
                 "[database]", f"connection = {self.database}", "[openstack]"]
        lines += [f"{option} = {value}" for option, value in polls.items()]
        path.write_text("\n".join(lines) + "\n")
        return path

    def run(self, config, *args, timeout=1800, ok_codes=(0,)):
        """One ``rally`` command in its own session, so that it can be
        ended with everything it started if this script is interrupted."""
        env = dict(os.environ, HOME=str(self.dir))  # ~/.rally/globals
        self.process = subprocess.Popen(
            [str(RALLY), "--config-file", str(config), *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True, env=env)
        try:
            output, _ = self.process.communicate(timeout=timeout)
        finally:
            self.kill()
        if self.process.returncode not in ok_codes:
            raise SystemExit(f"rally {' '.join(map(str, args))} failed "
                             f"({self.process.returncode}):\n{output[-4000:]}")
        return output

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()


def platform_spec(keystone):
    """Rally's "existing" OpenStack platform: Keystone and its admin."""
    admin = keystone.credentials("admin")
    return {"openstack": {
        "auth_url": keystone.auth_url, "region_name": keystone_fixture.REGION,
        "endpoint_type": "public", "https_insecure": False,
        "admin": {"username": admin["username"], "password": admin["password"],
                  "project_name": admin["project_name"], "user_domain_name": "Default",
                  "project_domain_name": "Default"}}}


def task_file(path, times, concurrency):
    """Rally's task format v2: the scenario, a constant runner, one project
    with one user made for the run (Rally's ``users`` context)."""
    task = {"version": 2, "title": f"boot_and_delete_server x{times} c{concurrency}",
            "subtasks": [{
                "title": "NovaServers.boot_and_delete_server",
                "workloads": [{
                    "scenario": {"NovaServers.boot_and_delete_server": {
                        "flavor": {"name": "m1.nano"}, "image": {"name": "tiny"}}},
                    "runner": {"constant": {"times": times, "concurrency": concurrency}},
                    "contexts": {"users": {"tenants": 1, "users_per_tenant": 1}},
                }]}]}
    path.write_text(json.dumps(task, indent=2))
    return path


def run_rally_task(rally, config, times, concurrency, label):
    """Start the task, then read its results from ``rally task report
    --json``: the workload's iterations."""
    task = task_file(rally.dir / f"task-{label}.json", times, concurrency)
    # 2: the task ran but its SLA (no failed iteration) did not hold; the
    # failures are in the results, and counted in the success rate.
    rally.run(config, "task", "start", task, "--env", "mininova", "--tag", label,
              ok_codes=(0, 2))
    report = rally.dir / f"report-{label}.json"
    rally.run(config, "task", "report", "--json", "--out", report)
    [task_result] = json.loads(report.read_text())["tasks"]
    [subtask] = task_result["subtasks"]
    [workload] = subtask["workloads"]
    return workload["data"]


def atomic(iteration, name):
    return sum(a["finished_at"] - a["started_at"] for a in iteration["atomic_actions"]
               if a["name"] == name and a.get("finished_at"))


# --- mininova's own measurement ------------------------------------------------------


def own_iteration(cloud, keystone, image_id, index):
    """The scenario's sequence, each step timed: a token for the user,
    POST /servers → ACTIVE, DELETE → 404. Returns the step times, or the
    error as a string."""
    steps = {}
    started = time.perf_counter()
    try:
        client = cloud.client(token=keystone.token("demo"))
        steps["token"] = time.perf_counter() - started
        posted = time.perf_counter()
        server = client.create_server(f"own-{index}", image_id, "42")
        while (status := client.get_server(server["id"])["status"]) != "ACTIVE":
            if status == "ERROR":
                raise RuntimeError(f"server {server['id']} went to ERROR")
            time.sleep(OWN_POLL)
        steps["boot"] = time.perf_counter() - posted
        deleted = time.perf_counter()
        client.delete_server(server["id"])
        while True:
            try:
                client.get_server(server["id"])
            except ClientException as exc:
                if exc.code == 404:
                    break
                raise
            time.sleep(OWN_POLL)
        steps["delete"] = time.perf_counter() - deleted
    except Exception as exc:  # noqa: BLE001 - an iteration's failure is a result
        return {"error": f"{type(exc).__name__}: {exc}"}
    steps["duration"] = time.perf_counter() - started
    return steps


def run_own(cloud, keystone, image_id, times, concurrency):
    """``times`` iterations, ``concurrency`` at a time, as Rally's constant
    runner does. Interrupted (Ctrl-C, SIGTERM), the threads stop after the
    iteration they are in, so that the clean-up finds no build under way."""
    counter = iter(range(times))
    lock = threading.Lock()
    stopping = threading.Event()

    def worker():
        results = []
        while not stopping.is_set():
            with lock:
                index = next(counter, None)
            if index is None:
                break
            results.append(own_iteration(cloud, keystone, image_id, index))
        return results

    pool = concurrent.futures.ThreadPoolExecutor(concurrency)
    try:
        futures = [pool.submit(worker) for _ in range(concurrency)]
        return [result for future in futures for result in future.result()]
    except BaseException:
        stopping.set()
        raise
    finally:
        pool.shutdown(wait=True)


# --- the figures ------------------------------------------------------------------


def percentile(values, fraction):
    """Nearest-rank percentile (Rally's reports use the same kind)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(values):
    if not values:
        return "       no successful iteration"
    return (f"median {statistics.median(values):6.2f}  p90 {percentile(values, 0.9):6.2f}"
            f"  max {max(values):6.2f}")


def print_rally(label, iterations):
    ok = [i for i in iterations if not i["error"]]
    rate = 100.0 * len(ok) / len(iterations)
    print(f"  {label:<40} {summary([i['duration'] for i in ok])}  success {rate:5.1f}%")
    for name in ("nova.boot_server", "nova.delete_server"):
        print(f"    {name:<38} {summary([atomic(i, name) for i in ok])}")
    print(f"    {'idle (prepoll sleep, not in duration)':<38} "
          f"{summary([i['idle_duration'] for i in ok])}")
    for failed in [i for i in iterations if i["error"]][:3]:
        print(f"    error: {failed['error'][:2]}")


def print_own(label, iterations):
    ok = [i for i in iterations if "error" not in i]
    rate = 100.0 * len(ok) / len(iterations)
    print(f"  {label:<40} {summary([i['duration'] for i in ok])}  success {rate:5.1f}%")
    for step, name in (("token", "token (Keystone password auth)"),
                       ("boot", "POST → ACTIVE"), ("delete", "DELETE → 404")):
        print(f"    {name:<38} {summary([i[step] for i in ok])}")
    for failed in [i for i in iterations if "error" in i][:3]:
        print(f"    error: {failed['error']}")


def print_floor(polls, own):
    """What Rally's polling alone makes an iteration last, given how long
    mininova takes: the boot is seen at the first GET after it is ACTIVE
    (the prepoll sleep itself is idle time), the delete at the first GET
    after the row is gone, and the DELETE is never gone at the GET that
    follows it at once."""
    ok = [i for i in own if "error" not in i]
    if not ok:
        return
    boot, delete = (statistics.median(i[s] for i in ok) for s in ("boot", "delete"))
    prepoll = polls["nova_server_boot_prepoll_delay"]
    boot_polls = math.ceil(max(0.0, boot - prepoll) / polls["nova_server_boot_poll_interval"])
    delete_polls = max(1, math.ceil(delete / polls["nova_server_delete_poll_interval"]))
    seen = (boot_polls * polls["nova_server_boot_poll_interval"]
            + delete_polls * polls["nova_server_delete_poll_interval"])
    print(f"    Rally's polls round mininova's medians (boot {boot:.2f} s, delete "
          f"{delete:.2f} s) up to {boot_polls} boot poll interval(s) after the "
          f"{prepoll:g} s prepoll sleep + {delete_polls} delete poll interval(s) = "
          f"{seen:.2f} s of the duration")


# --- where an iteration's time goes -----------------------------------------------

LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) ")
SERVER_LOCATION = re.compile(r"Location: \S*/servers/([0-9a-f-]{36})")
# The steps of one iteration, in order, each from the moment the previous ended.
TIMELINE_STEPS = (
    ("client", "token and client (Rally: Keystone auth, catalog)"),
    ("post", "POST /servers until its 202"),
    ("build", "202 until ACTIVE in the cloud (compute's log)"),
    ("boot_poll", "ACTIVE until Rally's GET sees it"),
    ("delete", "DELETE until its 204"),
    ("teardown", "204 until gone in the cloud (compute's log)"),
    ("delete_poll", "gone until Rally's GET gets its 404"),
)


def log_lines(path):
    """(epoch seconds, line) for each line of an oslo.log file; the
    timestamps are local time, as time.time() is read against."""
    for line in path.read_text(errors="replace").splitlines():
        match = LOG_TIME.match(line)
        if match:
            stamp = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f")
            yield stamp.timestamp(), line


def iteration_timeline(iteration, rally_lines, compute_lines):
    """One concurrency-1 iteration cut into TIMELINE_STEPS, from Rally's
    atomic actions, the requests novaclient logged in Rally's log while it
    ran, and the compute's log lines for the server (build done; last line,
    the instance's lock released once its row is deleted)."""
    boot, delete = (next(a for a in iteration["atomic_actions"] if a["name"] == name)
                    for name in ("nova.boot_server", "nova.delete_server"))
    mine = [(t, line) for t, line in rally_lines
            if boot["started_at"] <= t <= delete["finished_at"]]
    post_sent = next(t for t, line in mine if "-X POST" in line and "/servers " in line)
    accepted, server_id = next((t, SERVER_LOCATION.search(line).group(1)) for t, line in mine
                               if "RESP: [202]" in line and SERVER_LOCATION.search(line))
    delete_sent = next(t for t, line in mine if "-X DELETE" in line)
    deleted = next(t for t, line in mine if t >= delete_sent and "RESP: [204]" in line)
    about = [(t, line) for t, line in compute_lines if f"{server_id}" in line]
    built = next(t for t, line in about if "to build instance" in line)
    gone = max(t for t, _line in about)
    return {"client": post_sent - boot["started_at"], "post": accepted - post_sent,
            "build": built - accepted, "boot_poll": boot["finished_at"] - built,
            "delete": deleted - delete_sent, "teardown": gone - deleted,
            "delete_poll": delete["finished_at"] - gone}


def print_timeline(label, iterations, rally_log, compute_log):
    rally_lines, compute_lines = list(log_lines(rally_log)), list(log_lines(compute_log))
    timelines = []
    for iteration in iterations:
        if iteration["error"]:
            continue
        try:
            timelines.append(iteration_timeline(iteration, rally_lines, compute_lines))
        except StopIteration:
            pass  # a line missing from a log: that iteration is left out
    print(f"  where one iteration's time goes, {label} "
          f"(medians of {len(timelines)} iterations at concurrency 1, seconds)")
    for step, name in TIMELINE_STEPS:
        values = [t[step] for t in timelines]
        if values:
            print(f"    {name:<52} {statistics.median(values):6.2f}")


# --- the run ---------------------------------------------------------------------

POSTGRES_ADMIN_URL = dep.env_or("MININOVA_TEST_POSTGRES_URL",
                                "postgresql+psycopg2://postgres@127.0.0.1/postgres")


class KeystoneDatabase:
    """A PostgreSQL database for the run's Keystone, dropped at the end:
    Keystone writes at each password login, and on SQLite four concurrent
    logins get "database is locked" (a 500) now and then."""

    def __init__(self):
        self.name = f"mininova_rally_{os.getpid()}"
        self.engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(
            database=self.name).render_as_string(hide_password=False)

    def drop(self):
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()"))
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        self.engine.dispose()



def make_vhost():
    vhost = f"mininova-rally-{os.getpid()}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest",
                    ".*", ".*", ".*"], check=True)
    return vhost


def start_cloud(workdir, transport_url, keystone):
    cloud = dep.Deployment(workdir / "cloud", transport_url,
                           f"sqlite:///{workdir}/cloud.sqlite",
                           config=keystone.service_config(),
                           admin_token=lambda: keystone.token("admin"))
    return cloud


def warm_up(cloud):
    """The tiny image, public (Rally's user is in a project of its own),
    booted once so that it is in ``_base``."""
    admin = cloud.client()
    image = admin.create_image("tiny", str(dep.TINY_IMAGE), "qcow2",
                               properties={"visibility": "public"})
    warm = admin.create_server("warm", image["id"], "42")
    dep.wait_for_status(admin, warm["id"], "ACTIVE")
    admin.delete_server(warm["id"])
    dep.wait_for_gone(admin, warm["id"])
    return image


def measure(args, workdir, keystone, cloud, image):
    rally = Rally(workdir / "rally")
    results = {"rally.log": rally.dir / "rally.log",
               "compute.log": cloud.log_dir / "mininova-compute.log"}
    default_conf = rally.config("default", {})
    short_conf = rally.config("short", SHORT_POLLS)
    rally.run(default_conf, "db", "create")
    spec = workdir / "rally" / "platform.json"
    spec.write_text(json.dumps(platform_spec(keystone)))
    rally.run(default_conf, "env", "create", "--name", "mininova", "--spec", spec)
    print(rally.run(default_conf, "env", "check", "mininova"), flush=True)

    try:
        for times, concurrency in zip(args.times, CONCURRENCIES, strict=True):
            print(f"Rally, its default polling: {times} iterations at concurrency "
                  f"{concurrency}", flush=True)
            results[("rally", concurrency)] = run_rally_task(
                rally, default_conf, times, concurrency, f"default-c{concurrency}")
            print(f"mininova's own loop: {times} iterations at concurrency {concurrency}",
                  flush=True)
            results[("own", concurrency)] = run_own(cloud, keystone, image["id"], times,
                                                    concurrency)
            if args.short_polls:
                print(f"Rally, short polling: {times} iterations at concurrency "
                      f"{concurrency}", flush=True)
                results[("short", concurrency)] = run_rally_task(
                    rally, short_conf, times, concurrency, f"short-c{concurrency}")
        # The logs are read before the run's directory is removed.
        for kind in ("rally", "short"):
            if (kind, 1) in results:
                results[("timeline", kind)] = capture(
                    print_timeline, {"rally": "Rally's default polling",
                                     "short": "Rally's short polling"}[kind],
                    results[(kind, 1)], results["rally.log"], results["compute.log"])
    finally:
        rally.kill()
    return results


def capture(function, *args):
    """What ``function`` prints, as a string (printed after the run)."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        function(*args)
    return output.getvalue()


def print_results(args, results):
    print()
    print("NovaServers.boot_and_delete_server against mininova (seconds per iteration)")
    for times, concurrency in zip(args.times, CONCURRENCIES, strict=True):
        print(f"concurrency {concurrency}, {times} iterations")
        print_rally("Rally, default polling (1 s, 2 s, 2 s)", results[("rally", concurrency)])
        print_floor(RALLY_DEFAULT_POLLS, results[("own", concurrency)])
        if ("short", concurrency) in results:
            print_rally("Rally, short polling (0, 0.1 s, 0.1 s)",
                        results[("short", concurrency)])
        print_own(f"mininova's own loop (polls every {OWN_POLL * 1000:g} ms)",
                  results[("own", concurrency)])
        if concurrency == 1:
            for kind in ("rally", "short"):
                print(results.get(("timeline", kind), ""), end="")
    rally_c4 = [i["duration"] for i in results[("rally", 4)] if not i["error"]]
    if rally_c4:
        print(f"reference: a real Nova on hardware, Rally's published median at "
              f"concurrency 4: {REFERENCE_MEDIAN_C4:.1f} s; mininova under Rally: "
              f"{statistics.median(rally_c4):.2f} s "
              f"(ratio {statistics.median(rally_c4) / REFERENCE_MEDIAN_C4:.2f})")


def keep_logs(workdir, destination):
    """The logs (not the databases, images or disks) of a run, for reading
    after it: what each service did with Rally's requests."""
    for log in workdir.rglob("*"):
        if log.is_file() and (log.suffix in (".log", ".stdout", ".json")):
            target = destination / log.relative_to(workdir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(log, target)


def raise_on_sigterm(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--times", type=int, nargs=2, default=[10, 20],
                        metavar=("AT_C1", "AT_C4"),
                        help="iterations at concurrency 1 and at concurrency 4")
    parser.add_argument("--no-short-polls", dest="short_polls", action="store_false",
                        help="skip the runs with Rally's short polling intervals")
    parser.add_argument("--own-broker", action="store_true",
                        help="a RabbitMQ node of the run's own (tests/integration/"
                             "private_rabbit.py) instead of a vhost on the machine's")
    parser.add_argument("--keep-logs", type=Path, metavar="DIR",
                        help="copy the services', Keystone's and Rally's logs there at the end")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, raise_on_sigterm)
    ensure_rally_venv()

    WORK_ROOT.mkdir(mode=0o755, exist_ok=True)
    workdir = WORK_ROOT / f"rally-{os.getpid()}"
    workdir.mkdir(mode=0o755)
    vhost, broker, keystone_db, keystone, cloud = None, None, None, None, None
    try:
        if args.own_broker:
            broker = PrivateRabbit(workdir)
            broker.running = True  # from here on, destroy() must stop it
            broker.start()
            transport_url = broker.url
        else:
            vhost = make_vhost()
            transport_url = f"rabbit://guest:guest@127.0.0.1:5672/{vhost}"
        keystone_db = KeystoneDatabase()
        keystone = keystone_fixture.Keystone(workdir / "keystone", database=keystone_db.url)
        keystone.start()
        cloud = start_cloud(workdir, transport_url, keystone)
        cloud.start()
        keystone.point_at(cloud)
        image = warm_up(cloud)
        results = measure(args, workdir, keystone, cloud, image)
    finally:
        if cloud is not None:
            cloud.stop()
        if args.keep_logs:
            keep_logs(workdir, args.keep_logs)
            cloud.remove_leftover_domains()
        if keystone is not None:
            keystone.stop()
        if keystone_db is not None:
            keystone_db.drop()
        if vhost is not None:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)
        if broker is not None:
            broker.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    print_results(args, results)


if __name__ == "__main__":
    main()
