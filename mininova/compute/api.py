"""What the REST API calls to act on servers (mirrors ``nova/compute/api.py``).

The REST layer parses and validates; this layer decides. Creating a server:

1. look up the flavor (database) and the image (image service) and check
   they fit together (image min_ram/min_disk, image size vs. root disk);
2. write one ``instances`` row per server: vm_state ``building``,
   task_state ``scheduling``;
3. cast ``schedule_and_build_instances`` to the conductor and return, so the
   API answers 202 while the build goes on.

Deleting: a server that never reached a host is deleted right here; one
whose compute service is down is deleted in the database and its guest is
reaped when that compute comes back; otherwise task_state ``deleting`` and a
cast ``terminate_instance`` to its compute.

Left out: quotas, networks and ports, block device mappings, key pairs,
security groups, and every action but delete.
"""

import uuid

from oslo_log import log as logging

from mininova import availability_zones, exception, servicegroup
from mininova.compute import instance_actions, power_state, task_states, vm_states
from mininova.compute import rpcapi as compute_rpcapi
from mininova.conductor import api as conductor_api
from mininova.db import api as db
from mininova.db import scheduling as scheduling_db
from mininova.image import glance
from mininova.scheduler import utils as scheduler_utils

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3

# Flavor fields an instance keeps a copy of (Nova's instance_extra.flavor).
FLAVOR_SNAPSHOT_FIELDS = ("id", "flavorid", "name", "memory_mb", "vcpus", "root_gb",
                          "ephemeral_gb", "swap", "rxtx_factor", "extra_specs")


class API:
    def __init__(self):
        self.image_api = glance.API()
        self.compute_task_api = conductor_api.ComputeTaskAPI()
        self.compute_rpcapi = compute_rpcapi.ComputeAPI()

    # --- create --------------------------------------------------------------

    def create(self, context, name, flavor_id, image_id, min_count=1, max_count=1,
               metadata=None, availability_zone=None, user_data=None, key_name=None,
               config_drive=None, scheduler_hints=None):
        flavor = self._get_flavor(context, flavor_id)
        image = self._get_image(context, image_id)
        self._check_image_fits_flavor(image, flavor)
        self._check_availability_zone(context, availability_zone)
        group = self._get_server_group(context, scheduler_hints)
        count = max_count or min_count
        reservation_id = f"r-{uuid.uuid4().hex[:8]}"
        instances = [
            db.instance_create(context, self._instance_values(
                context, name, count, index, flavor, image, metadata, availability_zone,
                user_data, key_name, config_drive, reservation_id))
            for index in range(count)
        ]
        uuids = [instance["uuid"] for instance in instances]
        if group:
            # Members are recorded before scheduling, so the scheduler and the
            # computes see the whole group (Nova does it here too).
            group = scheduling_db.instance_group_members_add(context, group["uuid"], uuids)
        request_spec = scheduler_utils.build_request_spec(
            flavor, image, uuids, context.project_id, context.user_id, availability_zone,
            scheduler_hints, group)
        self.compute_task_api.schedule_and_build_instances(context, request_spec, image)
        return instances

    def _get_flavor(self, context, flavor_id):
        try:
            flavor = db.flavor_get_by_flavor_id(context, flavor_id)
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

    @staticmethod
    def _check_image_fits_flavor(image, flavor):
        """Refuse at the API what could never boot (Nova's _check_requested_image)."""
        if (image.get("min_ram") or 0) > flavor["memory_mb"]:
            raise exception.FlavorMemoryTooSmall()
        root_bytes = flavor["root_gb"] * GiB
        if root_bytes == 0:
            # A 0 GB root disk means "as big as the image": nothing to compare.
            return
        image_bytes = max(image.get("size") or 0, image.get("virtual_size") or 0)
        if image_bytes > root_bytes:
            raise exception.FlavorDiskSmallerThanImage(flavor_size=root_bytes,
                                                       image_size=image_bytes)
        min_disk_bytes = (image.get("min_disk") or 0) * GiB
        if min_disk_bytes > root_bytes:
            raise exception.FlavorDiskSmallerThanMinDisk(flavor_size=root_bytes,
                                                         image_min_disk=min_disk_bytes)

    @staticmethod
    def _instance_values(context, name, count, index, flavor, image, metadata,
                         availability_zone, user_data, key_name, config_drive,
                         reservation_id):
        # Several servers of one request are told apart as Nova does: name-1, name-2...
        display_name = f"{name}-{index + 1}" if count > 1 else name
        return {
            "uuid": str(uuid.uuid4()),
            "display_name": display_name,
            "hostname": _hostname(display_name),
            "user_id": context.user_id,
            "project_id": context.project_id,
            "image_ref": image["id"],
            "flavor": {field: flavor[field] for field in FLAVOR_SNAPSHOT_FIELDS},
            "vm_state": vm_states.BUILDING,
            "task_state": task_states.SCHEDULING,
            "power_state": power_state.NOSTATE,
            "availability_zone": availability_zone,
            "metadata": metadata or {},
            "user_data": user_data,
            "key_name": key_name,
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

    def get_all(self, context, all_tenants=False, name=None, limit=None):
        project_id = None if (all_tenants and context.is_admin) else context.project_id
        return db.instance_get_all_by_filters(context, project_id=project_id, name=name,
                                              limit=limit)

    def get_faults(self, context, instances):
        """Faults are shown only for servers in ERROR (and DELETED), as Nova."""
        uuids = [i["uuid"] for i in instances
                 if i["vm_state"] in (vm_states.ERROR, vm_states.DELETED)]
        return db.instance_fault_get_latest(context, uuids)

    # --- delete ----------------------------------------------------------------

    def delete(self, context, instance):
        db.action_start(context, instance["uuid"], instance_actions.DELETE)
        if not instance["host"]:
            LOG.debug("Deleting instance that was never scheduled", instance=instance)
            db.instance_destroy(context, instance["uuid"])
            return
        if not self._compute_is_up(context, instance["host"]):
            LOG.warning("instance's host %s is down, deleting from database",
                        instance["host"], instance=instance)
            db.instance_destroy(context, instance["uuid"])
            return
        instance = db.instance_update(context, instance["uuid"],
                                      {"task_state": task_states.DELETING})
        self.compute_rpcapi.terminate_instance(context, instance)

    @staticmethod
    def _compute_is_up(context, host):
        try:
            service = db.service_get_by_host_and_binary(context, host, "mininova-compute")
        except exception.HostBinaryNotFound:
            return False
        return servicegroup.is_up(service)

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
        return self._with_service(context, db.compute_node_get_all(context))

    def compute_node_get(self, context, node_id):
        return self._with_service(context, [db.compute_node_get(context, node_id)])[0]

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
