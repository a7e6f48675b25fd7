"""Linux bridges (mirrors ``neutron/agent/linux/bridge_lib.py`` and the
``ensure_bridge``/``delete_bridge`` of the linux bridge agent).

A network is a bridge ``brq<network id[:11]>`` on every host where it has
a port. On a compute host os-vif's linux_bridge plugin may make it first
(Nova plugs a VIF before libvirt creates the tap); the agents make it
where nothing else does (the network node, for the DHCP port and the
gateway). Whoever makes it, :func:`ensure_bridge` gives it the same
settings and, with them, the rule that nothing is forwarded from it to
anywhere else (:mod:`.isolation`): a bridge of ours never exists without it
for longer than the agent takes to notice.
"""

import json
import os

from oslo_log import log as logging

from mininova.network.linux import ip_lib, isolation

LOG = logging.getLogger(__name__)


def bridge_exists(name):
    return os.path.isdir(os.path.join(ip_lib.SYS_CLASS_NET, name, "bridge"))


# The forwarding entry that floods: "frames for any MAC I have not learned
# (and broadcasts: ARP, DHCP) go to this peer too".
FLOOD_MAC = "00:00:00:00:00:00"


def interfaces(bridge):
    """The devices plugged into ``bridge`` ([] when it does not exist)."""
    try:
        return sorted(os.listdir(os.path.join(ip_lib.SYS_CLASS_NET, bridge, "brif")))
    except OSError:
        return []


def bridge_of(device):
    """The bridge ``device`` is plugged into, or None."""
    try:
        return os.path.basename(os.readlink(
            os.path.join(ip_lib.SYS_CLASS_NET, device, "brport", "bridge")))
    except OSError:
        return None


def ensure_bridge(name, mtu=None):
    """The bridge, made if missing (no STP, no forwarding delay: ports
    forward at once, and no IPv6 of its own), up, and isolated."""
    if not bridge_exists(name):
        LOG.debug("Starting bridge %s", name)
        try:
            ip_lib.execute("ip", "link", "add", name, "type", "bridge",
                           "forward_delay", "0", "stp_state", "0")
        except Exception:
            # Made meanwhile by someone else (os-vif, the other agent)?
            if not bridge_exists(name):
                raise
        ip_lib.disable_ipv6(name)
        if mtu:
            ip_lib.set_mtu(name, mtu)
    ip_lib.set_up(name)
    isolation.ensure(name)
    return name


def add_interface(bridge, device):
    """Plug ``device`` into ``bridge`` (taking it out of another one)."""
    ip_lib.execute("ip", "link", "set", "dev", device, "master", bridge)


def delete_bridge(name):
    """Remove the bridge and its isolation rules (the devices plugged into
    it are left, unplugged: they belong to libvirt or the DHCP agent)."""
    if bridge_exists(name):
        LOG.debug("Deleting bridge %s", name)
        ip_lib.set_down(name)
        ip_lib.delete_device(name)
    isolation.remove(name)


# --- a VXLAN device's forwarding table (``bridge fdb``) --------------------------------

def flood_destinations(device):
    """The peer addresses ``device`` floods to (its all-zeros entries)."""
    out = ip_lib.execute("bridge", "-j", "fdb", "show", "dev", device)
    return sorted({entry["dst"] for entry in json.loads(out or "[]")
                   if entry.get("mac") == FLOOD_MAC and entry.get("dst")})


def add_flood_destination(device, peer_ip):
    """Frames to unknown MACs and broadcasts also go to ``peer_ip``
    (``append``: one all-zeros entry per peer, head-end replication)."""
    ip_lib.execute("bridge", "fdb", "append", FLOOD_MAC, "dev", device, "dst", peer_ip)


def delete_flood_destination(device, peer_ip):
    ip_lib.execute("bridge", "fdb", "del", FLOOD_MAC, "dev", device, "dst", peer_ip)
