"""Network devices, addresses and namespaces, through the ``ip`` command
(mirrors ``neutron/agent/linux/ip_lib.py``).

Every change is one ``ip ...`` command, logged at DEBUG by oslo.concurrency
("Running cmd (subprocess): ip link add ...") so a student can replay it
by hand. Reading what exists uses ``/sys/class/net`` and ``/run/netns``
where that is enough (it is instant), ``ip -j`` (JSON) otherwise.

Neutron runs these through privsep (pyroute2 in a privileged daemon); the
mininova agents run as root and call ``ip`` directly.
"""

import json
import os

from oslo_concurrency import processutils
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

SYS_CLASS_NET = "/sys/class/net"
NETNS_DIR = "/run/netns"


class DeviceNotFound(Exception):
    pass


def execute(*cmd, namespace=None, check_exit_code=True, env=None):
    """Run ``cmd`` (in ``namespace`` when given; with the environment
    ``env`` when given, else this process's); its standard output."""
    if namespace:
        cmd = ("ip", "netns", "exec", namespace, *cmd)
    out, _err = processutils.execute(*cmd, check_exit_code=check_exit_code,
                                     env_variables=env)
    return out


def _ip(*args, namespace=None):
    return execute("ip", *args, namespace=namespace)


# --- namespaces ---------------------------------------------------------------------

def namespace_exists(name):
    return os.path.exists(os.path.join(NETNS_DIR, name))


def ensure_namespace(name):
    """The namespace, made with its loopback up if it did not exist."""
    if not namespace_exists(name):
        _ip("netns", "add", name)
        _ip("link", "set", "lo", "up", namespace=name)


def delete_namespace(name):
    if namespace_exists(name):
        _ip("netns", "delete", name)


# --- devices --------------------------------------------------------------------------

def device_exists(name, namespace=None):
    if namespace is None:
        return os.path.exists(os.path.join(SYS_CLASS_NET, name))
    try:
        _ip("link", "show", "dev", name, namespace=namespace)
    except processutils.ProcessExecutionError:
        return False
    return True


def list_devices():
    """The names of the root namespace's network devices."""
    return os.listdir(SYS_CLASS_NET)


def ifindex(name):
    """The device's index: a device deleted and made again gets a new one."""
    try:
        with open(os.path.join(SYS_CLASS_NET, name, "ifindex")) as f:
            return int(f.read())
    except OSError:
        return None


IFF_UP = 0x1


def is_up(name):
    """Whether the root namespace's device is administratively up (its
    flags in sysfs: no ``ip`` process to ask)."""
    try:
        with open(os.path.join(SYS_CLASS_NET, name, "flags")) as f:
            return bool(int(f.read(), 16) & IFF_UP)
    except (OSError, ValueError):
        return False


def set_up(name, namespace=None):
    _ip("link", "set", "dev", name, "up", namespace=namespace)


def set_down(name, namespace=None):
    _ip("link", "set", "dev", name, "down", namespace=namespace)


def set_mac(name, mac, namespace=None):
    _ip("link", "set", "dev", name, "address", mac, namespace=namespace)


def set_mtu(name, mtu, namespace=None):
    _ip("link", "set", "dev", name, "mtu", str(mtu), namespace=namespace)


def delete_device(name, namespace=None):
    """Delete a device; one already gone is not an error."""
    if not device_exists(name, namespace):
        return
    try:
        _ip("link", "delete", "dev", name, namespace=namespace)
    except processutils.ProcessExecutionError:
        if device_exists(name, namespace):
            raise


def add_veth(name, peer, peer_namespace=None):
    """A veth pair: ``name`` in the root namespace, ``peer`` in ``peer_namespace``."""
    args = ["link", "add", name, "type", "veth", "peer", "name", peer]
    if peer_namespace:
        args += ["netns", peer_namespace]
    _ip(*args)


def add_vxlan(name, vni, local_ip, dstport, ttl=None, mtu=None):
    """A VXLAN device: frames put into it leave as UDP packets from
    ``local_ip`` to port ``dstport`` of the addresses in its forwarding
    table (see :mod:`.bridge_lib`'s fdb functions). It learns which remote
    MAC lives behind which host from what it receives (``learning``, the
    kernel's default), as Neutron's agent does without l2population."""
    args = ["link", "add", name, "type", "vxlan", "id", str(vni), "dstport", str(dstport),
            "local", local_ip]
    if ttl:
        args += ["ttl", str(ttl)]
    _ip(*args)
    if mtu:
        set_mtu(name, mtu)


def disable_ipv6(name):
    """No IPv6 on a device: a bridge or a tap must not get a link-local
    address and start answering or sending on the tenant's network."""
    path = f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6"
    if os.path.exists(path):
        with open(path, "w") as f:
            f.write("1")


# --- addresses and routes ---------------------------------------------------------------

def ipv4_addresses(name, namespace=None):
    """``["10.0.0.1/24", ...]`` on the device (raises DeviceNotFound)."""
    try:
        out = _ip("-j", "-4", "addr", "show", "dev", name, namespace=namespace)
    except processutils.ProcessExecutionError as exc:
        raise DeviceNotFound(name) from exc
    addresses = []
    for link in json.loads(out or "[]"):
        for info in link.get("addr_info", []):
            addresses.append(f"{info['local']}/{info['prefixlen']}")
    return addresses


def add_address(name, cidr, namespace=None):
    _ip("addr", "add", cidr, "dev", name, namespace=namespace)


def delete_address(name, cidr, namespace=None):
    _ip("addr", "del", cidr, "dev", name, namespace=namespace)


def ipv4_routes(namespace=None):
    """The main table's IPv4 routes: ``[{"dst": "10.0.0.0/24", "dev": ...}]``."""
    return json.loads(_ip("-j", "-4", "route", "show", namespace=namespace) or "[]")


def replace_default_route(gateway, device, namespace=None):
    _ip("route", "replace", "default", "via", gateway, "dev", device, namespace=namespace)
