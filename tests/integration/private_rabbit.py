"""A RabbitMQ node of a test's own, to stop and start at will.

The machine's RabbitMQ (127.0.0.1:5672) is shared with other test runs: a
test must never stop it. A test that needs a broker outage starts this one
instead: its own node name, ports, data and log directories (under the
test's directory), loopback only, no plugins. ``stop()`` and ``start()``
keep its data, so what a real restart keeps (durable queues, persistent
messages) is kept here too. ``destroy()`` stops it for good.
"""

import os
import secrets
import subprocess
import time
from pathlib import Path

from tests.integration import deployment

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")


class PrivateRabbit:
    def __init__(self, workdir):
        self.dir = Path(workdir) / "rabbit"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.node = f"mntest-{secrets.token_hex(3)}@localhost"
        self.port = deployment.free_port()
        self.dist_port = deployment.free_port()
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (self.dir / "enabled_plugins").write_text("[].\n")
        self.url = f"rabbit://guest:guest@127.0.0.1:{self.port}/"
        self.running = False

    def _env(self):
        return dict(
            os.environ,
            # The Erlang cookie is made in (and read from) HOME: ours.
            HOME=str(self.dir),
            # Not the machine's rabbitmq-env.conf: it names the shared node.
            RABBITMQ_CONF_ENV_FILE="/dev/null",
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"),
            RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.dir / "log"),
            RABBITMQ_PID_FILE=str(self.dir / "pid"),
            ERL_EPMD_ADDRESS="127.0.0.1",
            ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}",
        )

    def ctl(self, *args, timeout=60, check=True):
        return subprocess.run([RABBITMQ_BIN / "rabbitmqctl", "-n", self.node, *args],
                              env=self._env(), capture_output=True, text=True,
                              timeout=timeout, check=check)

    def start(self):
        subprocess.run([RABBITMQ_BIN / "rabbitmq-server", "-detached"], env=self._env(),
                       check=True, capture_output=True, timeout=60)
        self.running = True
        self.ctl("wait", str(self.dir / "pid"), "--timeout", "90", timeout=120)
        return self

    def stop(self):
        """Stop the node (its data stays for the next start)."""
        if self.running:
            self.ctl("stop", timeout=60, check=False)
            self.running = False
            self._wait_for_exit()

    def _wait_for_exit(self, timeout=30):
        pid_file = self.dir / "pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, 9)

    def destroy(self):
        self.stop()
