"""How volumes, snapshots, attachments and types look in the API (mirrors
Cinder's view builders: ``cinder/api/v3/views/volumes.py``,
``snapshots.py``, ``attachments.py``, ``types.py``, and the attributes its
API extensions add: ``os-vol-tenant-attr``, ``os-vol-host-attr``,
``os-vol-mig-status-attr``, ``volume_image_metadata``,
``os-extended-snapshot-attributes``).

Field for field Cinder's, at the microversion asked for (see
:mod:`.microversions`); the fields of features left out are there with
Cinder's "nothing" values (``consistencygroup_id`` null,
``replication_status`` null, ``encrypted`` false, ``multiattach`` false),
so that clients that read them find them.
"""

from mininova import policy
from mininova.volume.service import common, fields
from mininova.volume.service import microversions as mv
from mininova.volume.service import policies as rules

# --- volumes ------------------------------------------------------------------------------

def volume_summary(volume):
    return {"id": volume["id"], "name": volume["display_name"],
            "links": common.links("volumes", volume["id"])}


def volume_detail(volume, volume_type_name):
    context = common.context()
    version = common.version()
    target = {"project_id": volume["project_id"], "user_id": volume["user_id"]}
    view = {
        "id": volume["id"],
        "status": volume["status"],
        "size": volume["size"],
        "availability_zone": volume["availability_zone"],
        "created_at": common.timestamp(volume["created_at"]),
        "updated_at": common.timestamp(volume["updated_at"]),
        "name": volume["display_name"],
        "description": volume["display_description"],
        "volume_type": volume_type_name,
        "snapshot_id": volume["snapshot_id"],
        "source_volid": volume["source_volid"],
        "metadata": volume["metadata"] or {},
        "links": common.links("volumes", volume["id"]),
        "user_id": volume["user_id"],
        # A string in Cinder's API, "true" or "false".
        "bootable": str(bool(volume["bootable"])).lower(),
        "encrypted": False,
        "replication_status": None,
        "consistencygroup_id": None,
        "multiattach": bool(volume["multiattach"]),
        "attachments": attachments_of(volume, context),
    }
    if policy.check(context, rules.TENANT_ATTRIBUTE, target):
        view["os-vol-tenant-attr:tenant_id"] = volume["project_id"]
    if policy.check(context, rules.HOST_ATTRIBUTE, target):
        view["os-vol-host-attr:host"] = volume["host"]
    if policy.check(context, rules.MIG_ATTRIBUTE, target):
        view["os-vol-mig-status-attr:migstat"] = None
        view["os-vol-mig-status-attr:name_id"] = None
        view["migration_status"] = None
    if volume["image_metadata"] and policy.check(context, rules.IMAGE_METADATA_SHOW, target):
        view["volume_image_metadata"] = dict(volume["image_metadata"])
    if mv.matches(version, mv.GROUP_VOLUME):
        view["group_id"] = None
    if mv.matches(version, mv.VOLUME_DETAIL_PROVIDER_ID) and context.is_admin:
        view["provider_id"] = None
    if mv.matches(version, mv.VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS):
        # One export per attachment: no target is shared between
        # attachments, so Nova needs no lock around connect/disconnect.
        view["shared_targets"] = False
        view["service_uuid"] = None
    return view


def attachments_of(volume, context):
    """The volume's attached attachments, as a volume's detail lists them
    (the reserved and attaching ones are not shown, as in Cinder)."""
    shown = []
    for attachment in volume["volume_attachment"]:
        if attachment["attach_status"] != fields.ATTACH_ATTACHED:
            continue
        item = {
            "id": volume["id"],
            "attachment_id": attachment["id"],
            "volume_id": volume["id"],
            "server_id": attachment["instance_uuid"],
            "host_name": None,
            "device": attachment["mountpoint"],
            "attached_at": common.timestamp(attachment["attach_time"]),
        }
        if context.is_admin or "service" in context.roles:
            item["host_name"] = attachment["attached_host"]
        shown.append(item)
    return shown


# --- snapshots ------------------------------------------------------------------------------

def snapshot_detail(snapshot):
    context = common.context()
    view = {
        "id": snapshot["id"],
        "created_at": common.timestamp(snapshot["created_at"]),
        "updated_at": common.timestamp(snapshot["updated_at"]),
        "name": snapshot["display_name"],
        "description": snapshot["display_description"],
        "volume_id": snapshot["volume_id"],
        "status": snapshot["status"],
        "size": snapshot["volume_size"],
        "metadata": snapshot["metadata"] or {},
    }
    target = {"project_id": snapshot["project_id"], "user_id": snapshot["user_id"]}
    if policy.check(context, rules.SNAPSHOT_ATTRIBUTES, target):
        view["os-extended-snapshot-attributes:project_id"] = snapshot["project_id"]
        view["os-extended-snapshot-attributes:progress"] = snapshot["progress"]
    if mv.matches(common.version(), mv.SNAPSHOT_LIST_USER_ID):
        view["user_id"] = snapshot["user_id"]
    return view


# --- attachments -----------------------------------------------------------------------------

def attachment_summary(attachment):
    return {
        "id": attachment["id"],
        "status": attachment["attach_status"],
        "instance": attachment["instance_uuid"],
        "volume_id": attachment["volume_id"],
    }


def attachment_detail(attachment):
    view = attachment_summary(attachment)
    view.update({
        # Cinder answers '' (not null) for a time not reached yet.
        "attached_at": common.timestamp(attachment["attach_time"]) or "",
        "detached_at": common.timestamp(attachment["detach_time"]) or "",
        "attach_mode": attachment["attach_mode"],
        "connection_info": attachment["connection_info"] or {},
    })
    return view


# --- volume types ----------------------------------------------------------------------------

def volume_type(volume_type):
    context = common.context()
    view = {
        "id": volume_type["id"],
        "name": volume_type["name"],
        "is_public": volume_type["is_public"],
        "description": volume_type["description"],
        "os-volume-type-access:is_public": volume_type["is_public"],
    }
    if policy.check(context, rules.TYPE_EXTRA_SPECS):
        view["extra_specs"] = dict(volume_type["extra_specs"] or {})
    if context.is_admin:
        view["qos_specs_id"] = None
    return view
