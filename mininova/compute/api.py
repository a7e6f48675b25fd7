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
migrate, which need the scheduler first). That pattern is
``api_checks.py``; the actions are mixins of :class:`API`, each in a file
of its own: ``api_server_actions.py`` (stop … createImage, rebuild) and
``api_resize.py`` (resize, migrate, confirm, revert). Server metadata is
``api_metadata.py``, network interfaces ``api_interfaces.py``.

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
import traceback
import uuid

from oslo_log import log as logging
from oslo_utils import units

from mininova import availability_zones, block_device, exception, quota, rpc, servicegroup
from mininova.compute import instance_actions, power_state, task_states, vm_states
from mininova.compute import rpcapi as compute_rpcapi
from mininova.compute.api_block_devices import BlockDeviceMappingMixin, VolumeAttachMixin
from mininova.compute.api_checks import ActionChecksMixin, check_instance_lock
from mininova.compute.api_interfaces import InterfaceAttachMixin
from mininova.compute.api_metadata import MetadataMixin
from mininova.compute.api_resize import ResizeMixin
from mininova.compute.api_server_actions import ServerActionsMixin
from mininova.compute.flavors import FLAVOR_SNAPSHOT_FIELDS
from mininova.conductor import api as conductor_api
from mininova.conf import CONF
from mininova.db import api as db
from mininova.db import flavors as flavors_db
from mininova.db import instance_actions as actions_db
from mininova.db import keypairs as keypairs_db
from mininova.db import resize_migrations as migrations_db
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db
from mininova.image import glance
from mininova.network import neutron
from mininova.scheduler import utils as scheduler_utils
from mininova.utils import sanitize_hostname
from mininova.volume import cinder

LOG = logging.getLogger(__name__)


def _api_publish_timeout():
    """How long a request waits for an unreachable broker before its 503:
    ``[api] rpc_publish_timeout`` (read when sending, after the config)."""
    return CONF.api.rpc_publish_timeout


class API(ServerActionsMixin, ResizeMixin, MetadataMixin, InterfaceAttachMixin,
          BlockDeviceMappingMixin, VolumeAttachMixin, ActionChecksMixin):
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
            "hostname": sanitize_hostname(display_name),
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
