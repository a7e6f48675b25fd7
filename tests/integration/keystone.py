"""A throw-away Keystone for the integration tests.

The real OpenStack Keystone, from the virtualenv the setup scripts install
(``.venv-keystone``), on a free port, with its own SQLite database, fernet
keys, passwords and log in a directory of its own. It is made by the very
commands the quickstart runs (``bin/lib/keystone_setup.py``: passwords,
configure, init, serve, wait, bootstrap, client-config), so the tests check
the one bootstrap there is. ``stop()`` ends gunicorn's master and workers
and removes the directory: nothing is left behind.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.deployment import free_port

REPO = Path(__file__).resolve().parents[2]
KEYSTONE_VENV = REPO / ".venv-keystone"
PYTHON = KEYSTONE_VENV / "bin" / "python"
SETUP = REPO / "bin" / "lib" / "keystone_setup.py"
REGION = "RegionOne"
# user -> (project, key in the passwords file)
ACCOUNTS = {"admin": ("admin", "ADMIN_PASSWORD"), "demo": ("demo", "DEMO_PASSWORD"),
            "nova": ("service", "SERVICE_PASSWORD"), "glance": ("service", "SERVICE_PASSWORD")}


class Keystone:
    def __init__(self, workdir, database=None):
        """``database``: a database URL for Keystone (default: SQLite in
        ``workdir``, which serialises its writes: enough for the tests, not
        for concurrent logins, where it can answer 500 "database is locked")."""
        self.dir = Path(workdir)
        self.database = database
        self.port = free_port()
        self.auth_url = f"http://127.0.0.1:{self.port}/v3"
        self.conf = self.dir / "keystone.conf"
        self.passwords_file = self.dir / "passwords"
        self.passwords = {}
        self.process = None
        self.timings = {}

    # --- the setup commands, as the scripts run them -----------------------------------

    def setup(self, *args, timeout=120):
        """One ``keystone_setup.py`` command with the Keystone venv's Python."""
        result = subprocess.run([PYTHON, SETUP, *map(str, args)], capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"keystone_setup.py {args[0]} failed ({result.returncode}):"
                                 f"\n{result.stdout}{result.stderr}\nlog: {self.log()[-3000:]}")
        return result.stdout

    def _api(self):
        return ["--auth-url", self.auth_url, "--passwords", self.passwords_file]

    def make_passwords(self):
        """The passwords file (made once), read: what the services'
        configuration needs, known before Keystone runs."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.setup("passwords", self.passwords_file)
        self.passwords = dict(line.split("=", 1) for line in
                              self.passwords_file.read_text().splitlines()
                              if "=" in line and not line.startswith("#"))
        return self.passwords

    def start(self):
        began = time.monotonic()
        self.make_passwords()
        self.setup("configure", "--conf", self.conf, "--state-dir", self.dir,
                   "--log-dir", self.dir,
                   *(["--database", self.database] if self.database else []))
        self.setup("init", "--conf", self.conf, "--passwords", self.passwords_file,
                   "--public-url", self.auth_url)
        self.timings["init"] = time.monotonic() - began
        began = time.monotonic()
        with open(self.dir / "keystone.stdout", "ab") as out:
            self.process = subprocess.Popen(
                [PYTHON, SETUP, "serve", "--conf", self.conf, "--bind", f"127.0.0.1:{self.port}"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.setup("wait", *self._api(), "--pid", self.process.pid, "--timeout", 90)
        self.timings["start"] = time.monotonic() - began
        began = time.monotonic()
        self.setup("bootstrap", *self._api())
        self.timings["bootstrap"] = time.monotonic() - began
        self.setup("client-config", *self._api(), "--dir", self.dir)
        return self

    def stop(self):
        """TERM to gunicorn's process group (master and workers), KILL what
        is still there after 15 s, then remove the directory."""
        if self.process is not None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
            # A worker outliving its master would keep the group alive.
            _signal_group(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- what the tests use ----------------------------------------------------------------

    def credentials(self, user):
        """keystoneauth1 ``v3.Password`` arguments for one of the accounts."""
        project, key = ACCOUNTS[user]
        return {"auth_url": self.auth_url, "username": user, "password": self.passwords[key],
                "project_name": project, "user_domain_id": "default",
                "project_domain_id": "default"}

    def token(self, user):
        """A password token of one of the accounts (keystoneauth1)."""
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        return session.Session(auth=v3.Password(**self.credentials(user))).get_token()

    def service_config(self):
        """mininova's configuration for this Keystone, as the quickstart
        writes it: tokens checked by keystonemiddleware, the service user nova."""
        nova = self.credentials("nova")
        auth = {"auth_type": "password", "auth_url": self.auth_url,
                "username": nova["username"], "password": nova["password"],
                "project_name": "service", "user_domain_name": "Default",
                "project_domain_name": "Default"}
        return {"api": {"auth_strategy": "keystone"},
                "keystone_authtoken": dict(auth, www_authenticate_uri=self.auth_url,
                                           region_name=REGION),
                "service_user": dict(auth, send_service_user_token="True")}

    def add_service(self, service_type, url=None, region=REGION):
        """A service in the catalog (and its service user), or its public
        endpoint moved to ``url``: keystone_setup.py add-service."""
        self.setup("add-service", *self._api(), service_type, *([url] if url else []),
                   "--region", region)

    def remove_service(self, service_type):
        """The service out of the catalog again: the session's Keystone is
        shared, and a client follows whatever its catalog lists
        (``openstack quota show`` asks every service in it)."""
        self.setup("remove-service", *self._api(), service_type)

    def point_at(self, deployment, region=REGION):
        """The catalog's compute, image and block-storage endpoints at a
        deployment's ports."""
        self.add_service("compute", f"http://127.0.0.1:{deployment.api_port}/v2.1", region)
        self.add_service("image", f"http://127.0.0.1:{deployment.image_port}", region)
        if getattr(deployment, "volume_port", None):
            self.add_service("block-storage",
                             f"http://127.0.0.1:{deployment.volume_port}/v3/$(project_id)s",
                             region)

    def processes(self):
        """Pids of gunicorn's master and workers (its process group)."""
        return processes_in_group(self.process.pid) if self.process else []

    def log(self):
        path = self.dir / "keystone.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def processes_in_group(pgid):
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # after the command: state, ppid, pgrp
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return sorted(pids)
