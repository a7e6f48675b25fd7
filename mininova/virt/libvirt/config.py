"""The guest's libvirt XML (mirrors ``nova/virt/libvirt/config.py``).

Nova builds the domain XML from a tree of ``LibvirtConfig*`` objects; here
one :class:`GuestConfig` holds what a guest needs and :meth:`to_xml` writes
it with ElementTree, which escapes every text and attribute: a server named
``<script>`` stays text in the XML.

The result is what ``libvirt.xml`` in the instance directory shows::

    <domain type="qemu">                 kvm when the host has it
      <uuid>, <name>instance-00000001</name>, <memory> in KiB, <vcpu>
      <metadata>  mininova's own: name, flavor, owner, creation time, host
      <sysinfo type="smbios">            what dmidecode shows inside the guest
      <os> hvm, boot from the disk; <features> acpi, apic; <clock> utc
      <devices>
        <disk> qcow2 overlay on virtio (vda), cache=none; then the other
               disks (ephemeral, swap, volumes over NBD)
        <disk device="cdrom">            the config drive, when there is one
        <interface type="bridge">        one per port, on its brq… bridge
        <serial type="pty"> logged by virtlogd to console.log
        <console type="pty">             so `virsh console` works too
        <memballoon model="virtio">

Left out: NUMA, CPU pinning, graphics (VNC/SPICE), PCI passthrough, the
virtio RNG (Nova's ``hw_rng_model`` image property), watchdog.
"""

import dataclasses
import xml.etree.ElementTree as ET

MININOVA_NS = "http://mininova.dev/xmlns/libvirt/instance/1.0"
ET.register_namespace("mininova", MININOVA_NS)


@dataclasses.dataclass
class GuestConfig:
    virt_type: str
    uuid: str
    name: str
    memory_mb: int
    vcpus: int
    # The root disk's qcow2 overlay; None for a server booted from a volume
    # (its root is then the first of ``disks``, at vda).
    disk_path: str | None
    console_log_path: str
    disk_cache_mode: str = "none"
    # What <metadata> records, for people reading `virsh dumpxml`.
    display_name: str = ""
    creation_time: str = ""
    flavor: dict = dataclasses.field(default_factory=dict)
    user_id: str = ""
    project_id: str = ""
    image_id: str = ""
    host: str = ""
    package_version: str = ""
    # The config drive (an ISO), attached as a cdrom when there is one.
    config_drive_path: str | None = None
    # One {"mac", "bridge", "target", "mtu"} per VIF (see vif.interface_config).
    interfaces: list = dataclasses.field(default_factory=list)
    # The other disks, in order: ephemeral and swap files, volumes (see
    # disk_element for their keys).
    disks: list = dataclasses.field(default_factory=list)
    # "volume" when the root is a volume (recorded in <metadata>).
    root_type: str = "image"

    def to_xml(self):
        domain = ET.Element("domain", type=self.virt_type)
        _text(domain, "uuid", self.uuid)
        _text(domain, "name", self.name)
        _text(domain, "memory", str(self.memory_mb * 1024), unit="KiB")
        _text(domain, "vcpu", str(self.vcpus))
        domain.append(self._metadata())
        domain.append(self._sysinfo())
        domain.append(self._os())
        features = ET.SubElement(domain, "features")
        ET.SubElement(features, "acpi")
        ET.SubElement(features, "apic")
        if self.virt_type == "kvm":
            # Give the guest the host's CPU model; TCG emulates its own.
            ET.SubElement(domain, "cpu", mode="host-model")
        clock = ET.SubElement(domain, "clock", offset="utc")
        ET.SubElement(clock, "timer", name="pit", tickpolicy="delay")
        ET.SubElement(clock, "timer", name="rtc", tickpolicy="catchup")
        _text(domain, "on_poweroff", "destroy")
        _text(domain, "on_reboot", "restart")
        _text(domain, "on_crash", "destroy")
        domain.append(self._devices())
        ET.indent(domain)
        return ET.tostring(domain, encoding="unicode") + "\n"

    def _metadata(self):
        metadata = ET.Element("metadata")
        instance = ET.SubElement(metadata, _ns("instance"))
        ET.SubElement(instance, _ns("package"), version=self.package_version)
        _text(instance, _ns("name"), self.display_name)
        _text(instance, _ns("creationTime"), self.creation_time)
        flavor = ET.SubElement(instance, _ns("flavor"), name=self.flavor.get("name", ""))
        for field in ("memory_mb", "root_gb", "swap", "ephemeral_gb", "vcpus"):
            tag = {"memory_mb": "memory", "root_gb": "disk", "ephemeral_gb": "ephemeral"}.get(
                field, field)
            _text(flavor, _ns(tag), str(self.flavor.get(field, 0)))
        owner = ET.SubElement(instance, _ns("owner"))
        _text(owner, _ns("user"), self.user_id, uuid=self.user_id)
        _text(owner, _ns("project"), self.project_id, uuid=self.project_id)
        ET.SubElement(instance, _ns("root"), type=self.root_type, uuid=self.image_id)
        # Which compute service owns this guest, when several share a libvirtd.
        _text(instance, _ns("host"), self.host)
        return metadata

    def _sysinfo(self):
        sysinfo = ET.Element("sysinfo", type="smbios")
        system = ET.SubElement(sysinfo, "system")
        for name, value in (("manufacturer", "mininova"), ("product", "OpenStack Nova"),
                            ("version", self.package_version), ("serial", self.uuid),
                            ("uuid", self.uuid), ("family", "Virtual Machine")):
            _text(system, "entry", value, name=name)
        return sysinfo

    def _os(self):
        os_element = ET.Element("os")
        _text(os_element, "type", "hvm")
        ET.SubElement(os_element, "boot", dev="hd")
        ET.SubElement(os_element, "smbios", mode="sysinfo")
        return os_element

    def _devices(self):
        devices = ET.Element("devices")
        if self.disk_path:
            devices.append(disk_element({"type": "file", "path": self.disk_path,
                                         "format": "qcow2", "dev": "vda",
                                         "cache": self.disk_cache_mode}))
        for disk in self.disks:
            devices.append(disk_element(dict({"cache": self.disk_cache_mode}, **disk)))
        if self.config_drive_path:
            devices.append(self._config_drive())
        for interface in self.interfaces:
            devices.append(_interface(interface))
        serial = ET.SubElement(devices, "serial", type="pty")
        ET.SubElement(serial, "log", file=self.console_log_path, append="off")
        console = ET.SubElement(devices, "console", type="pty")
        ET.SubElement(console, "target", type="serial", port="0")
        balloon = ET.SubElement(devices, "memballoon", model="virtio")
        ET.SubElement(balloon, "stats", period="10")
        return devices


    def _config_drive(self):
        # The last IDE device, as Nova's disk mapping puts it on the pc
        # machine type; the guest finds it by its label, config-2.
        cdrom = ET.Element("disk", type="file", device="cdrom")
        ET.SubElement(cdrom, "driver", name="qemu", type="raw")
        ET.SubElement(cdrom, "source", file=self.config_drive_path)
        ET.SubElement(cdrom, "target", dev="hdd", bus="ide")
        ET.SubElement(cdrom, "readonly")
        return cdrom


def _interface(interface):
    element = ET.Element("interface", type="bridge")
    ET.SubElement(element, "mac", address=interface["mac"])
    ET.SubElement(element, "source", bridge=interface["bridge"])
    # The tap gets the port's name: the network service's agent finds it so.
    ET.SubElement(element, "target", dev=interface["target"])
    ET.SubElement(element, "model", type="virtio")
    ET.SubElement(element, "mtu", size=str(interface["mtu"]))
    return element


def disk_element(disk):
    """One <disk>. ``disk`` is a dict: ``dev`` (vdb), ``bus`` (virtio),
    ``cache``, and either ``type: file`` with ``path`` and ``format`` (an
    ephemeral or swap file), or ``type: network`` with ``protocol`` (nbd),
    ``name`` (the export), ``hosts``, ``ports`` and ``serial`` (a volume:
    Nova's ``LibvirtNetVolumeDriver``). A volume is always read as raw:
    QEMU must never probe a header the guest wrote."""
    element = ET.Element("disk", type=disk["type"], device=disk.get("device") or "disk")
    if disk["type"] == "file":
        ET.SubElement(element, "driver", name="qemu", type=disk["format"],
                      cache=disk.get("cache") or "none")
        ET.SubElement(element, "source", file=disk["path"])
    else:
        # cache=none on a network disk is QEMU's O_DIRECT-free "no host
        # cache": the export's file is opened by qemu-storage-daemon.
        ET.SubElement(element, "driver", name="qemu", type="raw", cache="none",
                      discard="unmap")
        source = ET.SubElement(element, "source", protocol=disk["protocol"],
                               name=disk["name"])
        for host, port in zip(disk["hosts"], disk["ports"], strict=True):
            ET.SubElement(source, "host", name=str(host), port=str(port))
    ET.SubElement(element, "target", dev=disk["dev"], bus=disk.get("bus") or "virtio")
    if disk.get("serial"):
        _text(element, "serial", disk["serial"])
    return element


def disk_xml(disk):
    """One <disk> alone, for attaching to (or detaching from) a guest."""
    return ET.tostring(disk_element(disk), encoding="unicode")


def _ns(tag):
    return f"{{{MININOVA_NS}}}{tag}"


def _text(parent, tag, text, **attributes):
    element = ET.SubElement(parent, tag, **attributes)
    element.text = text
    return element


def interface_xml(interface):
    """One <interface> alone, for attaching to (or detaching from) a guest."""
    return ET.tostring(_interface(interface), encoding="unicode")
