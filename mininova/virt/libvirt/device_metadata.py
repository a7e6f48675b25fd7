"""Device role tagging: which of the guest's devices the user tagged, and
where the guest finds them (mirrors ``_build_device_metadata``,
``_build_interface_metadata``, ``_build_disk_metadata`` and
``_prepare_device_bus`` of ``nova/virt/libvirt/driver.py``; the records
mirror ``nova/objects/virt_device_metadata.py``).

A user who boots with ``networks: [{"uuid": …, "tag": "nic1"}]`` or a
block device mapping with ``"tag": "db"`` (microversion 2.32, or 2.42+)
wants the guest to tell its NICs and disks apart by role rather than by
``eth1`` or ``vdc``, names the guest's kernel gives in an order of its own.
What identifies a device for sure is its bus address: so after defining
the domain, and before starting it, the driver reads the domain's XML
back from libvirt, which has given every device its PCI address by then
(``<address type='pci' domain='0x0000' bus='0x00' slot='0x03'
function='0x0'/>``), and records, for each tagged device:

    {"type": "nic", "mac": "fa:16:3e:…", "vf_trusted": False,
     "bus": {"type": "pci", "address": "0000:00:03.0"}, "tags": ["nic1"]}
    {"type": "disk", "serial": <volume id, or None for a local disk>,
     "bus": {"type": "pci", "address": "0000:00:05.0"}, "tags": ["db"]}

A NIC is matched by its MAC (the VIF's ``address``), a disk by its target
device (``vdb``, the mapping's ``device_name``), as Nova matches them. A
device nobody tagged is not recorded (Nova records an untagged NIC only
for its VLAN, which mininova's networks do not have). A disk that is not
on the PCI bus (a SCSI, IDE or USB disk, which mininova does not make) has
its bus and no address, as in Nova.

The list is kept on the instance (``device_metadata``, Nova's
``instance.device_metadata``): the driver sets it, the compute manager
saves it through the conductor with the rest of the instance after the
spawn, and the config drive, written between the define and the start
(Nova's ``_create_configdrive`` as ``post_xml_callback``), takes it from
the instance at once. ``mininova/api/metadata/base.py`` turns it into the
``devices`` of ``meta_data.json``.

Left out: devices tagged while the guest runs (an interface or a volume
attached with a tag, 2.49: Nova builds the list again then; here the tag
of a volume attached later is kept on its mapping but the list is not
rebuilt), a tagged root disk made from the image (not among the driver's
block devices), VLANs and trusted VFs (SR-IOV), shares (virtiofs).
"""

import xml.etree.ElementTree as ET

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def from_domain_xml(domain_xml, network_info, bdms):
    """The tagged devices of the domain ``domain_xml`` (libvirt's, with its
    addresses), or None when there are none (Nova's value then too)."""
    return build(guest_devices(domain_xml), network_info, bdms)


def build(devices, network_info, bdms):
    """The records of the tagged ones among ``devices`` (see
    :func:`guest_devices`): VIFs of ``network_info`` and block device mapping
    rows ``bdms`` that have a tag, found among the guest's devices."""
    tagged_vifs = {vif["address"]: vif for vif in network_info or [] if vif.get("tag")}
    tagged_bdms = {_strip_dev(bdm.get("device_name")): bdm for bdm in bdms or []
                   if bdm.get("tag")}
    records = []
    for device in devices:
        if device["kind"] == "interface":
            record = _interface_metadata(device, tagged_vifs)
        else:
            record = _disk_metadata(device, tagged_bdms)
        if record:
            records.append(record)
    return records or None


def guest_devices(domain_xml):
    """The domain's ``<interface>`` and ``<disk>`` elements, each as
    ``{"kind", "mac" (interface) or "target_dev" and "target_bus" (disk),
    "pci_address"}`` (Nova parses them into its LibvirtConfigGuest* objects)."""
    found = []
    for element in ET.fromstring(domain_xml).find("devices"):
        if element.tag == "interface":
            mac = element.find("mac")
            found.append({"kind": "interface",
                          "mac": mac.get("address") if mac is not None else None,
                          "pci_address": pci_address(element)})
        elif element.tag == "disk":
            target = element.find("target")
            found.append({"kind": "disk",
                          "target_dev": target.get("dev") if target is not None else None,
                          "target_bus": target.get("bus") if target is not None else None,
                          "pci_address": pci_address(element)})
    return found


def pci_address(element):
    """``0000:00:03.0`` for ``<address type='pci' domain='0x0000' bus='0x00'
    slot='0x03' function='0x0'/>``: the ``0x`` dropped, as lspci and
    ``/sys/bus/pci/devices`` write it. None when the device is not on the
    PCI bus (a drive address) or has no address (not defined yet)."""
    address = element.find("address")
    if address is None or address.get("type") != "pci":
        return None
    parts = [address.get(name, "0x0")[2:] for name in ("domain", "bus", "slot", "function")]
    return "%s:%s:%s.%s" % tuple(parts)


def _device_bus(device):
    """Nova's ``_prepare_device_bus``: the PCI bus with its address, or for
    a disk off the PCI bus the bus its target names (no address known)."""
    if device["pci_address"]:
        return {"type": "pci", "address": device["pci_address"]}
    if device["kind"] == "disk" and device.get("target_bus") in ("scsi", "ide", "usb"):
        return {"type": device["target_bus"]}
    return None


def _interface_metadata(device, tagged_vifs):
    vif = tagged_vifs.get(device["mac"])
    if vif is None:
        LOG.debug("No VIF found with MAC %s, not building metadata", device["mac"])
        return None
    record = {"type": "nic", "mac": vif["address"], "tags": [vif["tag"]],
              # No SR-IOV here: never a trusted VF (Nova records False too).
              "vf_trusted": False}
    bus = _device_bus(device)
    if bus:
        record["bus"] = bus
    return record


def _disk_metadata(device, tagged_bdms):
    bdm = tagged_bdms.get(device["target_dev"])
    if bdm is None:
        LOG.debug("No BDM found with device name %s, not building metadata.",
                  device["target_dev"])
        return None
    # The serial is the volume's id (None for a local disk): Nova finds a
    # detached volume's record by it.
    record = {"type": "disk", "serial": bdm.get("volume_id"), "tags": [bdm["tag"]]}
    bus = _device_bus(device)
    if bus:
        record["bus"] = bus
    return record


def _strip_dev(device_name):
    """``/dev/vdb`` → ``vdb`` (Nova's block_device.strip_dev)."""
    return device_name.rsplit("/", 1)[-1] if device_name else None
