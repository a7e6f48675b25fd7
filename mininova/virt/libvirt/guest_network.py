"""A libvirt guest's network: its VIFs plugged, the guest started once its
ports are up, interfaces added and removed while it runs (mirrors the
network parts of ``nova/virt/libvirt/driver.py``: ``_create_guest_with_network``,
``_neutron_failed_callback``, ``attach_interface``, ``detach_interface``).

A mixin of :class:`~mininova.virt.libvirt.driver.LibvirtDriver`, as
cold_migration.py is; the VIF itself (os-vif plugging, the <interface>
element) is in vif.py.
"""

import os

import libvirt
from oslo_log import log as logging

from mininova import exception
from mininova.conf import CONF
from mininova.virt.libvirt import config as vconfig
from mininova.virt.libvirt import vif as libvirt_vif

LOG = logging.getLogger(__name__)


class GuestNetworkMixin:
    def _domain_name(self, instance):
        return CONF.instance_name_template % instance["id"]

    def _plug_vifs(self, instance, network_info):
        for vif in network_info:
            libvirt_vif.plug(instance, self._domain_name(instance), vif)

    def _unplug_vifs(self, instance, network_info):
        for vif in network_info:
            libvirt_vif.unplug(instance, self._domain_name(instance), vif)

    def _create_domain_and_network(self, instance, xml, network_info,
                                   post_xml_callback=None):
        """Start the guest, and when its ports are not up yet, wait for the
        network service to say they are (``network-vif-plugged``) before
        letting it run: the guest is created paused, so that its first DHCP
        request does not go out before its port is wired (Nova does the same).
        ``post_xml_callback(domain)`` runs between the define and the start."""
        timeout = CONF.vif_plugging_timeout
        events = [("network-vif-plugged", vif["id"]) for vif in network_info
                  if not vif.get("active")] if timeout else []
        if not events:
            return self._create_domain(xml, post_xml_callback=post_xml_callback)
        with self.virtapi.wait_for_instance_event(instance, events, timeout,
                                                  self._neutron_failed_callback):
            domain = self._create_domain(xml, pause=True, post_xml_callback=post_xml_callback)
        domain.resume()
        return domain

    def _create_domain(self, xml, pause=False, post_xml_callback=None):
        """Define the domain, then (Nova's ``_create_guest``) let
        ``post_xml_callback`` see it defined, then start it."""
        domain = self._host.get_connection().defineXML(xml)
        try:
            if post_xml_callback is not None:
                post_xml_callback(domain)
            domain.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED if pause else 0)
        except Exception:
            # A defined domain that never started is still a leak.
            domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
            raise
        return domain

    def attach_interface(self, context, instance, vif):
        """Plug the VIF, then add its <interface> to the guest (live when it
        runs) and to its definition, and keep libvirt.xml in step."""
        domain = self._host.lookup(instance["uuid"])
        if domain is None:
            raise exception.InstanceNotFound(instance_id=instance["uuid"])
        libvirt_vif.plug(instance, self._domain_name(instance), vif)
        domain.attachDeviceFlags(vconfig.interface_xml(libvirt_vif.interface_config(vif)),
                                 _affect(domain))
        self._rewrite_xml_file(domain, instance)

    def detach_interface(self, context, instance, vif):
        domain = self._host.lookup(instance["uuid"])
        if domain is not None:
            domain.detachDeviceFlags(vconfig.interface_xml(libvirt_vif.interface_config(vif)),
                                     _affect(domain))
            self._rewrite_xml_file(domain, instance)
        libvirt_vif.unplug(instance, self._domain_name(instance), vif)

    def _rewrite_xml_file(self, domain, instance):
        """libvirt.xml says what the domain is now (for people to read)."""
        with open(os.path.join(self._instance_dir(instance), "libvirt.xml"), "w") as f:
            f.write(domain.XMLDesc(0))

    def _neutron_failed_callback(self, event_name, instance):
        LOG.warning("Timeout waiting for vif plugging callback for instance %(uuid)s",
                    {"uuid": instance["uuid"]}, instance=instance)
        if CONF.vif_plugging_is_fatal:
            # The domain was made paused: it goes with the build's clean-up.
            raise exception.VirtualInterfaceCreateException()


def _affect(domain):
    """A device change applies to the definition, and to the guest too
    when it runs."""
    flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
    if domain.isActive():
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    return flags
