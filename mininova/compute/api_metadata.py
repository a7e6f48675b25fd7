"""The compute API's server metadata (mirrors ``update_instance_metadata``,
``delete_instance_metadata`` and their ``check_instance_state`` of
``nova/compute/api.py``).

Metadata is the database's alone: nothing is cast, no host is needed, the
row changes. It changes only while nothing else happens to the server (a
settled vm_state, no task: 409 otherwise), and the result stays within the
project's ``metadata_items`` quota (403).

A mixin of :class:`mininova.compute.api.API`.

Left out: the metadata update notification Nova sends to the compute
(``change_instance_metadata``) for drivers that use it.
"""

from mininova import exception, quota
from mininova.compute import vm_states
from mininova.db import api as db


class MetadataMixin:
    # --- metadata ------------------------------------------------------------------

    # A server's metadata changes only while nothing else is happening to it.
    METADATA_VM_STATES = (vm_states.ACTIVE, vm_states.PAUSED, vm_states.SUSPENDED,
                          vm_states.STOPPED)

    def update_instance_metadata(self, context, instance, metadata, delete=False):
        """Merge ``metadata`` into the server's, or with ``delete`` replace
        it; the result must stay within ``metadata_items`` (403). Returns
        the server's metadata as it now is."""
        self._check_metadata_state(instance, "update metadata")
        return db.instance_metadata_update(
            context, instance["uuid"], metadata, delete=delete,
            max_items=quota.metadata_items_limit(context, instance["project_id"]))

    def delete_instance_metadata(self, context, instance, key):
        self._check_metadata_state(instance, "delete metadata")
        db.instance_metadata_update(context, instance["uuid"], {key: None})

    def _check_metadata_state(self, instance, action):
        """Nova's check_instance_state for metadata: any settled state,
        no task running (409 otherwise). No host is needed: nothing is
        cast, the row alone changes."""
        for attr, allowed in (("vm_state", self.METADATA_VM_STATES), ("task_state", (None,))):
            if instance[attr] not in allowed:
                raise exception.InstanceInvalidState(
                    action=action, server_id=instance["uuid"], attr=attr,
                    state=instance[attr])
