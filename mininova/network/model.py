"""An instance's network info: what Nova caches about its ports (mirrors
``nova/network/model.py``).

A list of VIFs, one per port, as plain dicts (Nova has classes; the shape
is the same, and it travels over RPC and is stored as JSON in the
``instance_info_caches`` row)::

    {"id": <port id>, "address": "fa:16:3e:…", "type": "bridge",
     "devname": "tap<port id[:11]>", "active": False, "preserve_on_delete": False,
     "tag": None, "details": {"port_filter": True},
     "network": {"id": <network id>, "label": <network name>, "bridge": "brq…",
                 "mtu": 1500,
                 "subnets": [{"cidr": "10.0.0.0/24", "gateway": "10.0.0.1",
                              "dns": ["10.0.0.1"], "enable_dhcp": True,
                              "ips": [{"address": "10.0.0.5", "type": "fixed"}]}]}}

``tag`` is the device role tag the user gave the NIC at boot
(``networks: [{"uuid": …, "tag": "nic1"}]``, microversions 2.32–2.36 and
2.42+). Nova keeps it in a table of its own, ``virtual_interfaces`` (one
row per port: uuid = port id, address = MAC, network, instance, tag),
which its libvirt driver reads to build the device metadata. mininova has
no such table: the VIF already has the port id, the MAC and the network,
and is saved with the instance, so the tag rides on it. The network
service knows nothing of it (Neutron neither), so a VIF read again from its
port takes the tag from the cached one, as ``preserve_on_delete``.

A build's ports are made while its disks are (``NetworkInfoAsyncWrapper``):
the driver waits for them only when the domain XML needs them.

Left out: floating IPs, IPv6, VLAN/VNIC types, QoS, trusted VFs.
"""

import ipaddress

NIC_NAME_LEN = 14  # Linux allows 15; Neutron and Nova use tap + 11 characters


def tap_name(port_id):
    return f"tap{port_id}"[:NIC_NAME_LEN]


def bridge_name(network_id):
    return f"brq{network_id}"[:NIC_NAME_LEN]


def vif_from_port(port, network, subnets, preserve_on_delete=False, tag=None):
    """The VIF of a bound port, from the network service's records (and,
    for ``preserve_on_delete`` and ``tag``, from what Nova itself knows)."""
    by_id = {subnet["id"]: subnet for subnet in subnets}
    vif_subnets = {}
    for fixed_ip in port.get("fixed_ips", []):
        subnet = by_id.get(fixed_ip["subnet_id"])
        if subnet is None:
            continue
        entry = vif_subnets.setdefault(subnet["id"], {
            "cidr": subnet["cidr"], "gateway": subnet.get("gateway_ip"),
            "dns": list(subnet.get("dns_nameservers") or []),
            "enable_dhcp": subnet.get("enable_dhcp", True), "ips": []})
        entry["ips"].append({"address": fixed_ip["ip_address"], "type": "fixed"})
    details = port.get("binding:vif_details") or {}
    return {
        "id": port["id"],
        "address": port["mac_address"],
        "type": port.get("binding:vif_type") or "bridge",
        "devname": tap_name(port["id"]),
        "active": port.get("status") == "ACTIVE",
        "preserve_on_delete": preserve_on_delete,
        "tag": tag,
        "details": {"port_filter": details.get("port_filter", True)},
        "network": {
            "id": network["id"], "label": network["name"],
            "bridge": details.get("bridge_name") or bridge_name(network["id"]),
            "mtu": network.get("mtu") or 1500,
            "subnets": list(vif_subnets.values()),
        },
    }


class NetworkInfoAsyncWrapper:
    """The network info of a build whose ports are still being made and
    bound in the background (Nova's class of the same name). The driver
    creates the instance's disks meanwhile and calls :meth:`wait` when it
    needs the VIFs: to plug them and to write the domain XML."""

    def __init__(self, future):
        self._future = future

    def wait(self):
        """The VIFs; raises what the allocation raised."""
        return self._future.result()


def wait(network_info):
    """The VIFs of ``network_info``: a list, or a build's
    :class:`NetworkInfoAsyncWrapper` (waited for)."""
    if isinstance(network_info, NetworkInfoAsyncWrapper):
        return network_info.wait()
    return network_info


def fixed_ips(vif):
    return [ip for subnet in vif["network"]["subnets"] for ip in subnet["ips"]]


def addresses(network_info):
    """The ``addresses`` of the server view: by network name, each fixed IP
    with its MAC (Nova's shape)."""
    shown = {}
    for vif in network_info or []:
        entries = shown.setdefault(vif["network"]["label"], [])
        for ip in fixed_ips(vif):
            entries.append({"version": ipaddress.ip_address(ip["address"]).version,
                            "addr": ip["address"], "OS-EXT-IPS:type": ip["type"],
                            "OS-EXT-IPS-MAC:mac_addr": vif["address"]})
    return shown
