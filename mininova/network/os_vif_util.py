"""Network info to os-vif objects (mirrors ``nova/network/os_vif_util.py``).

os-vif is the library Nova hands a VIF to for plugging; its linux_bridge
plugin makes sure the port's bridge exists (``brq…``), and logs the line a
student sees in Nova's compute log::

    Successfully plugged vif VIFBridge(active=False,address=fa:16:3e:…,
    bridge_name='brq…',has_traffic_filtering=True,id=<port>,network=Network(<net>),
    plugin='linux_bridge',port_profile=<?>,preserve_on_delete=False,vif_name='tap…')

libvirt then creates the tap device and adds it to that bridge itself.
"""

from os_vif import objects as os_vif_objects
from os_vif.objects import instance_info, network
from os_vif.objects import vif as vif_objects

from mininova.network import model

# The objects refer to each other by name (a VIF's Network, a Network's
# subnets): they must be registered before the first is made.
os_vif_objects.register_all()


def nova_to_osvif_instance(instance, name):
    return instance_info.InstanceInfo(uuid=instance["uuid"], name=name,
                                      project_id=instance["project_id"])


def nova_to_osvif_vif(vif):
    """The ``VIFBridge`` of a VIF of type ``bridge``."""
    if vif["type"] != "bridge":
        raise ValueError(f"unsupported VIF type {vif['type']!r} (only linux bridge)")
    bridge = vif["network"]["bridge"]
    return vif_objects.VIFBridge(
        id=vif["id"],
        address=vif["address"],
        network=network.Network(
            id=vif["network"]["id"], bridge=bridge, label=vif["network"]["label"],
            mtu=vif["network"].get("mtu"), should_provide_bridge=True,
            should_provide_vlan=False, bridge_interface=None, multi_host=False),
        plugin="linux_bridge",
        vif_name=vif.get("devname") or model.tap_name(vif["id"]),
        bridge_name=bridge,
        has_traffic_filtering=vif["details"].get("port_filter", True),
        preserve_on_delete=vif.get("preserve_on_delete", False),
        active=vif.get("active", False),
    )
