"""Client side of the conductor's RPC API (mirrors ``nova/conductor/rpcapi.py``).

Two clients on the ``conductor`` topic, as in Nova:

* :class:`ConductorAPI`: the database, for services that have none
  (compute). Every method is a *call*: the compute waits for the row.
* :class:`ComputeTaskAPI`: the long-running orchestration the API hands
  over: build, resize and cold migration (*casts*: the API answers 202
  without waiting).
"""

from mininova import rpc
from mininova.conf import CONF

TOPIC = "conductor"


class ConductorAPI:
    def __init__(self):
        self.client = rpc.RPCClient(TOPIC)

    def ping(self, ctxt, arg, timeout=None):
        """Whether a conductor answers (within ``timeout`` seconds)."""
        return self.client.prepare(timeout=timeout).call(ctxt, "ping", arg=arg)

    # services
    def service_register(self, ctxt, host, binary, topic):
        return self.client.call(ctxt, "service_register", host=host, binary=binary, topic=topic)

    def service_heartbeat(self, ctxt, service_id):
        # A beat is worth nothing once the next one is due: it waits no longer.
        client = self.client.prepare(timeout=CONF.report_interval)
        return client.call(ctxt, "service_heartbeat", service_id=service_id)

    def compute_node_update(self, ctxt, host, nodename, values):
        return self.client.call(ctxt, "compute_node_update", host=host, nodename=nodename,
                                values=values)

    # instances
    def instance_get_by_uuid(self, ctxt, instance_uuid):
        return self.client.call(ctxt, "instance_get_by_uuid", instance_uuid=instance_uuid)

    def instance_get_all_by_host(self, ctxt, host):
        return self.client.call(ctxt, "instance_get_all_by_host", host=host)

    def instance_update(self, ctxt, instance_uuid, updates, expected_task_state=None,
                        expected_vm_state=None):
        return self.client.call(ctxt, "instance_update", instance_uuid=instance_uuid,
                                updates=updates, expected_task_state=expected_task_state,
                                expected_vm_state=expected_vm_state)

    def instance_destroy(self, ctxt, instance_uuid):
        return self.client.call(ctxt, "instance_destroy", instance_uuid=instance_uuid)

    def instance_fault_create(self, ctxt, values):
        return self.client.call(ctxt, "instance_fault_create", values=values)

    def action_event_start(self, ctxt, instance_uuid, event, host):
        return self.client.call(ctxt, "action_event_start", instance_uuid=instance_uuid,
                                event=event, host=host)

    def action_event_finish(self, ctxt, instance_uuid, event, result, traceback=None):
        return self.client.call(ctxt, "action_event_finish", instance_uuid=instance_uuid,
                                event=event, result=result, traceback=traceback)

    def action_start(self, ctxt, instance_uuid, action):
        return self.client.call(ctxt, "action_start", instance_uuid=instance_uuid,
                                action=action)

    def migration_update(self, ctxt, migration_id, values):
        return self.client.call(ctxt, "migration_update", migration_id=migration_id,
                                values=values)

    def migrations_in_progress_by_host(self, ctxt, host):
        return self.client.call(ctxt, "migrations_in_progress_by_host", host=host)

    def instance_group_hosts(self, ctxt, group_uuid, exclude):
        return self.client.call(ctxt, "instance_group_hosts", group_uuid=group_uuid,
                                exclude=list(exclude))

    # block device mappings (mininova/db/block_devices.py's functions, by RPC)
    def block_device_mapping_get_all_by_instance(self, ctxt, instance_uuid):
        return self.client.call(ctxt, "block_device_mapping_get_all_by_instance",
                                instance_uuid=instance_uuid)

    def block_device_mapping_get_by_volume_and_instance(self, ctxt, volume_id, instance_uuid):
        return self.client.call(ctxt, "block_device_mapping_get_by_volume_and_instance",
                                volume_id=volume_id, instance_uuid=instance_uuid)

    def block_device_mapping_create(self, ctxt, values):
        return self.client.call(ctxt, "block_device_mapping_create", values=values)

    def block_device_mapping_update(self, ctxt, bdm_id, values):
        return self.client.call(ctxt, "block_device_mapping_update", bdm_id=bdm_id,
                                values=values)

    def block_device_mapping_destroy(self, ctxt, bdm_id):
        return self.client.call(ctxt, "block_device_mapping_destroy", bdm_id=bdm_id)


class ComputeTaskAPI:
    def __init__(self, publish_timeout=None):
        # publish_timeout: see rpc.RPCClient (the API gives its own, shorter).
        self.client = rpc.RPCClient(TOPIC, publish_timeout=publish_timeout)

    def schedule_and_build_instances(self, ctxt, request_spec, image):
        self.client.cast(ctxt, "schedule_and_build_instances",
                         request_spec=request_spec, image=image)

    def build_instances(self, ctxt, instance_uuid, request_spec, image, filter_properties):
        """A compute gives a build back to be scheduled elsewhere."""
        self.client.cast(ctxt, "build_instances", instance_uuid=instance_uuid,
                         request_spec=request_spec, image=image,
                         filter_properties=filter_properties)

    def migrate_server(self, ctxt, instance, flavor, request_spec):
        """Resize or cold-migrate: schedule a destination, then start the
        compute steps (a cast: the API answers 202 at once)."""
        self.client.cast(ctxt, "migrate_server", instance=instance, flavor=flavor,
                         request_spec=request_spec)
