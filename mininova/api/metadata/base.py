"""An instance's metadata, as files (mirrors ``nova/api/metadata/base.py``).

In Nova the same content reaches the guest two ways: written to the
config drive (``disk.config``, an ISO with label ``config-2``) or served by
the metadata service at ``http://169.254.169.254/openstack/latest/…``
(through the network service's metadata proxy, see
``mininova/api/metadata/handler.py``). CirrOS (and the
tiny image) read ``meta_data.json`` for their hostname and SSH keys, run
``user_data`` when it is a script, and may read ``network_data.json``.

``devices`` in ``meta_data.json`` lists the devices the user tagged (device
role tagging, microversions 2.32 and 2.42+) with the address the guest
finds each at, as the driver recorded them on the instance
(``mininova/virt/libvirt/device_metadata.py``); :func:`devices` gives them
the guest's shape, Nova's ``_get_device_metadata``::

    {"type": "nic", "bus": "pci", "address": "0000:00:03.0",
     "mac": "fa:16:3e:…", "vf_trusted": false, "tags": ["nic1"]}
    {"type": "disk", "bus": "pci", "address": "0000:00:05.0",
     "serial": "<volume id>", "tags": ["db"]}

:meth:`InstanceMetadata.lookup` answers the metadata API's requests
(``mininova/api/metadata/handler.py``) from the same files: ``/openstack``
lists the versions, ``/openstack/latest`` the files, and each file is
itself, JSON ones as ``application/json``.

Left out: the EC2 tree (``ec2/…`` and the listing of its versions at
``/``), dated versions other than ``latest``, password, ``openstack/content``
(injected files).
"""

import base64
import ipaddress
import json
import os
import posixpath

from mininova.conf import CONF

VERSION = "latest"
MIME_TYPE_TEXT_PLAIN = "text/plain"
MIME_TYPE_APPLICATION_JSON = "application/json"


class InvalidMetadataPath(Exception):
    """A path the metadata tree does not have (the API answers 404)."""


class InstanceMetadata:
    """The metadata of one instance, given its row and its network info."""

    def __init__(self, instance, network_info=None):
        self.instance = instance
        self.network_info = network_info or []

    def files(self):
        """``{path in the tree: bytes}``, e.g. ``openstack/latest/meta_data.json``."""
        base = f"openstack/{VERSION}"
        files = {
            f"{base}/meta_data.json": _json(self.meta_data()),
            f"{base}/network_data.json": _json(network_data(self.network_info)),
            f"{base}/vendor_data.json": _json({}),
            f"{base}/vendor_data2.json": _json({}),
        }
        user_data = self.user_data()
        if user_data is not None:
            files[f"{base}/user_data"] = user_data
        return files

    def lookup(self, path):
        """``(body, content type)`` of ``path`` in the metadata tree, as the
        metadata API serves it; InvalidMetadataPath where there is nothing."""
        tokens = [token for token in posixpath.normpath("/" + path).split("/") if token]
        if tokens == ["openstack"]:
            return VERSION.encode(), MIME_TYPE_TEXT_PLAIN
        if len(tokens) < 2 or tokens[:2] != ["openstack", VERSION]:
            raise InvalidMetadataPath(path)
        if len(tokens) == 2:
            # Nova's order: meta_data.json, user_data (when there is one), then
            # the other files.
            names = ["meta_data.json"] + (["user_data"] if self.user_data() else [])
            names += ["vendor_data.json", "network_data.json", "vendor_data2.json"]
            return "\n".join(names).encode(), MIME_TYPE_TEXT_PLAIN
        body = self.files().get("/".join(tokens))
        if body is None:
            raise InvalidMetadataPath(path)
        json_file = tokens[-1].endswith(".json")
        return body, MIME_TYPE_APPLICATION_JSON if json_file else MIME_TYPE_TEXT_PLAIN

    def meta_data(self):
        instance = self.instance
        data = {
            "uuid": instance["uuid"],
            "name": instance["display_name"],
            "hostname": self.hostname(),
            "launch_index": instance.get("launch_index") or 0,
            "availability_zone": instance.get("availability_zone")
            or CONF.default_availability_zone,
            "project_id": instance["project_id"],
            "meta": instance.get("metadata") or {},
            "devices": devices(instance.get("device_metadata")),
            # A guest without a hardware RNG seeds its entropy from this.
            "random_seed": base64.b64encode(os.urandom(512)).decode(),
        }
        if instance.get("key_name") and instance.get("key_data"):
            data["public_keys"] = {instance["key_name"]: instance["key_data"]}
            data["keys"] = [{"name": instance["key_name"], "type": "ssh",
                             "data": instance["key_data"]}]
        return data

    def hostname(self):
        """``vm1.novalocal``: the instance's hostname and ``[api] dhcp_domain``."""
        hostname = self.instance.get("hostname") or "server"
        return f"{hostname}.{CONF.api.dhcp_domain}" if CONF.api.dhcp_domain else hostname

    def user_data(self):
        """The user data, decoded: the API stores what the user sent, base64."""
        if not self.instance.get("user_data"):
            return None
        return base64.b64decode(self.instance["user_data"])


# The buses a device's record may name; one of another kind is not shown.
KNOWN_BUSES = ("pci", "usb", "scsi", "ide", "xen")


def devices(device_metadata):
    """The ``devices`` of ``meta_data.json``: each recorded device in the
    guest's shape (this is the guest's API, so its keys are chosen here,
    not by how the driver records them, as in Nova). A device without a
    known bus says ``"none"`` for bus and address."""
    shown = []
    for device in device_metadata or []:
        bus = device.get("bus") or {}
        if bus and bus.get("type") not in KNOWN_BUSES:
            continue
        if device.get("type") == "nic":
            entry = {"type": "nic", "mac": device["mac"],
                     "vf_trusted": device.get("vf_trusted", False)}
            if device.get("vlan") is not None:
                entry["vlan"] = device["vlan"]
        elif device.get("type") == "disk":
            entry = {"type": "disk"}
            entry.update({key: device[key] for key in ("serial", "path") if key in device})
        else:
            continue
        entry["bus"] = bus.get("type", "none")
        entry["address"] = bus.get("address", "none")
        if "tags" in device:
            entry["tags"] = device["tags"]
        shown.append(entry)
    return shown


def network_data(network_info):
    """``network_data.json``: Nova's links (one per VIF), networks (one per
    subnet of a VIF) and services (the DNS servers)."""
    links, networks, services = [], [], []
    for vif in network_info:
        links.append({"id": vif["devname"], "vif_id": vif["id"], "type": vif["type"],
                      "ethernet_mac_address": vif["address"],
                      "mtu": vif["network"].get("mtu") or 1500})
        for subnet in vif["network"]["subnets"]:
            for ip in subnet["ips"]:
                networks.append(_network_entry(len(networks), vif, subnet, ip))
            for server in subnet.get("dns", []):
                if {"type": "dns", "address": server} not in services:
                    services.append({"type": "dns", "address": server})
    return {"links": links, "networks": networks, "services": services}


def _network_entry(index, vif, subnet, ip):
    cidr = ipaddress.ip_network(subnet["cidr"])
    routes = []
    if subnet.get("gateway"):
        routes.append({"network": "0.0.0.0", "netmask": "0.0.0.0",
                       "gateway": subnet["gateway"]})
    return {"id": f"network{index}", "link": vif["devname"],
            "network_id": vif["network"]["id"],
            "type": "ipv4_dhcp" if subnet.get("enable_dhcp", True) else "ipv4",
            "ip_address": ip["address"], "netmask": str(cidr.netmask), "routes": routes}


def _json(value):
    return json.dumps(value, sort_keys=True).encode()
