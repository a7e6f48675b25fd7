"""What the REST API calls to act on servers (mirrors ``nova/compute/api.py``).

The REST layer parses and validates; this layer decides. Creating a server:

1. look up the flavor (database), the image (image service) and the key
   pair, and check they fit together (image min_ram/min_disk, image size
   vs. root disk);
2. check the quotas: instances, cores and RAM, the server group's members;
3. write one ``instances`` row per server: vm_state ``building``,
   task_state ``scheduling``; count the quotas again (see below);
4. cast ``schedule_and_build_instances`` to the conductor and return, so the
   API answers 202 while the build goes on. If the broker cannot be reached
   within ``[api] rpc_publish_timeout``, the rows are deleted again and the
   answer is a 503 that says so (as for a delete, whose task is put back).

Deleting: a server that never reached a host is deleted right here; one
whose compute service is down is deleted in the database and its guest is
reaped when that compute comes back; otherwise task_state ``deleting`` and a
cast ``terminate_instance`` to its compute.

Actions (stop, start, reboot, pause, unpause, suspend, resume, resize and
its confirm/revert, migrate, createImage, rebuild) follow one pattern, as
in Nova: check the (vm_state, task_state) the action needs, else 409
``Cannot '<action>' instance <uuid> while it is in vm_state <state>``; set
the task_state with a compare-and-swap on the states just checked (two
requests racing cannot both win); record the instance action; cast to the
compute that owns the instance (or to the conductor, for resize and
migrate, which need the scheduler first).

A locked server (``lock``) refuses every action above, and its delete,
with 409 ``Instance <uuid> is locked`` unless the caller is an admin
(Nova's ``check_instance_lock``); reads, the console and createImage still
work.

Quotas (``mininova/quota.py``) are counted before the rows are written and
counted again after them: a create that a concurrent one pushed over quota
removes its rows and answers 403. A resize checks the growth in cores and
RAM.

Block device mappings (the boot's disks and volumes, attach and detach)
are the mixin's in ``api_block_devices.py``: each server has its rows in
``block_device_mapping``, the image's root disk included.

Left out: security groups, rescue, shelve, live migration.
"""

import contextlib
import functools
import traceback
import uuid

from oslo_log import log as logging
from oslo_utils import units

from mininova import availability_zones, block_device, exception, quota, rpc, servicegroup
from mininova.compute import instance_actions, power_state, task_states, vm_states
from mininova.compute import rpcapi as compute_rpcapi
from mininova.compute.api_block_devices import BlockDeviceMappingMixin, VolumeAttachMixin
from mininova.conductor import api as conductor_api
from mininova.conf import CONF
from mininova.db import api as db
from mininova.db import block_devices as bdm_db
from mininova.db import flavors as flavors_db
from mininova.db import instance_actions as actions_db
from mininova.db import keypairs as keypairs_db
from mininova.db import resize_migrations as migrations_db
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db
from mininova.image import glance
from mininova.network import neutron
from mininova.scheduler import utils as scheduler_utils
from mininova.volume import cinder

LOG = logging.getLogger(__name__)


# Flavor fields an instance keeps a copy of (Nova's instance_extra.flavor).
FLAVOR_SNAPSHOT_FIELDS = ("id", "flavorid", "name", "memory_mb", "vcpus", "root_gb",
                          "ephemeral_gb", "swap", "rxtx_factor", "extra_specs")


def _api_publish_timeout():
    """How long a request waits for an unreachable broker before its 503:
    ``[api] rpc_publish_timeout`` (read when sending, after the config)."""
    return CONF.api.rpc_publish_timeout


# What an action's _begin may change on the instance before its cast.
UNDONE_IF_UNDELIVERED = ("task_state", "image_ref", "display_name", "hostname", "metadata",
                         "display_description", "progress")


def undo_if_undelivered(function):
    """An action whose cast the broker never took (503 after ``[api]
    rpc_publish_timeout``) is put back as it was: no compute will ever
    clear its task_state, and a server must not stay ``powering-off`` for
    good. The action's own record stays, showing it was asked for."""
    @functools.wraps(function)
    def inner(self, context, instance, *args, **kwargs):
        try:
            return function(self, context, instance, *args, **kwargs)
        except rpc.MessageDeliveryFailure:
            _put_back(context, instance)
            raise
    return inner


def _put_back(context, instance):
    fresh = db.instance_get_by_uuid(context, instance["uuid"])
    changed = {field: instance[field] for field in UNDONE_IF_UNDELIVERED
               if field in instance and fresh.get(field) != instance[field]}
    if changed:
        try:
            db.instance_update(context, instance["uuid"], changed,
                               expected_task_state=[fresh["task_state"]])
        except exception.InstanceUpdateConflict:
            LOG.warning("Could not put back instance %s after an undelivered action: "
                        "it changed meanwhile", instance["uuid"])


@contextlib.contextmanager
def _migration_put_back_if_undelivered(context, migration):
    """A confirm or revert the broker never took leaves the migration
    ``finished``, to be confirmed or reverted again."""
    try:
        yield
    except rpc.MessageDeliveryFailure:
        migrations_db.migration_update(context, migration["id"], {"status": migration["status"]})
        raise


def check_instance_lock(function):
    """Refuse the action on a locked server unless the caller is an admin."""
    @functools.wraps(function)
    def inner(self, context, instance, *args, **kwargs):
        if instance["locked"] and not context.is_admin:
            raise exception.InstanceIsLocked(instance_uuid=instance["uuid"])
        return function(self, context, instance, *args, **kwargs)
    return inner


class API(BlockDeviceMappingMixin, VolumeAttachMixin):
    def __init__(self):
        self.image_api = glance.API()
        self.volume_api = cinder.API()
        self.network_api = neutron.API()
        self.compute_task_api = conductor_api.ComputeTaskAPI(
            publish_timeout=_api_publish_timeout)
        self.compute_rpcapi = compute_rpcapi.ComputeAPI(publish_timeout=_api_publish_timeout)

    # --- create --------------------------------------------------------------

    def create(self, context, name, flavor_id, image_id, min_count=1, max_count=1,
               metadata=None, availability_zone=None, user_data=None, key_name=None,
               config_drive=None, scheduler_hints=None, description=None, tags=None,
               requested_destination=None, requested_networks="none",
               block_device_mapping=None, legacy_bdm=True):
        """``image_id`` is "" for a server booted from a volume; its
        ``block_device_mapping`` (internal dicts, legacy ones when
        ``legacy_bdm``) may be empty for an image boot."""
        quota.check_metadata_items(context, context.project_id, metadata)
        self._check_requested_networks(context, requested_networks, max_count)
        flavor = self._get_flavor(context, flavor_id)
        image = self._boot_image(context, image_id, block_device_mapping or [], legacy_bdm)
        block_device_mapping = self._check_and_transform_bdm(
            context, image_id, flavor, min_count, max_count, list(block_device_mapping or []),
            legacy_bdm)
        self._check_image_fits_flavor(image, flavor,
                                      block_device.get_root_bdm(block_device_mapping))
        self._check_availability_zone(context, availability_zone)
        self._check_requested_destination(context, requested_destination)
        key_pair = self._get_key_pair(context, key_name)
        group = self._get_server_group(context, scheduler_hints)
        volumes = self._get_volumes_for_bdms(context, block_device_mapping)
        self._validate_bdm(context, image, flavor, block_device_mapping, volumes)
        count = quota.check_num_instances(context, flavor, min_count, max_count)
        if group:
            quota.check_server_group_members(context, group["uuid"], delta=count)
        reservation_id = f"r-{uuid.uuid4().hex[:8]}"
        instances = [
            db.instance_create(context, dict(self._instance_values(
                context, name, count, index, flavor, image_id or "", metadata,
                availability_zone, user_data, key_pair, config_drive, reservation_id),
                display_description=description))
            for index in range(count)
        ]
        uuids = [instance["uuid"] for instance in instances]
        bdms = []
        try:
            for instance_uuid in uuids:
                bdms += self._reserve_and_record_bdms(context, instance_uuid, flavor,
                                                      block_device_mapping)
            for instance_uuid in uuids if tags else ():
                db.instance_tags_set(context, instance_uuid, tags)
            if group:
                # Members are recorded before scheduling, so the scheduler and
                # the computes see the whole group (Nova does it here too).
                group = scheduling_db.instance_group_members_add(context, group["uuid"],
                                                                 uuids)
            self._recheck_quota(context, flavor, count, group, uuids)
        except Exception:
            # Nothing of a refused request stays: no rows, no reserved volume.
            self._release_bdm_reservations(context, bdms)
            db.instances_purge_unbuilt(context, uuids)
            raise
        request_spec = scheduler_utils.build_request_spec(
            flavor, image, uuids, context.project_id, context.user_id, availability_zone,
            scheduler_hints, group, requested_destination)
        request_spec["requested_networks"] = requested_networks
        root_bdm = block_device.get_root_bdm(block_device_mapping)
        request_spec["is_bfv"] = bool(root_bdm and block_device.is_volume(root_bdm))
        try:
            self.compute_task_api.schedule_and_build_instances(context, request_spec, image)
        except rpc.MessageDeliveryFailure:
            # The broker stayed away: nobody will build them. The request
            # fails (503) and leaves no server behind in BUILD, and no
            # volume reserved for one.
            self._release_bdm_reservations(context, bdms)
            for instance_uuid in uuids:
                db.instance_destroy(context, instance_uuid)
            raise
        return instances

    @staticmethod
    def _check_requested_destination(context, destination):
        """A host or node asked for (2.74) must exist: 400 now rather than
        NoValidHost later. Whether it can take the server is the
        scheduler's filters' business, as for any host."""
        if not destination:
            return
        nodes = services_db.compute_node_get_all(context)
        if destination.get("host") and not any(
                node["host"] == destination["host"] for node in nodes):
            raise exception.Invalid(
                f"Compute host {destination['host']} could not be found.")
        if destination.get("node") and not any(
                node["hypervisor_hostname"] == destination["node"]
                and node["host"] == destination.get("host", node["host"])
                for node in nodes):
            raise exception.Invalid(
                f"Compute host {destination.get('host')} with node "
                f"{destination['node']} could not be found.")

    @staticmethod
    def _recheck_quota(context, flavor, count, group, uuids):
        """The second count (see mininova/quota.py): if requests racing this
        one took the last of the quota too, the rows just written go
        before anything is scheduled and the request is a 403."""
        def undo():
            db.instances_purge_unbuilt(context, uuids)

        quota.recheck(lambda: quota.recheck_num_instances(context, flavor, count), undo)
        if group:
            quota.recheck(lambda: quota.check_server_group_members(
                context, group["uuid"], delta=0), undo)

    @staticmethod
    def _get_key_pair(context, key_name):
        """The user's key pair named at boot; its public key is kept on the
        instance (for the config drive), so deleting it later changes nothing."""
        if key_name is None:
            return None
        try:
            return keypairs_db.key_pair_get(context, context.user_id, key_name)
        except exception.KeypairNotFound as exc:
            raise exception.Invalid("Invalid key_name provided.") from exc

    def _get_flavor(self, context, flavor_id):
        try:
            flavor = flavors_db.flavor_get_by_flavor_id(context, flavor_id)
        except exception.FlavorNotFound as exc:
            raise exception.Invalid(exc.format_message()) from exc
        if flavor["disabled"]:
            raise exception.Invalid(f"Flavor {flavor_id} is disabled.")
        return flavor

    def _get_image(self, context, image_id):
        try:
            image = self.image_api.show(context, image_id)
        except exception.ImageNotFound as exc:
            raise exception.Invalid(exc.format_message()) from exc
        if image["status"] != "active":
            raise exception.ImageNotActive(image_id=image_id)
        return image

    def _check_requested_networks(self, context, requested_networks, max_count):
        """Networks and ports named at boot must exist and be free (400/409
        now, rather than a failed build later); one port cannot serve
        several servers (Nova's message)."""
        if not isinstance(requested_networks, list):
            return
        if max_count and max_count > 1 and any(r.get("port") for r in requested_networks):
            raise exception.Invalid("Unable to launch multiple instances with a single "
                                    "configured port ID. Please launch your instance one "
                                    "by one with different ports.")
        self.network_api.validate_networks(context, requested_networks)

    @staticmethod
    def _check_availability_zone(context, zone):
        """Only a zone with an enabled compute service can take a server."""
        if zone is None:
            return
        if zone not in availability_zones.available_compute_zones(context.elevated()):
            raise exception.Invalid(f"The requested availability zone {zone} is not available")

    @staticmethod
    def _get_server_group(context, scheduler_hints):
        group_uuid = (scheduler_hints or {}).get("group")
        if not group_uuid:
            return None
        try:
            group = scheduling_db.instance_group_get(context, group_uuid)
        except exception.InstanceGroupNotFound as exc:
            raise exception.Invalid(exc.format_message()) from exc
        if group["project_id"] != context.project_id and not context.is_admin:
            raise exception.Invalid(f"Server group {group_uuid} belongs to another project; "
                                    f"use a group of project {context.project_id}.")
        return group

    def _check_image_fits_flavor(self, image, flavor, root_bdm=None):
        """Refuse at the API what could never boot (Nova's
        _validate_flavor_image_nostatus): the image's min_ram against the
        flavor; its size and min_disk against the flavor's root disk, or,
        booting from a volume, its min_disk against the volume."""
        if (image.get("min_ram") or 0) > flavor["memory_mb"]:
            raise exception.FlavorMemoryTooSmall()
        if root_bdm is not None and block_device.is_volume(root_bdm):
            self._check_root_volume_fits_image(image, root_bdm)
            return
        root_bytes = flavor["root_gb"] * units.Gi
        if root_bytes == 0:
            # A 0 GB root disk means "as big as the image": nothing to compare.
            return
        image_bytes = max(image.get("size") or 0, image.get("virtual_size") or 0)
        if image_bytes > root_bytes:
            raise exception.FlavorDiskSmallerThanImage(flavor_size=root_bytes,
                                                       image_size=image_bytes)
        min_disk_bytes = (image.get("min_disk") or 0) * units.Gi
        if min_disk_bytes > root_bytes:
            raise exception.FlavorDiskSmallerThanMinDisk(flavor_size=root_bytes,
                                                         image_min_disk=min_disk_bytes)

    @staticmethod
    def _instance_values(context, name, count, index, flavor, image_ref, metadata,
                         availability_zone, user_data, key_pair, config_drive,
                         reservation_id):
        # Several servers of one request are told apart as Nova does: name-1, name-2...
        display_name = f"{name}-{index + 1}" if count > 1 else name
        return {
            "uuid": str(uuid.uuid4()),
            "display_name": display_name,
            "hostname": _hostname(display_name),
            "user_id": context.user_id,
            "project_id": context.project_id,
            # "" for a server booted from a volume, as Nova keeps it.
            "image_ref": image_ref,
            "flavor": {field: flavor[field] for field in FLAVOR_SNAPSHOT_FIELDS},
            "vm_state": vm_states.BUILDING,
            "task_state": task_states.SCHEDULING,
            "power_state": power_state.NOSTATE,
            "availability_zone": availability_zone,
            "metadata": metadata or {},
            "user_data": user_data,
            "key_name": key_pair["name"] if key_pair else None,
            "key_data": key_pair["public_key"] if key_pair else None,
            "config_drive": "True" if config_drive else "",
            "launch_index": index,
            "reservation_id": reservation_id,
            "progress": 0,
        }

    # --- read ------------------------------------------------------------------

    def get(self, context, instance_id):
        """The instance, if this context may see it; else InstanceNotFound."""
        instance = db.instance_get_by_uuid(context, instance_id)
        if not context.is_admin and instance["project_id"] != context.project_id:
            # 404, not 403: another project's server does not exist for you.
            raise exception.InstanceNotFound(instance_id=instance_id)
        return instance

    def get_all(self, context, all_tenants=False, name=None, limit=None, filters=None,
                marker=None, read_deleted=False, host=None):
        """Servers of the context's project, or of all (the API has checked
        that the context may ask for ``all_tenants`` and for each filter)."""
        project_id = None if all_tenants else context.project_id
        return db.instance_get_all_by_filters(context, project_id=project_id, name=name,
                                              limit=limit, filters=filters, marker=marker,
                                              read_deleted=read_deleted, host=host)

    # --- update, lock ----------------------------------------------------------

    def update_instance(self, context, instance, updates):
        """PUT /servers/<id>: the name and the description. The hostname the
        guest was given stays, as in Nova (until 2.90 made it settable)."""
        return db.instance_update(context, instance["uuid"], updates)

    def lock(self, context, instance, reason=None):
        """Lock: who locked it (the owner, or an admin of another project)
        decides who may unlock it. The owner's second lock changes nothing."""
        is_owner = instance["project_id"] == context.project_id
        if instance["locked"] and is_owner:
            return instance
        LOG.debug("Locking", instance=instance)
        with self._api_event(context, instance, instance_actions.LOCK):
            return db.instance_update(context, instance["uuid"], {
                "locked": True, "locked_by": "owner" if is_owner else "admin",
                "locked_reason": reason})

    @staticmethod
    def is_expected_locked_by(context, instance):
        """Whether this context is on the side (owner or admin) that locked it."""
        expected = "owner" if instance["project_id"] == context.project_id else "admin"
        return not instance["locked_by"] or instance["locked_by"] == expected

    def unlock(self, context, instance):
        LOG.debug("Unlocking", instance=instance)
        with self._api_event(context, instance, instance_actions.UNLOCK):
            return db.instance_update(context, instance["uuid"], {
                "locked": False, "locked_by": None, "locked_reason": None})

    @staticmethod
    @contextlib.contextmanager
    def _api_event(context, instance, action):
        """Record the action, and its one event (``api_lock``...) around the
        work done right here in the API, as Nova's
        ``wrap_instance_event(prefix="api")``."""
        actions_db.action_start(context, instance["uuid"], action)
        event = f"api_{action}"
        actions_db.action_event_start(context, instance["uuid"], event)
        try:
            yield
        except Exception:
            actions_db.action_event_finish(context, instance["uuid"], event, "Error",
                                           traceback.format_exc())
            raise
        actions_db.action_event_finish(context, instance["uuid"], event, "Success")

    def get_faults(self, context, instances):
        """Faults are shown only for servers in ERROR (and DELETED), as Nova."""
        uuids = [i["uuid"] for i in instances
                 if i["vm_state"] in (vm_states.ERROR, vm_states.DELETED)]
        return db.instance_fault_get_latest(context, uuids)

    # --- delete ----------------------------------------------------------------

    @check_instance_lock
    def delete(self, context, instance):
        actions_db.action_start(context, instance["uuid"], instance_actions.DELETE)
        if instance["vm_state"] == vm_states.RESIZED:
            # Deleting a resized server keeps the new size: the source's
            # set-aside copy is dropped first, as a confirm would (Nova's
            # _confirm_resize_on_deleting).
            self._confirm_resize_on_deleting(context, instance)
        if not instance["host"]:
            LOG.debug("Deleting instance that was never scheduled", instance=instance)
            self._local_cleanup_bdm_volumes(context, instance)
            db.instance_destroy(context, instance["uuid"])
            return
        if not self._compute_is_up(context, instance["host"]):
            LOG.warning("instance's host %s is down, deleting from database",
                        instance["host"], instance=instance)
            self._local_cleanup_bdm_volumes(context, instance)
            db.instance_destroy(context, instance["uuid"])
            return
        task_state = instance["task_state"]
        instance = db.instance_update(context, instance["uuid"],
                                      {"task_state": task_states.DELETING})
        try:
            self.compute_rpcapi.terminate_instance(context, instance)
        except rpc.MessageDeliveryFailure:
            # Nobody will delete it: not left 'deleting' for good (503).
            db.instance_update(context, instance["uuid"], {"task_state": task_state},
                               expected_task_state=[task_states.DELETING])
            raise

    def _confirm_resize_on_deleting(self, context, instance):
        try:
            migration = migrations_db.migration_get_by_instance_and_status(
                context, instance["uuid"], "finished")
        except exception.MigrationNotFoundByStatus:
            return
        migrations_db.migration_update(context, migration["id"], {"status": "confirming"})
        if self._compute_is_up(context, migration["source_compute"]):
            self.compute_rpcapi.confirm_resize(context, instance, migration,
                                               migration["source_compute"])

    @staticmethod
    def _compute_is_up(context, host):
        try:
            service = services_db.service_get_by_host_and_binary(context, host, "mininova-compute")
        except exception.HostBinaryNotFound:
            return False
        return servicegroup.is_up(service)

    # --- power actions -------------------------------------------------------------

    @undo_if_undelivered
    @check_instance_lock
    def stop(self, context, instance):
        """active or error → powering-off → stopped (graceful, then forced)."""
        instance = self._begin(context, instance, instance_actions.STOP,
                               task_states.POWERING_OFF,
                               vm_state=(vm_states.ACTIVE, vm_states.ERROR))
        self.compute_rpcapi.stop_instance(context, instance, clean_shutdown=True)

    @undo_if_undelivered
    @check_instance_lock
    def start(self, context, instance):
        instance = self._begin(context, instance, instance_actions.START,
                               task_states.POWERING_ON, vm_state=(vm_states.STOPPED,))
        self.compute_rpcapi.start_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def reboot(self, context, instance, reboot_type):
        """SOFT only from active with no task; HARD from more states, and
        may interrupt a soft reboot (or a pause...) that hangs."""
        if reboot_type == "SOFT":
            instance = self._begin(context, instance, instance_actions.REBOOT,
                                   task_states.REBOOTING, vm_state=(vm_states.ACTIVE,))
        else:
            instance = self._begin(context, instance, instance_actions.REBOOT,
                                   task_states.REBOOTING_HARD,
                                   vm_state=(vm_states.ACTIVE, vm_states.STOPPED,
                                             vm_states.PAUSED, vm_states.SUSPENDED,
                                             vm_states.ERROR),
                                   task_state=task_states.ALLOW_HARD_REBOOT)
        self.compute_rpcapi.reboot_instance(context, instance, reboot_type)

    @undo_if_undelivered
    @check_instance_lock
    def pause(self, context, instance):
        instance = self._begin(context, instance, instance_actions.PAUSE,
                               task_states.PAUSING, vm_state=(vm_states.ACTIVE,))
        self.compute_rpcapi.pause_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def unpause(self, context, instance):
        instance = self._begin(context, instance, instance_actions.UNPAUSE,
                               task_states.UNPAUSING, vm_state=(vm_states.PAUSED,))
        self.compute_rpcapi.unpause_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def suspend(self, context, instance):
        instance = self._begin(context, instance, instance_actions.SUSPEND,
                               task_states.SUSPENDING, vm_state=(vm_states.ACTIVE,))
        self.compute_rpcapi.suspend_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def resume(self, context, instance):
        instance = self._begin(context, instance, instance_actions.RESUME,
                               task_states.RESUMING, vm_state=(vm_states.SUSPENDED,))
        self.compute_rpcapi.resume_instance(context, instance)

    @undo_if_undelivered
    @check_instance_lock
    def trigger_crash_dump(self, context, instance):
        """An NMI to the guest (2.17), from any state with a guest that may run."""
        self._check_state(instance, instance_actions.TRIGGER_CRASH_DUMP,
                          vm_state=(vm_states.ACTIVE, vm_states.PAUSED, vm_states.RESIZED,
                                    vm_states.STOPPED, vm_states.ERROR))
        LOG.debug("Try to trigger crash dump", instance=instance)
        actions_db.action_start(context, instance["uuid"], instance_actions.TRIGGER_CRASH_DUMP)
        self.compute_rpcapi.trigger_crash_dump(context, instance)

    # --- snapshot and rebuild -----------------------------------------------------------

    @undo_if_undelivered
    def snapshot(self, context, instance, name, metadata=None):
        """createImage: a queued image now, its data once the compute has
        flattened the disk. Returns the image (its id goes in Location)."""
        self._check_state(instance, instance_actions.CREATE_IMAGE,
                          vm_state=(vm_states.ACTIVE, vm_states.STOPPED,
                                    vm_states.PAUSED, vm_states.SUSPENDED))
        self._refuse_with_volumes(context, instance, instance_actions.CREATE_IMAGE,
                                  data_volumes_too=False)
        image = self.image_api.create(context, name, disk_format="qcow2",
                                      min_disk=instance["flavor"]["root_gb"],
                                      min_ram=self._base_image_min_ram(context, instance),
                                      properties=self._snapshot_properties(
                                          context, instance, metadata))
        try:
            instance = self._begin(context, instance, instance_actions.CREATE_IMAGE,
                                   task_states.IMAGE_SNAPSHOT_PENDING,
                                   vm_state=(vm_states.ACTIVE, vm_states.STOPPED,
                                             vm_states.PAUSED, vm_states.SUSPENDED))
        except exception.InstanceInvalidState:
            # Someone else's action got there first: no orphan image.
            self.image_api.delete(context, image["id"])
            raise
        try:
            self.compute_rpcapi.snapshot_instance(context, instance, image["id"])
        except rpc.MessageDeliveryFailure:
            self.image_api.delete(context, image["id"])  # nobody will fill it
            raise
        return image

    def _snapshot_properties(self, context, instance, metadata):
        """What a snapshot says about where it came from (Nova's
        image_type/instance_uuid/base_image_ref), plus the base image's
        own hints (architecture...) so the scheduler treats it alike."""
        properties = {}
        try:
            base = self.image_api.show(context, instance["image_ref"])
        except exception.ImageNotFound:
            base = {}
        for key in ("hw_architecture", "img_hv_type", "architecture", "hypervisor_type"):
            if base.get(key):
                properties[key] = base[key]
        properties.update(metadata or {})
        properties.update(image_type="snapshot", instance_uuid=instance["uuid"],
                          base_image_ref=instance["image_ref"] or "",
                          owner_user_name=context.user_id or "")
        return properties

    def _base_image_min_ram(self, context, instance):
        try:
            return self.image_api.show(context, instance["image_ref"]).get("min_ram") or 0
        except exception.ImageNotFound:
            return 0

    @undo_if_undelivered
    @check_instance_lock
    def rebuild(self, context, instance, image_id, name=None, metadata=None, **changes):
        """Same server (uuid, host, flavor), a new disk from ``image_id``.

        ``changes``: other columns the rebuild sets, as later microversions
        allow: ``display_description`` (2.19), ``key_name`` (2.54),
        ``user_data`` (2.57)."""
        self._check_state(instance, instance_actions.REBUILD,
                          vm_state=(vm_states.ACTIVE, vm_states.STOPPED, vm_states.ERROR))
        self._refuse_with_volumes(context, instance, instance_actions.REBUILD)
        quota.check_metadata_items(context, instance["project_id"], metadata)
        image = self._get_image(context, image_id)
        self._check_image_fits_flavor(image, instance["flavor"])
        updates = dict(changes, image_ref=image["id"])
        if name is not None:
            updates.update(display_name=name, hostname=_hostname(name))
        if metadata is not None:
            updates["metadata"] = metadata
        instance = self._begin(context, instance, instance_actions.REBUILD,
                               task_states.REBUILDING,
                               vm_state=(vm_states.ACTIVE, vm_states.STOPPED,
                                         vm_states.ERROR),
                               **updates)
        self.compute_rpcapi.rebuild_instance(context, instance, image)
        return instance

    # --- resize and cold migration ---------------------------------------------------------

    @undo_if_undelivered
    @check_instance_lock
    def resize(self, context, instance, flavor_id=None, host_name=None):
        """Resize to ``flavor_id``, or with none, cold-migrate (same flavor,
        another host: ``host_name`` if the admin named one, 2.56). The
        conductor asks the scheduler for a destination."""
        action = instance_actions.RESIZE if flavor_id else instance_actions.MIGRATE
        self._check_state(instance, action, vm_state=(vm_states.ACTIVE, vm_states.STOPPED))
        self._refuse_with_volumes(context, instance, action)
        _refuse_local_disks(context, instance, action)
        if host_name is not None:
            self._check_migration_host(context, instance, host_name)
        current = instance["flavor"]
        if flavor_id is None:
            new_flavor = flavors_db.flavor_get_by_flavor_id(context, current["flavorid"])
        else:
            new_flavor = self._get_flavor(context, flavor_id)
            if new_flavor["flavorid"] == current["flavorid"]:
                raise exception.CannotResizeToSameFlavor()
            self._check_image_fits_flavor(self._image_or_empty(context, instance),
                                          new_flavor)
            # Only the growth in cores and RAM needs quota; not rechecked
            # after, as in Nova (a resize makes no new record to count).
            quota.check_upsize(context, instance, current, new_flavor)
        new_flavor = {field: new_flavor[field] for field in FLAVOR_SNAPSHOT_FIELDS}
        instance = self._begin(context, instance, action, task_states.RESIZE_PREP,
                               vm_state=(vm_states.ACTIVE, vm_states.STOPPED), progress=0)
        request_spec = scheduler_utils.build_request_spec(
            new_flavor, self._image_or_empty(context, instance), [instance["uuid"]],
            instance["project_id"], instance["user_id"], instance["availability_zone"])
        if flavor_id is None or not CONF.allow_resize_to_same_host:
            request_spec["ignore_hosts"] = [instance["host"]]
        if host_name is not None:
            request_spec["requested_destination"] = {"host": host_name}
        self.compute_task_api.migrate_server(context, instance, new_flavor, request_spec)

    @staticmethod
    def _check_migration_host(context, instance, host_name):
        if host_name == instance["host"]:
            raise exception.Invalid("Cannot migrate to the host where the server exists.")
        if not any(node["host"] == host_name for node in services_db.compute_node_get_all(context)):
            raise exception.Invalid(f"Compute host {host_name} could not be found.")

    def _image_or_empty(self, context, instance):
        try:
            return self.image_api.show(context, instance["image_ref"])
        except exception.ImageNotFound:
            # The image may be gone since the boot; the disk is not.
            return {"id": instance["image_ref"], "properties": {}}

    @undo_if_undelivered
    @check_instance_lock
    def confirm_resize(self, context, instance):
        """Keep the new size: the source host drops its set-aside copy."""
        self._check_state(instance, instance_actions.CONFIRM_RESIZE,
                          vm_state=(vm_states.RESIZED,))
        migration = migrations_db.migration_get_by_instance_and_status(context, instance["uuid"],
                                                                       "finished")
        migrations_db.migration_update(context, migration["id"], {"status": "confirming"})
        actions_db.action_start(context, instance["uuid"], instance_actions.CONFIRM_RESIZE)
        with _migration_put_back_if_undelivered(context, migration):
            self.compute_rpcapi.confirm_resize(context, instance, migration,
                                               migration["source_compute"])

    @undo_if_undelivered
    @check_instance_lock
    def revert_resize(self, context, instance):
        """Go back: the destination destroys its copy, then the source
        starts the instance again with the old flavor."""
        # Everything that can refuse the revert is checked before anything
        # changes: a refused revert leaves no task_state and no action.
        self._check_state(instance, instance_actions.REVERT_RESIZE,
                          vm_state=(vm_states.RESIZED,))
        migration = migrations_db.migration_get_by_instance_and_status(context, instance["uuid"],
                                                                       "finished")
        if instance["old_flavor"]:
            # Reverting a resize down grows the server back: quota, as Nova.
            quota.check_upsize(context, instance, instance["flavor"], instance["old_flavor"])
        instance = self._begin(context, instance, instance_actions.REVERT_RESIZE,
                               task_states.RESIZE_REVERTING,
                               vm_state=(vm_states.RESIZED,))
        migrations_db.migration_update(context, migration["id"], {"status": "reverting"})
        with _migration_put_back_if_undelivered(context, migration):
            self.compute_rpcapi.revert_resize(context, instance, migration,
                                              migration["dest_compute"])

    # --- the state checks every action shares -----------------------------------------------

    @staticmethod
    def _check_state(instance, action, vm_state, task_state=(None,)):
        """409 with Nova's message when the instance is not in a state the
        action accepts (vm_state checked first, as Nova does)."""
        if instance["vm_state"] not in vm_state:
            raise exception.InstanceInvalidState(
                action=action, server_id=instance["uuid"], attr="vm_state",
                state=instance["vm_state"])
        if instance["task_state"] not in task_state:
            raise exception.InstanceInvalidState(
                action=action, server_id=instance["uuid"], attr="task_state",
                state=instance["task_state"])
        if not instance["host"]:
            # Scheduled but never claimed by a compute: nobody to cast to.
            raise exception.InstanceNotReady(instance_id=instance["uuid"])

    def _begin(self, context, instance, action, new_task_state, vm_state,
               task_state=(None,), **updates):
        """Check the states, set the task_state only if they still hold
        (another request may have changed them since we read the row) and
        record the instance action. Returns the updated instance."""
        self._check_state(instance, action, vm_state, task_state)
        try:
            instance = db.instance_update(
                context, instance["uuid"], dict(updates, task_state=new_task_state),
                expected_task_state=list(task_state), expected_vm_state=list(vm_state))
        except exception.InstanceUpdateConflict:
            self._check_state(db.instance_get_by_uuid(context, instance["uuid"]),
                              action, vm_state, task_state)
            raise
        actions_db.action_start(context, instance["uuid"], action)
        return instance

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

    # --- events from other services ---------------------------------------------------

    def external_instance_event(self, context, instances, events):
        """One cast per host, with the events of its instances (Nova's)."""
        hosts = {}
        for instance in instances:
            hosts.setdefault(instance["host"], []).append(instance)
        for host, host_instances in hosts.items():
            uuids = {instance["uuid"] for instance in host_instances}
            self.compute_rpcapi.external_instance_event(
                context, host, host_instances,
                [event for event in events if event["server_uuid"] in uuids])

    # --- console -----------------------------------------------------------------

    def get_console_output(self, context, instance, tail_length=None):
        if not instance["host"] or instance["vm_state"] == vm_states.BUILDING:
            raise exception.InstanceNotRunning(instance_id=instance["uuid"])
        return self.compute_rpcapi.get_console_output(context, instance, tail_length)


class HostAPI:
    """Services and hypervisors, for the admin APIs."""

    def service_get_all(self, context, binary=None, host=None):
        services = availability_zones.services_with_zones(context, binary=binary, host=host)
        for service in services:
            service["zone"] = service["availability_zone"]
            service["up"] = servicegroup.is_up(service)
        return services

    def compute_node_get_all(self, context):
        return self._with_service(context, services_db.compute_node_get_all(context))

    def compute_node_get(self, context, node_id):
        return self._with_service(context, [services_db.compute_node_get(context, node_id)])[0]

    def _with_service(self, context, nodes):
        services = {s["id"]: s for s in self.service_get_all(context,
                                                             binary="mininova-compute")}
        for node in nodes:
            node["service"] = services.get(node["service_id"])
        return nodes


def _hostname(display_name):
    """A DNS-safe hostname from the display name (Nova's sanitize_hostname)."""
    allowed = "".join(c if c.isalnum() or c == "-" else "-" for c in display_name.lower())
    return allowed.strip("-")[:63] or "server"



def _refuse_local_disks(context, instance, action):
    """A resize or cold migration copies the root disk file only: a server
    with ephemeral or swap disks (``disk.eph0``, ``disk.swap``) would come up
    without them on the destination, so it is refused with a 409."""
    local = [r for r in bdm_db.bdm_get_all_by_instance(context, instance["uuid"])
             if r["source_type"] == "blank" and r["destination_type"] == "local"]
    if local:
        raise exception.Conflict(
            f"Cannot '{action}' instance {instance['uuid']} while it has ephemeral or swap "
            "disks: mininova moves the root disk only (use a flavor without ephemeral "
            "and swap for servers that move).")
