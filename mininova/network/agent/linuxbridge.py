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

VXLAN (``[vxlan] local_ip`` set; unset, nothing below happens): at start,
and until it succeeds, the agent tells the server its tunnel address
(``tunnel_sync``) and gets every other agent's back; the server tells it of
agents that come later (``tunnel_update``, fanout). A fanout sent while
this agent's queue was not yet bound is lost, so the agent also syncs
again before it makes a new vxlan device and every
``TUNNEL_RESYNC_INTERVAL`` seconds (Neutron's agents resync on their
periodic state reports). Whenever it makes sure
of a ``vxlan`` network's bridge (a port of it on this host: a guest's tap,
or the DHCP port's on the network node) it also makes sure of
``vxlan-<VNI>`` in that bridge, with one all-zeros forwarding entry per
peer (``bridge fdb append 00:00:00:00:00:00 dev vxlan-N dst <peer>``):
broadcasts (ARP, DHCP) and frames to unknown MACs go to every peer, and
the device learns from the answers which MAC is behind which peer. That is
the *l2population* idea simplified: Neutron's l2pop driver sends each
agent only the peers that have ports of the network, and one entry per
remote port (MAC and IP, with ARP answered locally); here every peer is
flooded to and MACs are learnt. A new peer is added to every vxlan device
of the host at once, one whose address changed is replaced.

Runs inside mininova-network (``[network] run_l2_agent``) or alone as
``mininova-network-agent`` on another compute host; either way it talks to
the server only over RPC and needs no database. Left out: VLAN networks,
multicast VXLAN groups, l2population's per-port entries and ARP responder,
ARP spoofing protection, security group firewalls, QoS, agent heartbeats
(``report_state``).
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
TUNNEL_RESYNC_INTERVAL = 60


class LinuxBridgeAgent:
    NOT_RPC = frozenset({"start", "stop", "wait_idle", "scan_devices", "process_devices",
                         "ensure_vxlan", "tunnel_sync"})

    def __init__(self, host=None, plugin_api=None):
        self.host = host or CONF.host
        self.agent_id = f"lb-{self.host}"
        self.plugin_api = plugin_api or agent_rpc.PluginApi()
        self.polling_interval = CONF.agent.polling_interval
        self._updated = set()        # devices the server says changed
        self._deleted_networks = set()   # networks whose bridge may now be empty
        self._network_of = {}        # device -> network id, of the devices we plugged
        # Bridges made sure of (up, isolated) since the last full sync: their
        # iptables checks (tens of ms) are not repeated for every tap, each
        # on a boot's way to network-vif-plugged.
        self._bridges_ensured = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stopping = threading.Event()
        self._threads = []
        self._monitor = None
        self._rpc_server = None
        self._tunnel_rpc_server = None
        # VXLAN: our tunnel address (None: off), the peers' by host, and
        # whether the server has heard ours yet.
        self.local_ip = CONF.vxlan.local_ip
        self._peers = {}
        self._tunnels_synced = False
        self._tunnels_synced_at = 0.0
        self._tunnel_lock = threading.Lock()
        # The vxlan devices this agent made sure of (another deployment's on
        # the same machine are not ours to change).
        self._vxlan_devices = set()

    # --- life ---------------------------------------------------------------------

    def start(self):
        self._rpc_server = agent_rpc.rpc_server(constants.TOPIC_AGENT_NOTIFIER, self.host,
                                                [self])
        self._rpc_server.start()
        if self.local_ip:
            self._tunnel_rpc_server = agent_rpc.rpc_server(constants.TOPIC_TUNNEL_UPDATE,
                                                           self.host, [self])
            self._tunnel_rpc_server.start()
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
        for server in (self._rpc_server, self._tunnel_rpc_server):
            if server:
                server.stop()
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
        self._delete_bridge(bridge)

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
            if self.local_ip and (not self._tunnels_synced or time.monotonic()
                                  - self._tunnels_synced_at > TUNNEL_RESYNC_INTERVAL):
                self.tunnel_sync()
            if sync:
                self._bridges_ensured.clear()
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
            if not details["admin_state_up"]:
                ip_lib.set_down(device)
            elif not ip_lib.is_up(device):   # libvirt's taps are up already
                ip_lib.set_up(device)
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
        bridge = self._ensure_bridge(details["bridge_name"], details.get("mtu"))
        if details.get("network_type") == constants.NETWORK_TYPE_VXLAN and self.local_ip:
            self.ensure_vxlan(bridge, details["segmentation_id"], mtu=details.get("mtu"))
        if details["device_owner"].startswith(constants.DEVICE_OWNER_COMPUTE_PREFIX):
            # libvirt put it in the bridge (and owns it): nothing to do.
            return True
        if bridge_lib.bridge_of(device) != bridge:
            LOG.debug("Adding device %s to bridge %s", device, bridge)
            bridge_lib.add_interface(bridge, device)
        return True

    def _ensure_bridge(self, bridge, mtu):
        """The bridge exists, up and isolated: fully checked once per full
        sync, afterwards only whether it still exists."""
        if bridge in self._bridges_ensured and bridge_lib.bridge_exists(bridge):
            return bridge
        bridge_lib.ensure_bridge(bridge, mtu=mtu)
        self._bridges_ensured.add(bridge)
        return bridge

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
        if not bridge_lib.bridge_exists(bridge) or _ports_of(bridge):
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
            self._delete_bridge(bridge)

    def _delete_bridge(self, bridge):
        """The bridge and its vxlan device (which nothing else uses)."""
        for device in bridge_lib.interfaces(bridge):
            if device.startswith(constants.VXLAN_DEVICE_PREFIX):
                LOG.debug("Deleting the VXLAN device %s of %s", device, bridge)
                ip_lib.delete_device(device)
                with self._tunnel_lock:
                    self._vxlan_devices.discard(device)
        bridge_lib.delete_bridge(bridge)
        self._bridges_ensured.discard(bridge)

    # --- VXLAN tunnels ------------------------------------------------------------

    def tunnel_sync(self):
        """Tell the server our tunnel address, learn the others'. False
        (tried again next loop) when the server cannot be reached."""
        try:
            answer = self.plugin_api.tunnel_sync(
                mn_context.get_admin_context(), self.local_ip, self.host,
                CONF.vxlan.udp_dstport)
        except Exception as exc:
            LOG.warning("Unable to sync the tunnel endpoint %s: %s", self.local_ip, exc)
            return False
        with self._tunnel_lock:
            self._peers = {t["host"]: t["ip_address"] for t in answer["tunnels"]
                           if t["ip_address"] != self.local_ip}
            self._tunnels_synced = True
            self._tunnels_synced_at = time.monotonic()
            peers = sorted(self._peers.values())
        LOG.debug("Tunnel endpoint %s registered; peers: %s", self.local_ip, peers or "none")
        self._sync_every_device()
        return True

    def tunnel_update(self, context, tunnel_ip, tunnel_type, host, replaced=None):
        """Another agent announced its tunnel address (the server's fanout)."""
        if not self.local_ip or tunnel_ip == self.local_ip:
            return
        with self._tunnel_lock:
            if self._peers.get(host) == tunnel_ip:
                return
            self._peers[host] = tunnel_ip
        LOG.info("Tunnel endpoint %s of host %s added%s", tunnel_ip, host,
                 f" (replacing {replaced})" if replaced else "")
        self._sync_every_device()

    def _sync_every_device(self):
        with self._tunnel_lock:
            devices = sorted(self._vxlan_devices)
        for device in devices:
            if ip_lib.device_exists(device):
                self._sync_flood_entries(device)

    def ensure_vxlan(self, bridge, vni, mtu=None):
        """``vxlan-<vni>`` exists, is in ``bridge``, is up and floods to
        every peer. Returns its name."""
        device = utils.vxlan_device_name(vni)
        if not ip_lib.device_exists(device):
            # A peer announced while our fanout queue was not bound yet
            # would be missing: ask the server once more.
            self.tunnel_sync()
            LOG.info("Creating the VXLAN device %s (VNI %s, local %s) in %s", device, vni,
                     self.local_ip, bridge)
            ip_lib.add_vxlan(device, vni, self.local_ip, CONF.vxlan.udp_dstport,
                             ttl=CONF.vxlan.ttl, mtu=mtu)
            ip_lib.disable_ipv6(device)
        if bridge_lib.bridge_of(device) != bridge:
            bridge_lib.add_interface(bridge, device)
        ip_lib.set_up(device)
        with self._tunnel_lock:
            self._vxlan_devices.add(device)
        self._sync_flood_entries(device)
        return device

    def _sync_flood_entries(self, device):
        """The device floods to exactly the peers we know."""
        with self._tunnel_lock:
            wanted = set(self._peers.values())
            have = set(bridge_lib.flood_destinations(device))
            for peer in sorted(wanted - have):
                bridge_lib.add_flood_destination(device, peer)
            for peer in sorted(have - wanted):
                bridge_lib.delete_flood_destination(device, peer)


def _ports_of(bridge):
    """What is plugged into ``bridge`` besides its own vxlan device."""
    return [device for device in bridge_lib.interfaces(bridge)
            if not device.startswith(constants.VXLAN_DEVICE_PREFIX)]
