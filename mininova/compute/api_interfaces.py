"""The compute API's network interfaces (mirrors ``attach_interface`` and
``detach_interface`` of ``nova/compute/api.py``).

Attaching is a call: the compute makes or takes the port, binds it, plugs
it into the guest and answers with its VIF. Detaching is a cast. Both
record an instance action; the server's states are checked, not changed.

A mixin of :class:`mininova.compute.api.API`, which gives it
``compute_rpcapi``; the compute side is :mod:`mininova.compute.networking`.
"""

from mininova import exception
from mininova.compute import instance_actions, vm_states
from mininova.compute.api_checks import check_instance_lock
from mininova.db import instance_actions as actions_db


class InterfaceAttachMixin:
    # --- network interfaces -------------------------------------------------------------

    @check_instance_lock
    def attach_interface(self, context, instance, network_id=None, port_id=None,
                         requested_ip=None):
        """A new port on ``network_id`` (or the port ``port_id``) plugged into
        the running or stopped guest; the compute answers with its VIF."""
        self._check_state(instance, instance_actions.ATTACH_INTERFACE,
                          vm_state=(vm_states.ACTIVE, vm_states.PAUSED, vm_states.STOPPED))
        actions_db.action_start(context, instance["uuid"], instance_actions.ATTACH_INTERFACE)
        return self.compute_rpcapi.attach_interface(context, instance, network_id, port_id,
                                                    requested_ip)

    @check_instance_lock
    def detach_interface(self, context, instance, port_id):
        self._check_state(instance, instance_actions.DETACH_INTERFACE,
                          vm_state=(vm_states.ACTIVE, vm_states.PAUSED, vm_states.STOPPED))
        if port_id not in {vif["id"] for vif in instance.get("network_info") or []}:
            raise exception.PortNotFound(port_id=port_id)
        actions_db.action_start(context, instance["uuid"], instance_actions.DETACH_INTERFACE)
        self.compute_rpcapi.detach_interface(context, instance, port_id)
