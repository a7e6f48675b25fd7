"""Small helpers shared by the server and the agents (mirrors parts of
``neutron/common/utils.py`` and of the linux bridge agent's
``get_bridge_name`` / ``get_tap_device_name``).

The device names are the contract between three parties that never talk
about them: the server (which puts ``bridge_name`` in a port's
``binding:vif_details``), Nova (whose libvirt XML names the tap) and the L2
agent (which finds the port again from the tap's name alone). They are all
derived from the ids, the same way everywhere.
"""

import random
import uuid

from mininova.network import constants


def get_random_mac(base_mac):
    """A MAC with ``base_mac``'s first three octets and three random ones:
    ``fa:16:3e:xx:xx:xx`` with Neutron's default base.

    ``fa`` has the locally-administered bit set and the multicast bit clear,
    so no vendor's card can own such an address and it is a valid unicast
    source for a guest.
    """
    prefix = base_mac.lower().split(":")[:3]
    return ":".join(prefix + [f"{random.randint(0, 255):02x}" for _ in range(3)])


def bridge_name(network_id):
    """``brq`` + the network id's first 11 characters."""
    return constants.BRIDGE_NAME_PREFIX + network_id[:constants.RESOURCE_ID_LENGTH]


def vxlan_device_name(vni):
    """``vxlan-<VNI>`` (at most 14 characters: a VNI has 8 digits or fewer)."""
    return f"{constants.VXLAN_DEVICE_PREFIX}{vni}"


def tap_device_name(port_id):
    """``tap`` + the port id's first 11 characters (what Nova names the
    guest's tap, and the root end of the DHCP port's veth)."""
    return constants.TAP_DEVICE_PREFIX + port_id[:constants.RESOURCE_ID_LENGTH]


def dhcp_ns_device_name(port_id):
    """``ns-`` + the port id's first 11 characters: the DHCP port's veth end
    inside the qdhcp- namespace."""
    return constants.DHCP_NS_DEVICE_PREFIX + port_id[:constants.RESOURCE_ID_LENGTH]


def port_id_prefix(device_name):
    """What a device's name tells of its port's id (the L2 agent's only clue)."""
    for prefix in (constants.TAP_DEVICE_PREFIX, constants.DHCP_NS_DEVICE_PREFIX):
        if device_name.startswith(prefix):
            return device_name[len(prefix):]
    return None


def dhcp_namespace(network_id):
    return constants.DHCP_NAMESPACE_PREFIX + network_id


def dhcp_device_id(network_id, host):
    """The DHCP port's device_id: ``dhcp<uuid5 of the host name>-<network id>``.

    It names the host, so that a DHCP agent restarting finds its own port
    again instead of making a second one.
    """
    host_uuid = uuid.uuid5(uuid.NAMESPACE_DNS, host.split(".")[0])
    return f"dhcp{host_uuid}-{network_id}"


def dns_hostname(ip_address):
    """``host-10-0-0-5`` for 10.0.0.5: the name Neutron gives a port that has
    no ``dns_name`` of its own."""
    return constants.HOSTNAME_PREFIX + ip_address.replace(".", "-").replace(":", "-")


def is_compute_port(port):
    """A port a Nova server uses: Nova's device_owner and a server's uuid."""
    device_id = port.get("device_id") or ""
    owner = port.get("device_owner") or ""
    return owner.startswith(constants.DEVICE_OWNER_COMPUTE_PREFIX) and _is_uuid(device_id)


def _is_uuid(value):
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True
