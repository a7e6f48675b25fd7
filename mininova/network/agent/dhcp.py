"""The DHCP agent: the network node's side of every network (mirrors
``neutron/agent/dhcp/agent.py``).

For each network that has subnets, it keeps the host in line with what the
server says:

- the network's bridge with the subnets' gateway addresses on it
  (:mod:`.host_gateway`, mininova's stand-in for a router);
- for DHCP-enabled subnets: the network's DHCP port (asked of the server,
  ``setup_dhcp_port``), the ``qdhcp-`` namespace with the port's veth, and
  dnsmasq with its files (:mod:`mininova.network.linux.dhcp`);
- with ``[dhcp] enable_isolated_metadata``: the network's metadata proxy
  in the namespace, on 169.254.169.254:80
  (:mod:`.metadata_driver`, :mod:`.metadata_proxy`), as Neutron's agent
  starts one for a network that has no router;
- when the network, or its last DHCP subnet, is gone: the metadata proxy
  and dnsmasq stopped, the namespace and its veth deleted, the files
  removed, the DHCP port released; and the gateway address and the
  bridge, if empty.

How it learns of changes: the server casts ``network_create_end``,
``subnet_update_end``, ``port_create_end``... to the ``dhcp_agent`` topic
(fanout). Each names a network; the agent marks it and a single worker
thread fetches the network again (``get_network_info``) and applies it,
one network at a time. A network or subnet change is applied whole
(bridge, namespace, DHCP port, files, dnsmasq); a port change only
rewrites dnsmasq's files and reloads it (Neutron's ``reload_allocations``),
as long as the network is already served here: a boot's two port changes
then cost one fetch and a SIGHUP, not a dozen ``ip`` commands. Neutron
applies port changes to a cached copy instead of fetching; fetching is
simpler and the networks are small. A port change waits 0.1 s for the
next before it is applied (a boot's create and bind then cost one
reload, after the build has its port; see ``_let_port_changes_settle``).
When something fails (the server unreachable, a command refused), the
network is tried again after ``[dhcp] resync_interval``. At start, and
every resync_interval, it also checks that each dnsmasq (and metadata
proxy) still runs.

What the agent tears down is only ever what its own files name: the
networks with a directory under ``[dhcp] dhcp_confs``. Another agent's
namespaces on the same host (a second deployment, a test) are not its.

Why it runs inside mininova-network by default (``[network]
run_dhcp_agent``): one host, one process to start; it still talks to the
server only over RPC, as neutron-dhcp-agent does, so it could be its own
process on a network node.
"""

import os
import threading

from oslo_log import log as logging

from mininova import context as mn_context
from mininova import rpc
from mininova.conf import CONF
from mininova.network import agent_rpc, constants, utils
from mininova.network.agent import host_gateway, metadata_driver
from mininova.network.linux import dhcp, ip_lib

LOG = logging.getLogger(__name__)

# Seconds a port change waits for the next one of the same boot (below).
PORT_CHANGES_SETTLE = 0.1


class DhcpAgent:
    NOT_RPC = frozenset({"start", "stop", "sync_network", "sync_state", "wait_idle"})

    def __init__(self, host=None, plugin_api=None):
        self.host = host or CONF.host
        self.plugin_api = plugin_api or agent_rpc.PluginApi()
        self._dirty = set()           # networks to apply whole
        self._ports_dirty = set()     # networks whose ports changed
        self._full_sync = True
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stopping = threading.Event()
        self._thread = None
        self._rpc_server = None

    # --- life ---------------------------------------------------------------------

    def start(self):
        os.makedirs(CONF.dhcp.dhcp_confs, mode=0o755, exist_ok=True)
        self._rpc_server = agent_rpc.rpc_server(constants.TOPIC_DHCP_AGENT, self.host, [self])
        self._rpc_server.start()
        self._thread = threading.Thread(target=self._run, name="dhcp-agent", daemon=True)
        self._thread.start()
        LOG.info("DHCP agent started on %s (files in %s)", self.host, CONF.dhcp.dhcp_confs)

    def stop(self):
        """Stop listening. dnsmasq and the metadata proxies keep running,
        as with Neutron's agent: guests renew their leases while the agent
        restarts."""
        self._stopping.set()
        self._wake.set()
        if self._rpc_server:
            self._rpc_server.stop()
        if self._thread:
            self._thread.join(timeout=30)

    def wait_idle(self, timeout=30):
        """Block until nothing is waiting to be synced (for tests)."""
        return self._idle.wait(timeout)

    # --- what the server casts ---------------------------------------------------

    def _mark(self, network_id, ports_only=False):
        with self._lock:
            (self._ports_dirty if ports_only else self._dirty).add(network_id)
            self._idle.clear()
        self._wake.set()

    def network_create_end(self, context, network_id):
        self._mark(network_id)

    def network_update_end(self, context, network_id):
        self._mark(network_id)

    def network_delete_end(self, context, network_id):
        self._mark(network_id)

    def subnet_create_end(self, context, network_id):
        self._mark(network_id)

    def subnet_update_end(self, context, network_id):
        self._mark(network_id)

    def subnet_delete_end(self, context, network_id):
        self._mark(network_id)

    def port_create_end(self, context, network_id, port_id):
        self._mark(network_id, ports_only=True)

    def port_update_end(self, context, network_id, port_id):
        self._mark(network_id, ports_only=True)

    def port_delete_end(self, context, network_id, port_id):
        self._mark(network_id, ports_only=True)

    # --- the worker ---------------------------------------------------------------

    def _run(self):
        while not self._stopping.is_set():
            self._apply_marked()
            if self._wake.wait(CONF.dhcp.resync_interval):
                self._wake.clear()
                self._let_port_changes_settle()
            else:
                self._check_processes()

    def _apply_marked(self):
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            ports_dirty, self._ports_dirty = self._ports_dirty - dirty, set()
            full, self._full_sync = self._full_sync, False
        if full:
            self.sync_state()
        for network_id in sorted(dirty):
            self._sync_or_retry(network_id)
        for network_id in sorted(ports_dirty):
            self._sync_or_retry(network_id, ports_only=True)
        with self._lock:
            if not (self._dirty or self._ports_dirty or self._full_sync):
                self._idle.set()

    def _let_port_changes_settle(self):
        """Woken by port changes only: wait PORT_CHANGES_SETTLE first.

        Nova's compute creates a port and binds it (with the server's host
        name, which dnsmasq's hosts file carries) within a few
        milliseconds: one fetch and one SIGHUP then serve both, and the
        reload, which runs in the server's process, stays out of the way
        of the bind request and the reads the build is waiting for. A
        guest asks for its address seconds later, when its kernel has
        booted. A network or subnet change is applied at once."""
        with self._lock:
            ports_only = self._ports_dirty and not (self._dirty or self._full_sync)
        if ports_only:
            self._stopping.wait(PORT_CHANGES_SETTLE)

    def _sync_or_retry(self, network_id, ports_only=False):
        try:
            if ports_only:
                self.reload_allocations(network_id)
            else:
                self.sync_network(network_id)
        except ip_lib.DeviceNotFound as exc:
            # The L2 agent deleted the bridge of a network being deleted
            # while we looked at it: the next try finds the network gone.
            LOG.info("Network %s changed during its sync (%s gone); trying again",
                     network_id, exc)
            with self._lock:
                self._dirty.add(network_id)
        except Exception:
            LOG.exception("Unable to sync network %s; trying again in %s s", network_id,
                          CONF.dhcp.resync_interval)
            with self._lock:
                self._dirty.add(network_id)

    def sync_state(self):
        """Every network the server has, and every one this host still
        serves that the server no longer has."""
        ctxt = mn_context.get_admin_context()
        try:
            active = set(self.plugin_api.get_active_networks(ctxt, self.host))
        except Exception as exc:
            LOG.error("Unable to sync network state: %s; trying again in %s s", exc,
                      CONF.dhcp.resync_interval)
            with self._lock:
                self._full_sync = True
            return
        for network_id in sorted(active | set(self._local_networks())):
            self._sync_or_retry(network_id)

    def _local_networks(self):
        try:
            return [name for name in os.listdir(CONF.dhcp.dhcp_confs)
                    if os.path.isdir(os.path.join(CONF.dhcp.dhcp_confs, name))]
        except OSError:
            return []

    def _check_processes(self):
        """A dnsmasq or a metadata proxy that died (killed, crashed) is
        started again."""
        for network_id in self._local_networks():
            driver = dhcp.Dnsmasq(network_id)
            if not os.path.exists(driver.path("cmdline")):
                continue   # no DHCP here for this network
            if driver.pid() is None:
                LOG.warning("dnsmasq of network %s is not running; starting it again",
                            network_id)
                self._mark(network_id)
            elif (CONF.dhcp.enable_isolated_metadata
                  and metadata_driver.MetadataProxy(network_id).pid() is None):
                LOG.warning("The metadata proxy of network %s is not running; "
                            "starting it again", network_id)
                self._mark(network_id)

    def sync_network(self, network_id):
        """Make this host serve ``network_id`` as the server describes it."""
        ctxt = mn_context.get_admin_context()
        network = self.plugin_api.get_network_info(ctxt, network_id, self.host)
        if network is None or not network["subnets"]:
            self._forget(network_id, network_gone=network is None)
            return
        dhcp_port = None
        if dhcp.dhcp_subnets(network):
            try:
                dhcp_port = self.plugin_api.setup_dhcp_port(ctxt, network_id, self.host)
            except rpc.RemoteError as exc:
                if exc.kwargs.get("exc_type") != "NetworkNotFound":
                    raise
                dhcp_port = None   # deleted meanwhile: the next fetch says so
            # Fetched again: the DHCP port may just have been made or
            # given an address, and it belongs in the hosts file too.
            network = self.plugin_api.get_network_info(ctxt, network_id, self.host)
            if network is None:
                self._forget(network_id, network_gone=True)
                return
        os.makedirs(os.path.join(CONF.dhcp.dhcp_confs, network_id), mode=0o755, exist_ok=True)
        host_gateway.sync(network)
        driver = dhcp.Dnsmasq(network_id)
        if dhcp_port is not None:
            driver.enable(network, dhcp_port)
            self._sync_metadata_proxy(network_id)
        elif os.path.exists(driver.path("cmdline")):
            # No DHCP-enabled subnet left: no dnsmasq, no DHCP port.
            LOG.info("Disabling DHCP for network %s", network_id)
            self._disable_dhcp(network_id)
            os.makedirs(driver.conf_dir, mode=0o755, exist_ok=True)
            self.plugin_api.release_dhcp_port(ctxt, network_id,
                                              utils.dhcp_device_id(network_id, self.host))

    @staticmethod
    def _sync_metadata_proxy(network_id):
        """After dnsmasq's enable (the namespace and 169.254.169.254/32 on
        its device exist): the proxy runs, or, the option off, does not."""
        proxy = metadata_driver.MetadataProxy(network_id)
        if CONF.dhcp.enable_isolated_metadata:
            proxy.enable()
        else:
            proxy.disable()

    @staticmethod
    def _disable_dhcp(network_id):
        """The proxy first: a process still in the namespace would keep it
        alive after dnsmasq's disable deletes it."""
        metadata_driver.MetadataProxy(network_id).disable()
        dhcp.Dnsmasq(network_id).disable()

    def reload_allocations(self, network_id):
        """The network's ports changed: give dnsmasq its new files. A
        network not (yet, or no longer) served here whole is synced whole."""
        ctxt = mn_context.get_admin_context()
        network = self.plugin_api.get_network_info(ctxt, network_id, self.host)
        dhcp_port = _dhcp_port_of(network, utils.dhcp_device_id(network_id, self.host))
        if dhcp_port is None or not dhcp.Dnsmasq(network_id).reload_allocations(network,
                                                                               dhcp_port):
            self.sync_network(network_id)

    def _forget(self, network_id, network_gone):
        """Remove everything of the network from this host."""
        if not os.path.isdir(os.path.join(CONF.dhcp.dhcp_confs, network_id)):
            return
        LOG.info("Removing network %s from this host", network_id)
        self._disable_dhcp(network_id)
        host_gateway.remove(network_id)
        if not network_gone:
            self.plugin_api.release_dhcp_port(mn_context.get_admin_context(), network_id,
                                              utils.dhcp_device_id(network_id, self.host))


def _dhcp_port_of(network, device_id):
    """This host's DHCP port among the network's ports (None when the
    network is gone, has none yet, or has no DHCP subnet left)."""
    if network is None or not dhcp.dhcp_subnets(network):
        return None
    return next((port for port in network.get("ports", [])
                 if port.get("device_id") == device_id), None)
