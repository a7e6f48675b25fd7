"""The interface every hypervisor driver implements (mirrors
``nova/virt/driver.py``).

The compute manager only ever talks to a ``ComputeDriver``; the libvirt
driver boots real guests, the fake driver keeps pretend ones in memory. A
method here documents what the manager expects of it.
"""

from mininova import utils
from mininova.conf import CONF


class ComputeDriver:
    def init_host(self, host):
        """Connect to the hypervisor and check it can be used. Raise if not."""
        raise NotImplementedError

    def cleanup_host(self, host):
        """Release connections and threads at service stop."""

    def get_available_resource(self):
        """What the hypervisor has, for the resource tracker::

            {"hypervisor_hostname", "hypervisor_type", "hypervisor_version",
             "vcpus", "memory_mb", "local_gb", "cpu_info", "stats"}
        """
        raise NotImplementedError

    def spawn(self, context, instance, image_meta):
        """Create and start the guest of ``instance`` from the image.

        On failure, leave nothing behind (the manager also calls destroy).
        """
        raise NotImplementedError

    def destroy(self, context, instance, destroy_disks=True):
        """Stop and remove the guest; with destroy_disks, its files too.

        Must succeed when the guest is already (partly) gone.
        """
        raise NotImplementedError

    def get_power_state(self, instance):
        """The guest's power state (``mininova.compute.power_state``)."""
        raise NotImplementedError

    def get_console_output(self, context, instance):
        """The guest's serial console log, as bytes (at most the last 100 KiB)."""
        raise NotImplementedError

    def list_instance_uuids(self):
        """UUIDs of the guests this driver manages on this host."""
        raise NotImplementedError

    def manage_image_cache(self, context, all_instances):
        """One pass of the image cache manager: remove the cached images that
        none of ``all_instances`` (this host's, deleted ones left out) uses
        and that have been unused for long enough. Called by the compute's
        periodic task every ``[image_cache] manager_interval`` seconds."""
        raise NotImplementedError

    def get_image_cache(self, context, all_instances, next_pass_at):
        """mininova's report on the image cache: one dict per cached image::

            {"filename", "image_id", "image_name", "size", "used_by",
             "age_seconds", "will_be_removed", "removable_at"}

        ``will_be_removed`` says whether the pass due at ``next_pass_at``
        (epoch seconds, None when passes are turned off) would remove it.
        """
        raise NotImplementedError


def load_compute_driver(driver_name=None):
    """Import ``mininova.virt.<compute_driver>`` and instantiate it."""
    driver_name = driver_name or CONF.compute_driver
    return utils.import_class(f"mininova.virt.{driver_name}")()
