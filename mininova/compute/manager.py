"""The compute manager (mirrors ``nova/compute/manager.py``).

One runs on every hypervisor host. It receives casts on ``compute.<host>``
and drives the virt driver; it never touches the database: every read and
write goes through the conductor (``self.conductor_api``).

The build, as in Nova::

    build_and_run_instance                 (cast from the conductor)
      lock(instance uuid), then one of max_concurrent_builds slots
      vm_state building, task None         "Starting instance..."
      claim                                "Attempting claim on node ..."
      task networking → block_device_mapping → spawning
      driver.spawn                         "Took N seconds to spawn the instance on the hypervisor."
      vm_state active, task None, power RUNNING, launched_at
                                           "Took N seconds to build instance."

Every state change is a compare-and-swap on the expected task_state, so a
delete that arrives mid-build (task_state ``deleting``) makes the build
stop, clean up and leave the instance to the delete.

A build that fails here (no room after all, a server group policy
violated, the hypervisor refusing the guest) is given back to the
conductor to be tried on another host, up to ``[scheduler] max_attempts``;
a build failing because of its image goes straight to ERROR.

Left out: networking and block devices (their task states are passed
through), resize, snapshot, rebuild, live migration, shelve, rescue, and
most of init_host's recovery cases.
"""

import threading
import time

from oslo_concurrency import lockutils
from oslo_log import log as logging

from mininova import exception, manager
from mininova.compute import resource_tracker, task_states, vm_states
from mininova.compute import utils as compute_utils
from mininova.conductor import api as conductor_api
from mininova.conf import CONF
from mininova.db.models import utcnow
from mininova.scheduler import rpcapi as scheduler_rpcapi
from mininova.virt import driver as virt_driver

LOG = logging.getLogger(__name__)


class ComputeManager(manager.Manager):
    def __init__(self, host=None, compute_driver=None):
        super().__init__(host)
        self.conductor_api = conductor_api.API()
        self.compute_task_api = conductor_api.ComputeTaskAPI()
        self.scheduler_client = scheduler_rpcapi.SchedulerAPI()
        self.driver = virt_driver.load_compute_driver(compute_driver)
        self.rt = resource_tracker.ResourceTracker(self.host, self.driver, self.conductor_api)
        self._build_semaphore = threading.BoundedSemaphore(CONF.max_concurrent_builds)

    # --- start-up ----------------------------------------------------------

    def init_host(self):
        """Connect the driver, then repair what a crash left half done."""
        self.driver.init_host(self.host)
        context = _admin_context()
        instances = self.conductor_api.instance_get_all_by_host(context, self.host)
        self._destroy_deleted_guests(context, {instance["uuid"] for instance in instances})
        for instance in instances:
            self._init_instance(context, instance)

    def _destroy_deleted_guests(self, context, live_uuids):
        """Guests whose server was deleted while this service was down (the
        API then deletes the row itself) are reaped now."""
        for instance_uuid in self.driver.list_instance_uuids():
            if instance_uuid not in live_uuids:
                LOG.info("Destroying instance with name label '%s' which is marked as "
                         "DELETED but still present on host.", instance_uuid)
                self._cleanup_guest(context, {"uuid": instance_uuid})

    def _init_instance(self, context, instance):
        if instance["vm_state"] == vm_states.BUILDING or \
                instance["task_state"] in task_states.BUILD_STATES:
            # The build thread died with the old process; nothing will
            # finish it, so the user must see ERROR rather than BUILD forever.
            LOG.debug("Instance failed to spawn correctly, setting to ERROR state",
                      instance=instance)
            self.driver.destroy(context, instance, destroy_disks=True)
            self.conductor_api.instance_update(
                context, instance["uuid"], {"vm_state": vm_states.ERROR, "task_state": None})
        elif instance["task_state"] == task_states.DELETING:
            LOG.info("Service started deleting the instance during the previous run, "
                     "but did not finish. Restarting the deletion now.", instance=instance)
            self._delete_instance(context, instance)

    def post_start_hook(self):
        context = _admin_context()
        self.update_available_resource(context)
        self._tell_schedulers_our_instances(context)

    def cleanup_host(self):
        self.driver.cleanup_host(self.host)

    def _tell_schedulers_our_instances(self, context):
        uuids = sorted(self.rt.tracked_instances)
        self.scheduler_client.update_instance_info(context, self.host, uuids)

    # --- periodic tasks ------------------------------------------------------

    @manager.periodic_task(spacing="update_resources_interval")
    def update_available_resource(self, context):
        self.rt.update_available_resource(context)

    @manager.periodic_task(spacing="image_cache.manager_interval")
    def _run_image_cache_manager_pass(self, context):
        """Let the driver remove the cached images that no instance of this
        host uses any more (Nova's task of the same name)."""
        instances = self.conductor_api.instance_get_all_by_host(context, self.host)
        self.driver.manage_image_cache(context, instances)

    # --- build ---------------------------------------------------------------

    def build_and_run_instance(self, context, instance, image, request_spec,
                               filter_properties, node=None, limits=None):
        with lockutils.lock(instance["uuid"]), self._build_semaphore:
            try:
                with compute_utils.EventReporter(context, self.conductor_api,
                                                 "compute__do_build_and_run_instance",
                                                 self.host, instance["uuid"]):
                    self._do_build_and_run_instance(context, instance, image, request_spec,
                                                    filter_properties, node, limits)
            except Exception:
                # Already logged, stored as the instance's fault and as the
                # event's Error: a cast has nobody else to tell.
                pass

    def _do_build_and_run_instance(self, context, instance, image, request_spec,
                                   filter_properties, node, limits):
        try:
            instance = self._update(context, instance, vm_state=vm_states.BUILDING,
                                    task_state=None,
                                    expected_task_state=[task_states.SCHEDULING, None])
        except (exception.InstanceNotFound, exception.UnexpectedDeletingTaskStateError):
            LOG.debug("Instance disappeared before build.", instance=instance)
            return
        started = time.monotonic()
        try:
            self._build_and_run_instance(context, instance, image, request_spec, node, limits)
        except (exception.InstanceNotFound, exception.UnexpectedDeletingTaskStateError):
            # Deleted while we built it: the delete finishes the job.
            LOG.info("Instance was deleted during the build.", instance=instance)
            self._cleanup_guest(context, instance)
            return
        except Exception as exc:
            if not self._reschedule(context, instance, exc, image, request_spec,
                                    filter_properties):
                self._build_failed(context, instance, exc)
            raise
        LOG.info("Took %0.2f seconds to build instance.", time.monotonic() - started,
                 instance=instance)

    def _build_and_run_instance(self, context, instance, image, request_spec, node, limits):
        LOG.info("Starting instance...", instance=instance)
        with self.rt.instance_claim(context, instance, node or self.rt.nodename, limits):
            self._validate_instance_group_policy(context, instance, request_spec)
            instance = self._update(context, instance, task_state=task_states.NETWORKING,
                                    expected_task_state=[None])
            instance = self._update(context, instance,
                                    task_state=task_states.BLOCK_DEVICE_MAPPING,
                                    expected_task_state=task_states.NETWORKING)
            instance = self._update(context, instance, task_state=task_states.SPAWNING,
                                    expected_task_state=task_states.BLOCK_DEVICE_MAPPING)
            try:
                started = time.monotonic()
                self.driver.spawn(context, instance, image)
                LOG.info("Took %0.2f seconds to spawn the instance on the hypervisor.",
                         time.monotonic() - started, instance=instance)
                self._update(context, instance, vm_state=vm_states.ACTIVE, task_state=None,
                             power_state=self.driver.get_power_state(instance),
                             launched_at=utcnow(), progress=100,
                             expected_task_state=task_states.SPAWNING)
            except Exception:
                # Whatever the driver created is removed before the claim
                # is given back: no domain, disk or directory is left.
                self._cleanup_guest(context, instance)
                raise

    def _validate_instance_group_policy(self, context, instance, request_spec):
        """The late check of a server group's policy, now that this host is
        claimed: two schedulers (or a scheduler that had not yet heard of
        the other member) can still have sent two members here."""
        group = (request_spec or {}).get("instance_group")
        if not group:
            return
        with lockutils.lock(f"instance-group-{group['uuid']}"):
            hosts = self.conductor_api.instance_group_hosts(context, group["uuid"],
                                                            exclude=[instance["uuid"]])
        if group["policy"] == "anti-affinity" and self.host in hosts:
            raise exception.RescheduledException(
                instance_uuid=instance["uuid"],
                reason="Anti-affinity instance group policy was violated.")
        if group["policy"] == "affinity" and hosts and self.host not in hosts:
            raise exception.RescheduledException(
                instance_uuid=instance["uuid"],
                reason="Affinity instance group policy was violated.")

    def _reschedule(self, context, instance, exc, image, request_spec, filter_properties):
        """Give the build back to the conductor for another host, if it may be
        retried: Nova reschedules anything but problems of the image itself,
        which would fail on every host."""
        retry = (filter_properties or {}).get("retry")
        if (not retry or CONF.scheduler.max_attempts <= 1
                or isinstance(exc, NOT_RESCHEDULABLE)):
            return False
        reason = _failure_reason(exc)
        error = exception.RescheduledException(instance_uuid=instance["uuid"], reason=reason)
        LOG.debug("%s", error.format_message(), instance=instance)
        compute_utils.add_instance_fault_from_exc(context, self.conductor_api,
                                                  instance["uuid"], error, self.host)
        try:
            self._update(context, instance, task_state=task_states.SCHEDULING,
                         host=None, node=None)
        except exception.InstanceNotFound:
            return True
        filter_properties = dict(filter_properties, retry=dict(retry, exc_reason=reason))
        self.compute_task_api.build_instances(context, instance["uuid"], request_spec, image,
                                              filter_properties)
        return True

    def _build_failed(self, context, instance, exc):
        if isinstance(exc, exception.ComputeResourcesUnavailable):
            error = exc
        else:
            LOG.exception("Instance failed to spawn", instance=instance)
            error = exception.BuildAbortException(instance_uuid=instance["uuid"],
                                                  reason=_failure_reason(exc))
            # The fault's details then show the original traceback.
            error.__cause__ = exc
        LOG.error("%s", error.format_message(), instance=instance)
        compute_utils.add_instance_fault_from_exc(context, self.conductor_api,
                                                  instance["uuid"], error, self.host)
        try:
            self._update(context, instance, vm_state=vm_states.ERROR, task_state=None)
        except exception.InstanceNotFound:
            pass

    def _cleanup_guest(self, context, instance):
        try:
            self.driver.destroy(context, instance, destroy_disks=True)
        except Exception:
            LOG.exception("Failed to clean up the guest", instance=instance)

    # --- delete --------------------------------------------------------------

    def terminate_instance(self, context, instance):
        with lockutils.lock(instance["uuid"]):
            with compute_utils.EventReporter(context, self.conductor_api,
                                             "compute_terminate_instance",
                                             self.host, instance["uuid"]):
                try:
                    self._delete_instance(context, instance)
                except exception.InstanceNotFound:
                    LOG.info("Instance disappeared during terminate", instance=instance)
                except Exception as exc:
                    LOG.exception("Setting instance vm_state to ERROR", instance=instance)
                    compute_utils.add_instance_fault_from_exc(
                        context, self.conductor_api, instance["uuid"], exc, self.host)
                    self._update(context, instance, vm_state=vm_states.ERROR,
                                 task_state=None)
                    raise

    def _delete_instance(self, context, instance):
        LOG.info("Terminating instance", instance=instance)
        started = time.monotonic()
        self.driver.destroy(context, instance, destroy_disks=True)
        LOG.info("Took %0.2f seconds to destroy the instance on the hypervisor.",
                 time.monotonic() - started, instance=instance)
        self.conductor_api.instance_destroy(context, instance["uuid"])
        self.rt.drop_instance(context, instance)

    # --- questions -------------------------------------------------------------

    def get_image_cache(self, context):
        """Beyond Nova: this host's cached images, which instances use them
        and what the image cache manager's next pass will remove (for
        ``GET /os-image-cache`` and ``mininova image-cache``)."""
        interval = CONF.image_cache.manager_interval
        wait = self.seconds_until("_run_image_cache_manager_pass")
        next_pass_at = None if wait is None else time.time() + wait
        instances = self.conductor_api.instance_get_all_by_host(context, self.host)
        return {
            "next_run_at": next_pass_at and time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                          time.gmtime(next_pass_at)),
            "manager_interval": interval,
            "remove_unused_base_images": CONF.image_cache.remove_unused_base_images,
            "remove_unused_original_minimum_age_seconds":
                CONF.image_cache.remove_unused_original_minimum_age_seconds,
            "base_files": self.driver.get_image_cache(context, instances, next_pass_at),
        }

    def get_console_output(self, context, instance, tail_length=None):
        output = self.driver.get_console_output(context, instance)
        text = output.decode("utf-8", errors="replace")
        if tail_length is not None:
            text = "\n".join(text.split("\n")[-int(tail_length):])
        return text

    # --- helpers ---------------------------------------------------------------

    def _update(self, context, instance, expected_task_state=None, **updates):
        """Write ``updates`` through the conductor; return the fresh row."""
        fresh = self.conductor_api.instance_update(
            context, instance["uuid"], updates, expected_task_state=expected_task_state)
        instance.update(fresh)
        return instance


# Failures that come from the image (or the request) itself: another host
# would fail the same way, so the build is aborted instead of rescheduled.
NOT_RESCHEDULABLE = (
    exception.ImageNotFound,
    exception.ImageUnacceptable,
    exception.ImageDownloadFailed,
    exception.InvalidDiskInfo,
    exception.FlavorDiskSmallerThanImage,
    exception.ProcessExecutionFailed,
)


def _failure_reason(exc):
    if isinstance(exc, exception.MininovaException):
        return exc.format_message()
    return f"{type(exc).__name__}: {exc}"


def _admin_context():
    from mininova import context

    ctxt = context.get_admin_context()
    ctxt.update_store()
    return ctxt

