"""The linux bridge L2 agent: the part of a network that lives on each host
(mirrors ``neutron/plugins/ml2/drivers/linuxbridge/agent/linuxbridge_neutron_agent.py``
and the loop of ``neutron/plugins/ml2/drivers/agent/_common_agent.py``).

Its loop, every ``[agent] polling_interval`` seconds, and at once when the
kernel announces a link change (``ip monitor link``, ``[agent]
watch_netlink``; Neutron's agent only polls):

1. **scan**: the ``tap…`` devices of the host. New ones, and ones the
   server says changed (``port_update``), are *added*; vanished ones
   *removed*. A device whose ifindex changed was made again: added again.
2. **added**: ask the server which port each belongs to
   (``get_devices_details_list``; the name carries the port id's first 11
   characters). A device of no port bound to this host is left alone: it
   is someone else's (another deployment's, or not OpenStack's at all).
   For a port's device: make sure its network's bridge ``brq…`` exists,
   with its isolation rules; plug the device into it unless Nova's libvirt
   does that (``device_owner`` ``compute:…``: libvirt creates the tap *in*
   the bridge for ``<interface type='bridge'>``), set the device up (or
   down for a port with ``admin_state_up`` false), and report it:
   ``update_device_up`` → the server sets the port ACTIVE and tells Nova
   ``network-vif-plugged``.
3. **removed**: ``update_device_down`` → the port goes DOWN (Nova hears
   ``network-vif-unplugged`` if it was ACTIVE).

What the server casts to every agent (topic ``q-agent-notifier``, fanout):
``network_delete`` (delete the bridge), ``port_update`` (see the device
again), ``port_delete`` (the bridge may now be empty).

Empty bridges: Neutron's agent deletes a network's bridge only when the
network is deleted. Nova's side here wants a deleted server to leave no
empty bridge behind, so after a port's deletion (or its tap's removal) the
agent deletes its network's bridge when nothing is plugged into it, no
address is on it (the network node's gateway) and the server has no other
port of that network bound to this host (a server being built there has
its port bound before its tap exists).

Runs inside mininova-network (``[network] run_l2_agent``) or alone as
``mininova-network-agent`` on another compute host; either way it talks to
the server only over RPC and needs no database. Left out: VLAN and VXLAN
(issue 15 brings VXLAN here), ARP spoofing protection, security group
firewalls, QoS, agent heartbeats (``report_state``).
"""

import subprocess
import threading
import time

from oslo_log import log as logging

from mininova import context as mn_context
from mininova.conf import CONF
from mininova.network import agent_rpc, constants, utils
from mininova.network.linux import bridge_lib, ip_lib

LOG = logging.getLogger(__name__)


class LinuxBridgeAgent:
    NOT_RPC = frozenset({"start", "stop", "wait_idle", "scan_devices", "process_devices"})

    def __init__(self, host=None, plugin_api=None):
        self.host = host or CONF.host
        self.agent_id = f"lb-{self.host}"
        self.plugin_api = plugin_api or agent_rpc.PluginApi()
        self.polling_interval = CONF.agent.polling_interval
        self._updated = set()        # devices the server says changed
        self._deleted_networks = set()   # networks whose bridge may now be empty
        self._network_of = {}        # device -> network id, of the devices we plugged
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stopping = threading.Event()
        self._threads = []
        self._monitor = None
        self._rpc_server = None

    # --- life ---------------------------------------------------------------------

    def start(self):
        self._rpc_server = agent_rpc.rpc_server(constants.TOPIC_AGENT_NOTIFIER, self.host,
                                                [self])
        self._rpc_server.start()
        self._start_thread(self.daemon_loop, "l2-agent")
        if CONF.agent.watch_netlink:
            self._start_thread(self._watch_links, "l2-agent-netlink")
        LOG.info("Linux bridge agent started on %s", self.host)

    def _start_thread(self, target, name):
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self):
        self._stopping.set()
        self._wake.set()
        if self._monitor is not None and self._monitor.poll() is None:
            self._monitor.terminate()
        if self._rpc_server:
            self._rpc_server.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._monitor is not None:
            self._monitor.wait(timeout=5)

    def wait_idle(self, timeout=30):
        """Block until a loop ran after the last wake-up (for tests)."""
        return self._idle.wait(timeout)

    def _watch_links(self):
        """Wake the loop whenever a link appears, changes or goes (a tap
        made by libvirt): the guest's boot waits for our report."""
        self._monitor = subprocess.Popen(["ip", "-o", "monitor", "link"],
                                         stdout=subprocess.PIPE, text=True)
        for _line in self._monitor.stdout:
            if self._stopping.is_set():
                break
            self._wake.set()

    # --- what the server casts ---------------------------------------------------

    def network_delete(self, context, network_id):
        bridge = utils.bridge_name(network_id)
        LOG.debug("network_delete received: deleting %s", bridge)
        bridge_lib.delete_bridge(bridge)

    def port_update(self, context, port):
        with self._lock:
            self._updated.add(utils.tap_device_name(port["id"]))
        self._wake.set()

    def port_delete(self, context, port_id, network_id):
        with self._lock:
            self._deleted_networks.add(network_id)
        self._wake.set()

    # --- the loop -----------------------------------------------------------------

    def daemon_loop(self):
        previous, sync = None, True
        while not self._stopping.is_set():
            self._wake.clear()
            started = time.monotonic()
            device_info = self.scan_devices(previous, sync)
            try:
                sync = self.process_devices(device_info)
            except Exception:
                LOG.exception("Error in agent loop. Devices info: %s", device_info)
                sync = True
            previous = device_info
            if not self._wake.is_set():
                self._idle.set()
            remaining = self.polling_interval - (time.monotonic() - started)
            if self._wake.wait(max(remaining, 0)):
                self._idle.clear()

    @staticmethod
    def _tap_devices():
        return {name for name in ip_lib.list_devices()
                if name.startswith(constants.TAP_DEVICE_PREFIX)}

    def scan_devices(self, previous, sync):
        """``{"current", "added", "updated", "removed", "timestamps"}`` as
        sets of device names (and their ifindex)."""
        with self._lock:
            updated, self._updated = self._updated, set()
        current = self._tap_devices()
        timestamps = {device: ip_lib.ifindex(device) for device in current}
        if previous is None:
            previous = {"current": set(), "removed": set(), "updated": set(),
                        "timestamps": {}}
        remade = {d for d, index in timestamps.items()
                  if d in previous["timestamps"] and index != previous["timestamps"][d]}
        if sync:
            # First loop, or the last one failed: everything again.
            added = set(current)
            removed = previous["removed"] | (previous["current"] - current)
            updated = (previous["updated"] | updated) & current
        else:
            added = current - previous["current"]
            removed = previous["current"] - current
            updated = (updated | remade) & current
        return {"current": current, "added": added, "updated": updated - added,
                "removed": removed, "timestamps": timestamps}

    def process_devices(self, device_info):
        """Handle what changed; True when the next loop must start over."""
        resync = False
        devices = device_info["added"] | device_info["updated"]
        if devices:
            resync |= self.treat_devices_added_updated(devices)
        if device_info["removed"]:
            resync |= self.treat_devices_removed(device_info["removed"])
        with self._lock:
            networks, self._deleted_networks = self._deleted_networks, set()
        for network_id in networks:
            self._remove_bridge_if_unused(network_id)
        return resync

    def treat_devices_added_updated(self, devices):
        ctxt = mn_context.get_admin_context()
        try:
            details_list = self.plugin_api.get_devices_details_list(
                ctxt, sorted(devices), self.agent_id, self.host)
        except Exception as exc:
            LOG.error("Unable to get port details for %s: %s", sorted(devices), exc)
            return True
        resync = False
        for details in details_list:
            if "port_id" not in details:
                # Not a port bound to this host: not ours to touch.
                LOG.debug("Device %s not defined on plugin or not bound here",
                          details["device"])
                continue
            try:
                self._treat_device(ctxt, details)
            except Exception:
                if ip_lib.device_exists(details["device"]):
                    LOG.exception("Error processing device %s", details["device"])
                    resync = True
                # else: it went away meanwhile; the next scan sees it removed.
        return resync

    def _treat_device(self, ctxt, details):
        device = details["device"]
        LOG.info("Port %s updated. Details: %s", device, details)
        plugged = self.plug_interface(details)
        if plugged:
            if details["admin_state_up"]:
                ip_lib.set_up(device)
            else:
                ip_lib.set_down(device)
        with self._lock:
            self._network_of[device] = details["network_id"]
        if details["admin_state_up"] and plugged:
            self.plugin_api.update_device_up(ctxt, device, self.agent_id, self.host)
        else:
            self.plugin_api.update_device_down(ctxt, device, self.agent_id, self.host)

    def plug_interface(self, details):
        """The network's bridge exists (isolated), and the device is in it.
        False when the device vanished meanwhile."""
        device = details["device"]
        if not ip_lib.device_exists(device):
            return False
        bridge = bridge_lib.ensure_bridge(details["bridge_name"], mtu=details.get("mtu"))
        if details["device_owner"].startswith(constants.DEVICE_OWNER_COMPUTE_PREFIX):
            # libvirt put it in the bridge (and owns it): nothing to do.
            return True
        if bridge_lib.bridge_of(device) != bridge:
            LOG.debug("Adding device %s to bridge %s", device, bridge)
            bridge_lib.add_interface(bridge, device)
        return True

    def treat_devices_removed(self, devices):
        ctxt = mn_context.get_admin_context()
        resync = False
        for device in sorted(devices):
            LOG.info("Attachment %s removed", device)
            try:
                details = self.plugin_api.update_device_down(ctxt, device, self.agent_id,
                                                             self.host)
            except Exception as exc:
                LOG.error("Error occurred while removing port %s: %s", device, exc)
                resync = True
                continue
            if not details.get("exists"):
                LOG.debug("Device %s not defined on plugin", device)
            with self._lock:
                network_id = self._network_of.pop(device, None)
            if network_id:
                self._remove_bridge_if_unused(network_id)
        return resync

    def _remove_bridge_if_unused(self, network_id):
        bridge = utils.bridge_name(network_id)
        if not bridge_lib.bridge_exists(bridge) or bridge_lib.interfaces(bridge):
            return
        if ip_lib.ipv4_addresses(bridge):
            return   # the network node's gateway lives there
        try:
            bound = self.plugin_api.count_ports_bound_to_host(
                mn_context.get_admin_context(), network_id, self.host)
        except Exception as exc:
            LOG.warning("Keeping the empty bridge %s: cannot ask the server (%s)", bridge, exc)
            return
        if bound == 0:
            LOG.info("Deleting the empty bridge %s: no port of network %s on this host",
                     bridge, network_id)
            bridge_lib.delete_bridge(bridge)
