"""The scheduler service's manager (mirrors ``nova/scheduler/manager.py``):
receives ``select_destinations`` calls from the conductor and host
instance reports from the computes."""

from oslo_log import log as logging

from mininova import manager
from mininova.scheduler import filter_scheduler

LOG = logging.getLogger(__name__)


class SchedulerManager(manager.Manager):
    def __init__(self, host=None):
        super().__init__(host)
        self.driver = filter_scheduler.FilterScheduler()

    def select_destinations(self, context, request_spec):
        return self.driver.select_destinations(context, request_spec)

    def update_instance_info(self, context, host, instance_uuids):
        """A compute told every scheduler (fanout) which instances it has."""
        self.driver.host_manager.update_instance_info(host, instance_uuids)
