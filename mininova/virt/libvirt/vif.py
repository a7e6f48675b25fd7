"""VIFs of a libvirt guest (mirrors ``nova/virt/libvirt/vif.py``).

For each VIF of the instance's network info: os-vif plugs it (the linux
bridge plugin makes the bridge), and the domain XML gets::

    <interface type='bridge'>
      <mac address='fa:16:3e:…'/>
      <source bridge='brq…'/>
      <target dev='tap…'/>
      <model type='virtio'/>
      <mtu size='1500'/>
    </interface>

so libvirt creates the tap with the port's name and adds it to the bridge,
where the network service's agent sees it appear and calls the port ACTIVE.

Left out: every other VIF type (OVS, vhost-user, SR-IOV...), bandwidth
quotas, multiqueue.
"""

import os
import sys

import os_vif
from oslo_log import log as logging

from mininova.conf import CONF
from mininova.network import os_vif_util

LOG = logging.getLogger(__name__)

_INITIALIZED = False


def initialize_os_vif():
    """Load os-vif's plugins once per process, with what its linux bridge
    plugin needs: a directory for its locks, and its privileged helper (a
    small root daemon, oslo.privsep) started from this virtualenv rather
    than through sudo, which a compute running as root does not need."""
    global _INITIALIZED
    if _INITIALIZED:
        return
    if not CONF.oslo_concurrency.lock_path:
        CONF.set_default("lock_path", os.path.join(CONF.state_path, "locks"),
                         group="oslo_concurrency")
    os_vif.initialize()
    CONF.set_default("helper_command", os.path.join(sys.prefix, "bin", "privsep-helper"),
                     group="vif_plug_linux_bridge_privileged")
    _INITIALIZED = True


def interface_config(vif):
    """What the domain XML says of one VIF (see config.GuestConfig)."""
    return {"mac": vif["address"], "bridge": vif["network"]["bridge"],
            "target": vif["devname"], "mtu": vif["network"].get("mtu") or 1500}


def plug(instance, instance_name, vif):
    initialize_os_vif()
    os_vif.plug(os_vif_util.nova_to_osvif_vif(vif),
                os_vif_util.nova_to_osvif_instance(instance, instance_name))


def unplug(instance, instance_name, vif):
    initialize_os_vif()
    try:
        os_vif.unplug(os_vif_util.nova_to_osvif_vif(vif),
                      os_vif_util.nova_to_osvif_instance(instance, instance_name))
    except Exception:
        # The guest is going away whatever happens here.
        LOG.warning("Failed to unplug vif %s", vif["id"], instance=instance, exc_info=True)
