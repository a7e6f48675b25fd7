"""The volume service's default policy rules (mirrors ``cinder/policies/``:
``volumes.py``, ``volume_actions.py``, ``attachments.py``, ``snapshots.py``,
``volume_type.py``, ``volume_metadata.py``, ``quotas.py``, ``limits.py``).

Cinder's rule names, and Cinder's defaults since its "secure RBAC" work,
the same as Nova's: a project's **reader** may look, its **member** may
act, the **admin** may do anything, and some things are the admin's alone
(forcing a status, the volume's host, managing types). They are registered
with Nova's rules in :mod:`mininova.policy` (the names do not collide), so
one ``policy.yaml`` overrides either.

Left out: scope types (system vs project scope) and the deprecated rules
Cinder still carries for older policy files.
"""

from mininova.policies.base import ADMIN, PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, rule

# volumes
CREATE = "volume:create"
CREATE_FROM_IMAGE = "volume:create_from_image"
GET = "volume:get"
GET_ALL = "volume:get_all"
UPDATE = "volume:update"
DELETE = "volume:delete"
HOST_ATTRIBUTE = "volume_extension:volume_host_attribute"
TENANT_ATTRIBUTE = "volume_extension:volume_tenant_attribute"
MIG_ATTRIBUTE = "volume_extension:volume_mig_status_attribute"
IMAGE_METADATA_SHOW = "volume_extension:volume_image_metadata:show"
# volume actions
EXTEND = "volume:extend"
RESET_STATUS = "volume_extension:volume_admin_actions:reset_status"
RESERVE = "volume_extension:volume_actions:reserve"
UNRESERVE = "volume_extension:volume_actions:unreserve"
BEGIN_DETACHING = "volume_extension:volume_actions:begin_detaching"
ROLL_DETACHING = "volume_extension:volume_actions:roll_detaching"
# attachments
ATTACHMENT_CREATE = "volume:attachment_create"
ATTACHMENT_UPDATE = "volume:attachment_update"
ATTACHMENT_DELETE = "volume:attachment_delete"
ATTACHMENT_COMPLETE = "volume:attachment_complete"
# snapshots
SNAPSHOT_GET = "volume:get_snapshot"
SNAPSHOT_GET_ALL = "volume:get_all_snapshots"
SNAPSHOT_CREATE = "volume:create_snapshot"
SNAPSHOT_DELETE = "volume:delete_snapshot"
SNAPSHOT_ATTRIBUTES = "volume_extension:extended_snapshot_attributes"
# quotas and limits
QUOTAS_SHOW = "volume_extension:quotas:show"
QUOTAS_UPDATE = "volume_extension:quotas:update"
QUOTAS_DELETE = "volume_extension:quotas:delete"
LIMITS_USED = "limits_extension:used_limits"
# volume types
TYPE_GET = "volume_extension:type_get"
TYPE_GET_ALL = "volume_extension:type_get_all"
TYPE_EXTRA_SPECS = "volume_extension:access_types_extra_specs"
TYPE_CREATE = "volume_extension:type_create"
TYPE_DELETE = "volume_extension:type_delete"

_MEMBER = [
    (CREATE, "Create a volume."),
    (CREATE_FROM_IMAGE, "Create a volume from an image."),
    (UPDATE, "Change a volume's name, description or metadata."),
    (DELETE, "Delete a volume."),
    (EXTEND, "Make a volume bigger."),
    (RESERVE, "Mark a volume attaching (the attach API before attachments)."),
    (UNRESERVE, "Undo os-reserve."),
    (BEGIN_DETACHING, "Mark an in-use volume detaching (Nova, before a detach)."),
    (ROLL_DETACHING, "Undo os-begin_detaching (Nova, when the detach failed)."),
    (ATTACHMENT_CREATE, "Reserve a volume for an instance: an attachment."),
    (ATTACHMENT_UPDATE, "Give an attachment its connector: the volume is exported."),
    (ATTACHMENT_DELETE, "Delete an attachment: the export is closed."),
    (ATTACHMENT_COMPLETE, "Mark an attachment attached: the volume is in-use."),
    (SNAPSHOT_CREATE, "Snapshot a volume."),
    (SNAPSHOT_DELETE, "Delete a snapshot."),
]
_READER = [
    (GET, "Show a volume."),
    (GET_ALL, "List volumes."),
    (TENANT_ATTRIBUTE, "See a volume's project (os-vol-tenant-attr:tenant_id)."),
    (IMAGE_METADATA_SHOW, "See what the image said of a volume made from it."),
    (SNAPSHOT_GET, "Show a snapshot."),
    (SNAPSHOT_GET_ALL, "List snapshots."),
    (SNAPSHOT_ATTRIBUTES, "See a snapshot's project and progress."),
    (TYPE_GET, "Show a volume type."),
    (TYPE_GET_ALL, "List volume types."),
    (TYPE_EXTRA_SPECS, "See volume types' extra specs."),
    (QUOTAS_SHOW, "See a project's volume quotas (its own, or any for the admin)."),
    (LIMITS_USED, "See the project's absolute limits and what it uses."),
]
_ADMIN = [
    (HOST_ATTRIBUTE, "See the volume service holding a volume (os-vol-host-attr:host)."),
    (MIG_ATTRIBUTE, "See a volume's migration status."),
    (RESET_STATUS, "Force a volume's status (and close its exports)."),
    (TYPE_CREATE, "Create a volume type."),
    (TYPE_DELETE, "Delete a volume type."),
    (QUOTAS_UPDATE, "Set a project's volume quotas."),
    (QUOTAS_DELETE, "Put a project's volume quotas back to the defaults."),
]

rules = (
    [rule(name, PROJECT_MEMBER_OR_ADMIN, description) for name, description in _MEMBER]
    + [rule(name, PROJECT_READER_OR_ADMIN, description) for name, description in _READER]
    + [rule(name, ADMIN, description) for name, description in _ADMIN]
)
