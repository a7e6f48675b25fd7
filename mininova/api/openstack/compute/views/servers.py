"""How a server looks in the API (mirrors ``nova/api/openstack/compute/views/servers.py``).

The body grew with the microversions; each addition below says which one
brought it, and appears only when the request asked for that version or a
later one:

* 2.3: more ``OS-EXT-SRV-ATTR:`` fields (hostname, launch index,
  reservation, kernel/ramdisk, root device, user data) for whoever may see
  the extended attributes (the admin, by default);
* 2.9 ``locked``, 2.73 ``locked_reason``; 2.16 ``host_status`` (admins);
  2.19 ``description``; 2.26 ``tags``; 2.63 ``trusted_image_certificates``;
* 2.47: ``flavor`` is the flavor itself (the instance's copy of it, so a
  flavor deleted or changed since does not change the server), no longer a
  link; its ``extra_specs`` only for whoever may read them;
* 2.71: ``server_groups`` (show, update and rebuild; not the list).

``PUT /servers/<id>`` and rebuild answered a shorter body until 2.75, which
made it the same as ``GET``'s: :func:`show` with ``full=False`` is that
shorter body.

``addresses`` come from the network info the compute cached (its ports).

``os-extended-volumes:volumes_attached`` lists the server's volumes
(``[{"id"}]``, with ``delete_on_termination`` from 2.3), read from its
block device mappings; ``image`` is ``""`` for a server booted from a
volume (it has no image), as in Nova.

Left out: ``security_groups`` stays the default group (not enforced), and
Nova's minimal bodies for servers of a cell that is down (2.69: mininova
has no cells).
"""

import hashlib

from mininova import exception, policy, servicegroup, utils
from mininova.api.openstack import api_version_request, common
from mininova.conf import CONF
from mininova.db import api as db
from mininova.db import block_devices as bdm_db
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db
from mininova.network import model as network_model

EXTENDED_ATTRIBUTES_RULE = "os_compute_api:os-extended-server-attributes"
FLAVOR_EXTRA_SPECS_RULE = "os_compute_api:servers:show:flavor-extra-specs"
HOST_STATUS_RULE = "os_compute_api:servers:show:host_status"
HOST_STATUS_UNKNOWN_ONLY_RULE = "os_compute_api:servers:show:host_status:unknown-only"

# The statuses that show a progress, and those that show a fault.
PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")

# Nova's HostStatus values (nova/objects/fields.py).
HOST_UP, HOST_DOWN, HOST_MAINTENANCE, HOST_UNKNOWN, HOST_NONE = (
    "UP", "DOWN", "MAINTENANCE", "UNKNOWN", "")

# The libvirt driver gives the root disk the first virtio device name.
ROOT_DEVICE_NAME = "/dev/vda"


def basic(instance):
    return {"id": instance["uuid"], "name": instance["display_name"],
            "links": common.links("servers", instance["uuid"])}


class Extras:
    """What the detailed view needs beyond the instance rows, read once for
    a whole list rather than once per server: faults, tags (2.26), the
    state of each host's compute service (2.16), block device mappings."""

    def __init__(self, context, instances):
        self.context = context
        self.faults = common.compute_api().get_faults(context, instances)
        uuids = [instance["uuid"] for instance in instances]
        self.bdms = bdm_db.bdm_get_all_by_instances(context, uuids)
        self.tags = (db.instance_tags_get(context, uuids)
                     if api_version_request.is_supported("2.26") else {})
        self._host_statuses = {}

    def host_status(self, instance):
        host = instance["host"]
        if not host:
            return HOST_NONE
        if host not in self._host_statuses:
            self._host_statuses[host] = _host_status(self.context, host)
        return self._host_statuses[host]


def _host_status(context, host):
    """UP, DOWN (forced down), MAINTENANCE (disabled) or UNKNOWN (no
    heartbeat) for the compute service of ``host``, as Nova reports it."""
    try:
        service = services_db.service_get_by_host_and_binary(context, host, "mininova-compute")
    except exception.HostBinaryNotFound:
        return HOST_NONE
    if service["forced_down"]:
        return HOST_DOWN
    if service["disabled"]:
        return HOST_MAINTENANCE
    return HOST_UP if servicegroup.is_up(service) else HOST_UNKNOWN


def detail_list(context, instances):
    """``GET /servers/detail``: every server's full body."""
    extras = Extras(context, instances)
    return [show(context, instance, extras) for instance in instances]


def show(context, instance, extras=None, full=True, show_server_groups=False,
         show_key_name=None, show_user_data=True):
    """One server's body at the request's version.

    ``full=False`` is the shorter body ``PUT /servers/<id>`` and rebuild
    answer before 2.75: no zone, config drive, key name (rebuild shows it
    from 2.54: ``show_key_name``), usage times, states, volumes, extended
    attributes or host status."""
    extras = extras or Extras(context, [instance])
    owner = common.owned_by(instance)
    server = _core(context, instance, owner)
    status = server["status"]
    if status in PROGRESS_STATUSES:
        server["progress"] = instance["progress"] or 0
    fault = extras.faults.get(instance["uuid"])
    if fault:
        server["fault"] = _fault(fault, context.is_admin)
    if show_key_name is None:
        show_key_name = full
    if full:
        server.update(_placement_and_usage(instance))
    if show_key_name:
        server["key_name"] = instance["key_name"]
    if full:
        server.update(_states(instance))
        server["os-extended-volumes:volumes_attached"] = _volumes_attached(
            extras.bdms.get(instance["uuid"], []))
        if policy.check(context, EXTENDED_ATTRIBUTES_RULE, owner):
            server.update(_extended_attributes(instance, show_user_data))
    server.update(_versioned_fields(context, instance, extras, full, owner))
    if show_server_groups:
        server["server_groups"] = _server_groups(context, instance)
    if api_version_request.is_supported("2.73"):
        server["locked_reason"] = instance["locked_reason"]
    return server


def _core(context, instance, owner):
    return {
        "id": instance["uuid"],
        "name": instance["display_name"],
        "status": common.status_from_state(instance["vm_state"], instance["task_state"]),
        "tenant_id": instance["project_id"],
        "user_id": instance["user_id"],
        "metadata": instance["metadata"] or {},
        "hostId": host_id(instance["project_id"], instance["host"]),
        "image": _image(instance["image_ref"]),
        "flavor": _flavor(context, instance["flavor"], owner),
        "created": utils.isotime(instance["created_at"]),
        "updated": utils.isotime(instance["updated_at"] or instance["created_at"]),
        # Its ports as its compute last saw them (network/model.py).
        "addresses": network_model.addresses(instance.get("network_info")),
        "accessIPv4": "",
        "accessIPv6": "",
        "links": common.links("servers", instance["uuid"]),
        "OS-DCF:diskConfig": "MANUAL",
    }


def _image(image_ref):
    """A link to the image; "" for a server booted from a volume."""
    if not image_ref:
        return ""
    return {"id": image_ref, "links": [_bookmark("images", image_ref)]}


def _volumes_attached(bdms):
    """The server's volumes (its mappings that have one); from 2.3 with
    ``delete_on_termination``."""
    volumes = []
    for bdm in bdms:
        if not bdm["volume_id"]:
            continue
        volume = {"id": bdm["volume_id"]}
        if api_version_request.is_supported("2.3"):
            volume["delete_on_termination"] = bool(bdm["delete_on_termination"])
        volumes.append(volume)
    return volumes


def _flavor(context, flavor, owner):
    """A link to the flavor until 2.47; from 2.47 the flavor itself, as the
    server got it (the name it had then is ``original_name``)."""
    if not api_version_request.is_supported("2.47"):
        return {"id": flavor["flavorid"],
                "links": [_bookmark("flavors", flavor["flavorid"])]}
    shown = {"vcpus": flavor["vcpus"], "ram": flavor["memory_mb"], "disk": flavor["root_gb"],
             "ephemeral": flavor["ephemeral_gb"], "swap": flavor["swap"],
             "original_name": flavor["name"]}
    if policy.check(context, FLAVOR_EXTRA_SPECS_RULE, owner):
        shown["extra_specs"] = flavor.get("extra_specs") or {}
    return shown


def _placement_and_usage(instance):
    return {
        "OS-EXT-AZ:availability_zone": instance["availability_zone"] or (
            CONF.default_availability_zone if instance["host"] else ""),
        "config_drive": instance["config_drive"] or "",
        "OS-SRV-USG:launched_at": utils.perfect_time(instance["launched_at"]),
        "OS-SRV-USG:terminated_at": utils.perfect_time(instance["terminated_at"]),
    }


def _states(instance):
    return {
        "OS-EXT-STS:task_state": instance["task_state"],
        "OS-EXT-STS:vm_state": instance["vm_state"],
        "OS-EXT-STS:power_state": instance["power_state"],
    }


def _extended_attributes(instance, show_user_data):
    """The ``OS-EXT-SRV-ATTR:`` fields: where the server runs (2.1) and, from
    2.3, what the EC2 API (split out of Nova then) needed to see."""
    attributes = {
        "OS-EXT-SRV-ATTR:host": instance["host"],
        "OS-EXT-SRV-ATTR:hypervisor_hostname": instance["node"],
        "OS-EXT-SRV-ATTR:instance_name": CONF.instance_name_template % instance["id"],
    }
    if api_version_request.is_supported("2.3"):
        attributes.update({
            "OS-EXT-SRV-ATTR:hostname": instance["hostname"],
            # mininova boots whole-disk images only: no separate kernel or
            # ramdisk, which Nova shows as empty strings too.
            "OS-EXT-SRV-ATTR:kernel_id": "",
            "OS-EXT-SRV-ATTR:launch_index": instance["launch_index"],
            "OS-EXT-SRV-ATTR:ramdisk_id": "",
            "OS-EXT-SRV-ATTR:reservation_id": instance["reservation_id"],
            "OS-EXT-SRV-ATTR:root_device_name": (ROOT_DEVICE_NAME if instance["launched_at"]
                                                 else None),
        })
        if show_user_data:
            attributes["OS-EXT-SRV-ATTR:user_data"] = instance["user_data"]
    return attributes


def _versioned_fields(context, instance, extras, full, owner):
    fields = {}
    if api_version_request.is_supported("2.9"):
        fields["locked"] = bool(instance["locked"])
    if full and api_version_request.is_supported("2.16"):
        status = _shown_host_status(context, instance, extras, owner)
        if status is not None:
            fields["host_status"] = status
    if api_version_request.is_supported("2.19"):
        fields["description"] = instance["display_description"]
    if api_version_request.is_supported("2.26"):
        fields["tags"] = extras.tags.get(instance["uuid"], [])
    if api_version_request.is_supported("2.63"):
        # mininova verifies no image signatures, so no server has trusted
        # certificates (Nova shows null for such a server too).
        fields["trusted_image_certificates"] = None
    return fields


def _shown_host_status(context, instance, extras, owner):
    """The host status if policy lets this user see it: all of it (admins),
    only UNKNOWN (the unknown-only rule), or none (None)."""
    if policy.check(context, HOST_STATUS_RULE, owner):
        return extras.host_status(instance)
    if policy.check(context, HOST_STATUS_UNKNOWN_ONLY_RULE, owner):
        status = extras.host_status(instance)
        return status if status == HOST_UNKNOWN else None
    return None


def _server_groups(context, instance):
    group = scheduling_db.instance_group_get_by_instance(context, instance["uuid"])
    return [group["uuid"]] if group else []


def _fault(fault, is_admin):
    body = {"code": fault["code"], "created": utils.isotime(fault["created_at"]),
            "message": fault["message"]}
    # A 500's details are a traceback: admins only, as in Nova.
    if fault.get("details") and (is_admin or fault["code"] != 500):
        body["details"] = fault["details"]
    return body


def host_id(project_id, host):
    """An opaque id of the host, per project: users can tell whether two of
    their servers share a host without learning the host's name."""
    if not host:
        return ""
    return hashlib.sha224(((project_id or "") + host).encode()).hexdigest()


def _bookmark(collection, resource_id):
    return {"rel": "bookmark", "href": f"{common.base_url()}/{collection}/{resource_id}"}
