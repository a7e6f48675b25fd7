"""An in-memory hypervisor (mirrors ``nova/virt/fake.py``).

Guests are entries in a dict; "spawning" one takes ``[fake_driver]
spawn_seconds``. It reports the resources in ``[fake_driver]``, so tests
and the scheduler benchmark can run many pretend hosts in one process. It
exists for fast tests and demos only: the integration tests boot real
guests with the libvirt driver.
"""

import threading
import time

from oslo_log import log as logging

from mininova.compute import power_state
from mininova.conf import CONF
from mininova.virt import driver

LOG = logging.getLogger(__name__)


class FakeDriver(driver.ComputeDriver):
    def __init__(self):
        self.host = None
        self.instances = {}
        self._lock = threading.Lock()
        # What this pretend hypervisor reports; tests may change them per
        # host (then call the compute's update_available_resource).
        self.memory_mb = CONF.fake_driver.memory_mb
        self.vcpus = CONF.fake_driver.vcpus
        self.local_gb = CONF.fake_driver.local_gb
        self.cpu_arch = "x86_64"
        self.hypervisor_type = "fake"

    def init_host(self, host):
        self.host = host
        LOG.info("Fake driver ready on %s", host)

    def get_available_resource(self):
        return {
            "hypervisor_hostname": self.host,
            "hypervisor_type": self.hypervisor_type,
            "hypervisor_version": 1000,
            "vcpus": self.vcpus,
            "memory_mb": self.memory_mb,
            "local_gb": self.local_gb,
            "cpu_info": {"arch": self.cpu_arch, "model": "fake", "vendor": "mininova"},
            "stats": {"cpu_arch": self.cpu_arch,
                      "supported_instances": [[self.cpu_arch, self.hypervisor_type, "hvm"]]},
        }

    def spawn(self, context, instance, image_meta):
        if CONF.fake_driver.spawn_seconds:
            time.sleep(CONF.fake_driver.spawn_seconds)
        with self._lock:
            self.instances[instance["uuid"]] = {"state": power_state.RUNNING,
                                                "name": instance["display_name"]}
        LOG.info("Instance spawned successfully.", instance=instance)

    def destroy(self, context, instance, destroy_disks=True):
        with self._lock:
            self.instances.pop(instance["uuid"], None)
        LOG.info("Instance destroyed successfully.", instance=instance)

    def get_power_state(self, instance):
        with self._lock:
            guest = self.instances.get(instance["uuid"])
        return guest["state"] if guest else power_state.NOSTATE

    def get_console_output(self, context, instance):
        return (f"FAKE CONSOLE OUTPUT of {instance['uuid']}\n"
                f"{instance['display_name']} login: ").encode()

    def list_instance_uuids(self):
        with self._lock:
            return list(self.instances)

    def manage_image_cache(self, context, all_instances):
        # Pretend guests have no disks, so there is no cache to tend.
        LOG.debug("Image cache manager pass: no image cache (%d instances)",
                  len(all_instances))

    def get_image_cache(self, context, all_instances, next_pass_at):
        return []
