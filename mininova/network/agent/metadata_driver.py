"""Starting and stopping a network's metadata proxy (mirrors
``neutron/agent/metadata/driver.py``, ``MetadataDriver``'s
``spawn_monitored_metadata_proxy`` and ``destroy_monitored_metadata_proxy``,
for the DHCP agent's networks).

The DHCP agent calls :meth:`MetadataProxy.enable` once the network's
``qdhcp-`` namespace exists and its ``ns-`` device holds
``169.254.169.254/32`` (the proxy binds that address), and
:meth:`MetadataProxy.disable` before the namespace is deleted (a process
still in a namespace keeps it alive after ``ip netns delete``). Its
periodic check asks :meth:`MetadataProxy.pid` and starts a dead proxy
again, as it does dnsmasq; Neutron's ``ProcessMonitor`` does that.

The proxy's files live with dnsmasq's, in ``[dhcp]
dhcp_confs/<network id>/``: ``metadata_proxy.pid`` and
``metadata_proxy.log``. Like dnsmasq, the proxy keeps running when the
agent stops (the guests keep their metadata while mininova-network
restarts, though answers wait for the metadata agent to be back), and goes
when the agent removes the network. Neutron keeps its pid files under
``$state_path/external/pids``; here what the DHCP agent tears down stays
what the network's own directory names.

Left out: haproxy and its configuration file, the router variant, running
the proxy as another user.
"""

import os
import sys

from oslo_log import log as logging

import mininova
from mininova.conf import CONF
from mininova.network import constants, utils
from mininova.network.agent import metadata_proxy
from mininova.network.linux import dhcp, ip_lib

LOG = logging.getLogger(__name__)

PROXY_MODULE = metadata_proxy.__name__
METADATA_ADDRESS = constants.METADATA_CIDR.split("/")[0]
METADATA_PORT = 80


class MetadataProxy:
    """The metadata proxy of one network, in its qdhcp- namespace."""

    def __init__(self, network_id, conf_root=None):
        self.network_id = network_id
        self.conf_dir = os.path.join(conf_root or CONF.dhcp.dhcp_confs, network_id)
        self.pid_file = os.path.join(self.conf_dir, "metadata_proxy.pid")
        self.log_file = os.path.join(self.conf_dir, "metadata_proxy.log")
        self.namespace = utils.dhcp_namespace(network_id)

    def command(self):
        return [sys.executable, "-m", PROXY_MODULE,
                "--network-id", self.network_id,
                "--metadata-proxy-socket", CONF.metadata_agent.metadata_proxy_socket,
                "--bind-host", METADATA_ADDRESS, "--bind-port", str(METADATA_PORT),
                "--pid-file", self.pid_file, "--log-file", self.log_file,
                "--daemonize"]

    def pid(self):
        """The proxy's pid if it runs for this network, else None (a pid
        file may outlive its process, and the pid be someone else's)."""
        pid, _command = self._running()
        return pid

    def _running(self):
        """``(pid, command line)`` of this network's proxy, or ``(None, None)``."""
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().decode(errors="replace").rstrip("\0").split("\0")
        except (OSError, ValueError):
            return None, None
        if PROXY_MODULE in command and self.pid_file in command and dhcp.daemon_running(pid):
            return pid, command
        return None, None

    def enable(self):
        """The proxy running, with the current options (started again when
        they changed, e.g. the agent's socket moved)."""
        pid, command = self._running()
        wanted = self.command()
        if pid and command == wanted:
            return
        if pid:
            LOG.info("Restarting the metadata proxy of network %s (its options changed)",
                     self.network_id)
            dhcp.stop_daemon(pid)
        os.makedirs(self.conf_dir, mode=0o755, exist_ok=True)
        # The command returns once the proxy listens and its pid file is written.
        ip_lib.execute(*wanted, namespace=self.namespace, env=_child_environment())
        LOG.info("Started the metadata proxy of network %s in %s (pid %s)", self.network_id,
                 self.namespace, self.pid())

    def disable(self):
        """Stop the proxy (nothing when none runs) and remove its pid file."""
        pid = self.pid()
        if pid:
            dhcp.stop_daemon(pid)
            LOG.info("Stopped the metadata proxy of network %s (pid %s)", self.network_id,
                     pid)
        try:
            os.unlink(self.pid_file)
        except FileNotFoundError:
            pass


def _child_environment():
    """This process's environment, with the directory of the mininova it
    runs first on the module path: the proxy runs the same code as the
    agent, also from a source tree that is not the installed one."""
    source_root = os.path.dirname(os.path.dirname(os.path.abspath(mininova.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [source_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env
