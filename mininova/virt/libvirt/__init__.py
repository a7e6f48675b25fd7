"""The libvirt driver (mirrors ``nova/virt/libvirt/``)."""

from mininova.virt.libvirt.driver import LibvirtDriver

__all__ = ["LibvirtDriver"]
