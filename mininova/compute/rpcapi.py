"""Client side of the compute's RPC API (mirrors ``nova/compute/rpcapi.py``).

Everything goes to ``compute.<host>``: only the compute that owns the
instance may act on it (a resize walks between its source and destination
hosts). Actions are casts (the caller does not wait);
questions that return data (console output, the image cache) are calls.
"""

from mininova import rpc
from mininova.conf import CONF

TOPIC = "compute"


class ComputeAPI:
    def __init__(self, publish_timeout=None):
        # publish_timeout: see rpc.RPCClient (the API gives its own, shorter).
        self.client = rpc.RPCClient(TOPIC, publish_timeout=publish_timeout)

    def build_and_run_instance(self, ctxt, instance, host, image, request_spec,
                               filter_properties, node=None, limits=None,
                               block_device_mapping=None):
        """``block_device_mapping``: the instance's rows, as the conductor
        read them (None: the compute reads them through the conductor)."""
        self.client.prepare(server=host).cast(
            ctxt, "build_and_run_instance", instance=instance, image=image,
            request_spec=request_spec, filter_properties=filter_properties,
            node=node, limits=limits, block_device_mapping=block_device_mapping)

    def terminate_instance(self, ctxt, instance):
        self.client.prepare(server=instance["host"]).cast(
            ctxt, "terminate_instance", instance=instance)

    # --- actions on the instance's own host ---------------------------------------

    def _cast_to_owner(self, ctxt, method, instance, **kwargs):
        self.client.prepare(server=instance["host"]).cast(ctxt, method, instance=instance,
                                                          **kwargs)

    def stop_instance(self, ctxt, instance, clean_shutdown=True):
        self._cast_to_owner(ctxt, "stop_instance", instance, clean_shutdown=clean_shutdown)

    def start_instance(self, ctxt, instance):
        self._cast_to_owner(ctxt, "start_instance", instance)

    def reboot_instance(self, ctxt, instance, reboot_type):
        self._cast_to_owner(ctxt, "reboot_instance", instance, reboot_type=reboot_type)

    def pause_instance(self, ctxt, instance):
        self._cast_to_owner(ctxt, "pause_instance", instance)

    def unpause_instance(self, ctxt, instance):
        self._cast_to_owner(ctxt, "unpause_instance", instance)

    def suspend_instance(self, ctxt, instance):
        self._cast_to_owner(ctxt, "suspend_instance", instance)

    def resume_instance(self, ctxt, instance):
        self._cast_to_owner(ctxt, "resume_instance", instance)

    def trigger_crash_dump(self, ctxt, instance):
        self._cast_to_owner(ctxt, "trigger_crash_dump", instance)

    def snapshot_instance(self, ctxt, instance, image_id):
        self._cast_to_owner(ctxt, "snapshot_instance", instance, image_id=image_id)

    def rebuild_instance(self, ctxt, instance, image):
        self._cast_to_owner(ctxt, "rebuild_instance", instance, image=image)

    # --- resize and cold migration: each step casts to the host of the next ----------

    def prep_resize(self, ctxt, instance, flavor, image, migration, dest_host, limits):
        """Destination first: claim the new flavor's resources."""
        self.client.prepare(server=dest_host).cast(
            ctxt, "prep_resize", instance=instance, flavor=flavor, image=image,
            migration=migration, limits=limits)

    def resize_instance(self, ctxt, instance, flavor, migration, image):
        """Then the source: power off and set the disk aside."""
        self.client.prepare(server=migration["source_compute"]).cast(
            ctxt, "resize_instance", instance=instance, flavor=flavor, migration=migration,
            image=image)

    def finish_resize(self, ctxt, instance, migration, disk_info, image):
        """Then the destination again: fetch the disk, start the guest."""
        self.client.prepare(server=migration["dest_compute"]).cast(
            ctxt, "finish_resize", instance=instance, migration=migration,
            disk_info=disk_info, image=image)

    def confirm_resize(self, ctxt, instance, migration, source_host):
        self.client.prepare(server=source_host).cast(
            ctxt, "confirm_resize", instance=instance, migration=migration)

    def revert_resize(self, ctxt, instance, migration, dest_host):
        self.client.prepare(server=dest_host).cast(
            ctxt, "revert_resize", instance=instance, migration=migration)

    def finish_revert_resize(self, ctxt, instance, migration):
        self.client.prepare(server=migration["source_compute"]).cast(
            ctxt, "finish_revert_resize", instance=instance, migration=migration)

    # --- questions -------------------------------------------------------------------

    def external_instance_event(self, ctxt, host, instances, events):
        """Events of the network service about instances of ``host``."""
        self.client.prepare(server=host).cast(ctxt, "external_instance_event",
                                              instances=instances, events=events)

    def attach_interface(self, ctxt, instance, network_id, port_id, requested_ip):
        """A call: the API answers with the new interface. A port's wait for
        its network service can take long: the long timeout (the compute's
        heartbeats keep the call alive while it works)."""
        client = self.client.prepare(server=instance["host"], timeout=CONF.long_rpc_timeout)
        return client.call(ctxt, "attach_interface", instance=instance, network_id=network_id,
                           port_id=port_id, requested_ip=requested_ip)

    def detach_interface(self, ctxt, instance, port_id):
        self._cast_to_owner(ctxt, "detach_interface", instance, port_id=port_id)

    # --- volumes (os-volume_attachments) ----------------------------------------------

    def reserve_block_device_name(self, ctxt, instance, device, volume_id, disk_bus,
                                  device_type, tag):
        """A call: the compute names the next disk and makes its row."""
        return self.client.prepare(server=instance["host"]).call(
            ctxt, "reserve_block_device_name", instance=instance, device=device,
            volume_id=volume_id, disk_bus=disk_bus, device_type=device_type, tag=tag)

    def attach_volume(self, ctxt, instance, bdm):
        self._cast_to_owner(ctxt, "attach_volume", instance, bdm=bdm)

    def detach_volume(self, ctxt, instance, volume_id, attachment_id):
        self._cast_to_owner(ctxt, "detach_volume", instance, volume_id=volume_id,
                            attachment_id=attachment_id)

    def get_console_output(self, ctxt, instance, tail_length=None):
        return self.client.prepare(server=instance["host"]).call(
            ctxt, "get_console_output", instance=instance, tail_length=tail_length)

    def get_image_cache(self, ctxt, host):
        return self.client.prepare(server=host).call(ctxt, "get_image_cache")
