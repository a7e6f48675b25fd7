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
stop, clean up and leave the instance to the delete. The delete itself
waits for the instance's lock, which the build holds, as in Nova; it does
not wait forever, because every external command of a build runs under a
wall-clock limit (``[DEFAULT] command_timeout``, ``image_copy_timeout``).

A build that fails here (no room after all, a server group policy
violated, the hypervisor refusing the guest) is given back to the
conductor to be tried on another host, up to ``[scheduler] max_attempts``;
a build failing because of its image goes straight to ERROR.

Every other action (stop, start, reboot, pause, unpause, suspend, resume,
snapshot, rebuild, the resize steps) runs the same way, in
:meth:`ComputeManager._run_action`: under the instance's lock, recorded as
an instance-action event (``compute_stop_instance``...), its end state
written only if the task_state is still the one the API set. A failure
records a fault and clears the task_state; a failed reboot, rebuild or
resize step puts the instance in ERROR, as Nova does. The actions
themselves, but for the resize steps, are in ``server_actions.py``
(:class:`ServerActionsMixin`).

Resize and cold migration walk between two hosts, one step on each; they
are in ``resize.py`` (:class:`ResizeMixin`).

The hypervisor's view is kept in step two ways: lifecycle events from the
driver (``VM Stopped (Lifecycle Event)``) and a periodic pass over every
instance (``sync_power_state_interval``). A guest that powered itself off
is stopped through the stop path, so its state says SHUTOFF. That is
``power_sync.py`` (:class:`PowerSyncMixin`).

At start-up (init_host) work a crash interrupted is finished, retried or
put in ERROR; see ``recovery.py`` (:class:`RecoveryMixin`).

Networking (ports made and bound in the background during task_state
``networking``, interfaces attached and detached) is ``networking.py``
(:class:`NetworkingMixin`); events from the network service
(``network-vif-plugged``) are ``instance_events.py``.

Block devices (the volumes a boot makes and attaches during task_state
``block_device_mapping``, attach and detach, the delete's detaches, the
restart's settling of unfinished attaches) are ``block_devices.py``
(:class:`BlockDevicesMixin`).

Left out: live migration, shelve, rescue, evacuate.
"""

import threading
import time

from oslo_concurrency import lockutils
from oslo_log import log as logging
from oslo_utils import timeutils

from mininova import exception, manager
from mininova.compute import (
    block_devices,
    instance_events,
    networking,
    power_sync,
    recovery,
    resize,
    resource_tracker,
    server_actions,
    task_states,
    vm_states,
)
from mininova.compute import rpcapi as compute_rpcapi
from mininova.compute import utils as compute_utils
from mininova.conductor import api as conductor_api
from mininova.conf import CONF
from mininova.image import glance
from mininova.network import model as network_model
from mininova.scheduler import rpcapi as scheduler_rpcapi
from mininova.virt import driver as virt_driver
from mininova.volume import cinder

LOG = logging.getLogger(__name__)


class ComputeManager(server_actions.ServerActionsMixin, resize.ResizeMixin,
                     power_sync.PowerSyncMixin, instance_events.ExternalEventsMixin,
                     networking.NetworkingMixin, block_devices.BlockDevicesMixin,
                     recovery.RecoveryMixin, manager.Manager):
    # The driver calls handle_events with its lifecycle events; no message may.
    NOT_RPC = manager.Manager.NOT_RPC | {"handle_events"}

    def __init__(self, host=None, compute_driver=None):
        super().__init__(host)
        self.conductor_api = conductor_api.API()
        self.compute_task_api = conductor_api.ComputeTaskAPI()
        self.scheduler_client = scheduler_rpcapi.SchedulerAPI()
        self.compute_rpcapi = compute_rpcapi.ComputeAPI()
        self.image_api = glance.API()
        self.volume_api = cinder.API()
        self.instance_events = instance_events.InstanceEvents()
        self.driver = virt_driver.load_compute_driver(compute_driver)
        self.driver.virtapi = instance_events.ComputeVirtAPI(self)
        self.rt = resource_tracker.ResourceTracker(self.host, self.driver, self.conductor_api)
        self._build_semaphore = threading.BoundedSemaphore(CONF.max_concurrent_builds)

    # --- start-up ----------------------------------------------------------

    def init_host(self):
        """Connect the driver, then repair what a crash left half done."""
        self.driver.init_host(self.host)
        context = compute_utils.admin_context()
        instances = self.conductor_api.instance_get_all_by_host(context, self.host)
        # A guest whose instance moved away but whose move is not confirmed
        # yet is the revert's way back: not a leftover.
        moving_away = {m["instance_uuid"] for m in
                       self.conductor_api.migrations_in_progress_by_host(context, self.host)}
        self._destroy_deleted_guests(
            context, {instance["uuid"] for instance in instances} | moving_away)
        self.driver.remove_interrupted_leftovers()
        for instance in instances:
            try:
                # Its own failure (the volume service away) must not keep
                # the instance from the rest of its recovery.
                self._settle_volume_attachments(context, instance)
            except Exception:
                LOG.exception("Failed to settle the volume attachments at start-up",
                              instance=instance)
            try:
                self._init_instance(context, instance)
            except Exception:
                # One broken instance must not keep the service down.
                LOG.exception("Failed to recover the instance at start-up",
                              instance=instance)
        # Events from now on: the recovery above made the database right.
        self.driver.register_event_listener(self.handle_events)

    def post_start_hook(self):
        context = compute_utils.admin_context()
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
                               filter_properties, node=None, limits=None,
                               block_device_mapping=None):
        with lockutils.lock(instance["uuid"]), self._build_semaphore:
            try:
                with compute_utils.EventReporter(context, self.conductor_api,
                                                 "compute__do_build_and_run_instance",
                                                 self.host, instance["uuid"]):
                    self._do_build_and_run_instance(context, instance, image, request_spec,
                                                    filter_properties, node, limits,
                                                    block_device_mapping)
            except Exception:
                # Already logged, stored as the instance's fault and as the
                # event's Error: a cast has nobody else to tell.
                pass

    def _do_build_and_run_instance(self, context, instance, image, request_spec,
                                   filter_properties, node, limits, bdms=None):
        try:
            instance = self._update(context, instance, vm_state=vm_states.BUILDING,
                                    task_state=None,
                                    expected_task_state=[task_states.SCHEDULING, None])
        except (exception.InstanceNotFound, exception.UnexpectedDeletingTaskStateError):
            LOG.debug("Instance disappeared before build.", instance=instance)
            return
        started = time.monotonic()
        try:
            self._build_and_run_instance(context, instance, image, request_spec, node, limits,
                                         bdms)
        except (exception.InstanceNotFound, exception.UnexpectedDeletingTaskStateError):
            # Deleted while we built it: the delete finishes the job.
            LOG.info("Instance was deleted during the build.", instance=instance)
            self._cleanup_guest(context, instance)
            return
        except Exception as exc:
            self._cleanup_failed_build_volumes(context, instance)
            if not self._reschedule(context, instance, exc, image, request_spec,
                                    filter_properties):
                self._build_failed(context, instance, exc)
            raise
        LOG.info("Took %0.2f seconds to build instance.", time.monotonic() - started,
                 instance=instance)

    def _build_and_run_instance(self, context, instance, image, request_spec, node, limits,
                                bdms=None):
        LOG.info("Starting instance...", instance=instance)
        with self.rt.instance_claim(context, instance, node or self.rt.nodename, limits):
            self._validate_instance_group_policy(context, instance, request_spec)
            instance = self._update(context, instance, task_state=task_states.NETWORKING,
                                    expected_task_state=[None])
            network = self._allocate_network_async(context, instance, request_spec)
            try:
                instance = self._update(context, instance,
                                        task_state=task_states.BLOCK_DEVICE_MAPPING,
                                        expected_task_state=task_states.NETWORKING)
                if bdms is None:
                    bdms = self._get_bdms(context, instance)
                block_device_info = self._prep_block_device(context, instance, bdms)
                instance = self._update(context, instance, task_state=task_states.SPAWNING,
                                        expected_task_state=task_states.BLOCK_DEVICE_MAPPING)
                self._spawn(context, instance, image, block_device_info,
                            network_model.NetworkInfoAsyncWrapper(network))
            except BaseException:
                # Whatever the driver created is removed, and the ports
                # given back, before the claim is: no domain, disk,
                # directory or bound port is left for a reschedule or a delete.
                self._cleanup_guest(context, instance)
                self._deallocate_network_quietly(context, instance, network)
                raise

    def _spawn(self, context, instance, image, block_device_info, network_info):
        started = time.monotonic()
        self.driver.spawn(context, instance, image, block_device_info=block_device_info,
                          network_info=network_info)
        LOG.info("Took %0.2f seconds to spawn the instance on the hypervisor.",
                 time.monotonic() - started, instance=instance)
        # The ports are up now (the driver waited for them): later guests
        # made from this cache (a rebuild) expect no event.
        network_info = [dict(vif, active=True) for vif in network_model.wait(network_info) or []]
        self._update(context, instance, vm_state=vm_states.ACTIVE, task_state=None,
                     power_state=self.driver.get_power_state(instance),
                     launched_at=timeutils.utcnow(), progress=100, network_info=network_info,
                     device_metadata=instance.get("device_metadata"),
                     expected_task_state=task_states.SPAWNING)

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
        # At most max_server_per_host members per host (2.64), one by default.
        max_per_host = (group.get("rules") or {}).get("max_server_per_host", 1)
        if group["policy"] == "anti-affinity" and hosts.count(self.host) >= max_per_host:
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
        if isinstance(exc, (exception.ComputeResourcesUnavailable,
                            exception.BuildAbortException)):
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

    # --- the pattern of every other action -------------------------------------------

    def _run_action(self, context, instance, event_name, work, error_state=None):
        """Run ``work()`` under the instance's lock as the event
        ``event_name`` of the current instance action.

        On failure: a fault, the task_state cleared and, for the actions
        Nova treats so, ``error_state`` (ERROR). A delete that got there
        first (the instance or its task gone) ends the work quietly. Errors
        go no further: the caller was a cast.
        """
        with lockutils.lock(instance["uuid"]):
            try:
                with compute_utils.EventReporter(context, self.conductor_api, event_name,
                                                 self.host, instance["uuid"]):
                    self._run_or_revert(context, instance, event_name, work, error_state)
            except Exception:
                pass  # logged, and stored as a fault and as the event's Error

    def _run_or_revert(self, context, instance, event_name, work, error_state):
        try:
            work()
        except (exception.InstanceNotFound, exception.UnexpectedDeletingTaskStateError):
            LOG.info("Instance was deleted during %s", event_name, instance=instance)
        except exception.UnexpectedTaskStateError as exc:
            # Another action took the instance over (a hard reboot may
            # interrupt a pause or a soft reboot): its task_state is that
            # action's now, and that action will finish the instance. Nothing
            # here failed, so no fault and no ERROR; the event says why it
            # did not end as planned.
            LOG.info("Task possibly preempted: %s", exc.format_message(), instance=instance)
            raise
        except Exception as exc:
            if isinstance(exc, ROLLBACK_ERRORS):
                # Refused before anything was touched (Nova's
                # InstanceFaultRollback): the instance stays as it was.
                error_state = None
            if error_state:
                LOG.exception("Setting instance vm_state to ERROR", instance=instance)
            else:
                LOG.exception("%s failed", event_name, instance=instance)
            compute_utils.add_instance_fault_from_exc(context, self.conductor_api,
                                                      instance["uuid"], exc, self.host)
            updates = {"task_state": None}
            if error_state:
                updates["vm_state"] = error_state
            try:
                self._update(context, instance, **updates)
            except exception.InstanceNotFound:
                pass
            raise

    def _finish(self, context, instance, expected_task_state, vm_state, **updates):
        """The end of an action: its vm_state, no task, the guest's power state."""
        return self._update(context, instance, vm_state=vm_state, task_state=None,
                            power_state=self.driver.get_power_state(instance),
                            expected_task_state=expected_task_state, **updates)

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
        self._shutdown_volumes(context, instance)
        self._deallocate_network_quietly(context, instance)
        try:
            self.conductor_api.instance_destroy(context, instance["uuid"])
        finally:
            # The guest is gone whether or not the row still was there (a
            # local delete may have removed it): its resources are free.
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

    def _update(self, context, instance, expected_task_state=None, expected_vm_state=None,
                **updates):
        """Write ``updates`` through the conductor; return the fresh row."""
        fresh = self.conductor_api.instance_update(
            context, instance["uuid"], updates, expected_task_state=expected_task_state,
            expected_vm_state=expected_vm_state)
        instance.update(fresh)
        return instance


# Errors a driver raises before it changed anything (a disk that cannot
# shrink): the action is refused, the instance is not in ERROR.
ROLLBACK_ERRORS = (exception.CannotResizeDisk,)

# Failures that would repeat on every host (Nova's build abort list): the
# image itself is refused or unusable, or the flavor cannot hold it. The
# build is aborted instead of rescheduled. Anything else, a full disk under
# qemu-img or an image service this host cannot reach included, may go
# better elsewhere. (ImageNotFound is here too, although Nova reschedules
# it: a deleted image is missing for every host.)
NOT_RESCHEDULABLE = (
    exception.BuildAbortException,
    exception.ImageNotFound,
    exception.ImageNotActive,
    exception.ImageUnacceptable,
    exception.ImageDataInvalid,
    exception.InvalidDiskInfo,
    exception.FlavorDiskSmallerThanImage,
    exception.FlavorMemoryTooSmall,
)


def _failure_reason(exc):
    if isinstance(exc, exception.MininovaException):
        return exc.format_message()
    return f"{type(exc).__name__}: {exc}"
