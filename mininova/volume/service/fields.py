"""The status vocabulary of volumes, attachments and snapshots (mirrors
``cinder/objects/fields.py`` and the volume statuses that Cinder keeps as
plain strings in ``cinder/volume/api.py`` and ``manager.py``).

A volume's ``status`` is what users and Nova watch::

    creating ─┬─> available ──(attachment create)──> reserved
              │      ^  ^                               │ (attachment update:
              │      │  │                               v  the export opens)
              │      │  └──(attachment delete)──── attaching
              │      │                                  │ (os-complete)
              │      │                                  v
              │      └────(attachment delete)────── in-use <─┐
              │                                         │    │ os-roll_detaching
              │                                  os-begin_detaching
              │                                         v    │
              │                                     detaching┘
              └─> downloading (an image is written into it) ─> available
    creating / downloading ──(failure)──> error
    available / error ──(delete)──> deleting ──> (gone) | error_deleting
    available ──(os-extend)──> extending ──> available | error_extending

An attachment has its own ``attach_status``: ``reserved`` (a record, no
connection yet) → ``attaching`` (the export is open, connection_info
given) → ``attached`` (the compute said it is done: os-complete);
``error_attaching`` when opening the export failed; ``detached`` once
deleted. A volume also has an ``attach_status`` (detached, reserved,
attaching, attached) summing up its attachments, as Cinder's does.

A snapshot's status: ``creating`` → ``available`` | ``error``;
``deleting`` → (gone) | ``error_deleting``.

The helpers below are the rules the API checks before a transition; the
transition itself is a compare-and-swap in :mod:`.db` (Cinder's
``conditional_update``), so two requests racing on one volume cannot both
win.
"""

# --- volume status ------------------------------------------------------------

CREATING = "creating"
DOWNLOADING = "downloading"
AVAILABLE = "available"
RESERVED = "reserved"
ATTACHING = "attaching"
IN_USE = "in-use"
DETACHING = "detaching"
EXTENDING = "extending"
DELETING = "deleting"
ERROR = "error"
ERROR_DELETING = "error_deleting"
ERROR_EXTENDING = "error_extending"

VOLUME_STATUSES = (CREATING, DOWNLOADING, AVAILABLE, RESERVED, ATTACHING, IN_USE,
                   DETACHING, EXTENDING, DELETING, ERROR, ERROR_DELETING, ERROR_EXTENDING)

# Cinder's list in its delete check (cinder/volume/api.py), kept whole so
# that the 400 reads as Cinder's; the last two are states mininova never
# reaches (no backups to restore, no volumes to manage).
DELETABLE_STATUSES = (AVAILABLE, ERROR, "error_restoring", ERROR_EXTENDING, "error_managing")
# A volume may be reserved for an attachment only from these (Cinder also
# takes "downloading", see docs/volumes.md); "in-use" too for the same
# instance, which Nova does when it moves a server.
RESERVABLE_STATUSES = (AVAILABLE,)
SNAPSHOTTABLE_STATUSES = (AVAILABLE,)
FORCE_SNAPSHOTTABLE_STATUSES = (AVAILABLE, IN_USE)
# A new volume may copy a source volume in these (Cinder's SRC_VOL_PROCEED_STATUS).
CLONEABLE_STATUSES = (AVAILABLE, IN_USE)
# Statuses an admin may set with os-reset_status (Cinder accepts any string
# the status field holds; these are the ones that mean something here).
RESETTABLE_STATUSES = VOLUME_STATUSES


# --- attach status (of a volume, and of one attachment) --------------------------

ATTACH_DETACHED = "detached"
ATTACH_RESERVED = "reserved"
ATTACH_ATTACHING = "attaching"
ATTACH_ATTACHED = "attached"
ATTACH_ERROR_ATTACHING = "error_attaching"
ATTACH_STATUSES = (ATTACH_DETACHED, ATTACH_RESERVED, ATTACH_ATTACHING, ATTACH_ATTACHED,
                   ATTACH_ERROR_ATTACHING)
# An attachment in these has an open export, to re-open after a restart.
EXPORTED_ATTACH_STATUSES = (ATTACH_ATTACHING, ATTACH_ATTACHED)


# --- snapshot status -------------------------------------------------------------

SNAPSHOT_CREATING = "creating"
SNAPSHOT_AVAILABLE = "available"
SNAPSHOT_DELETING = "deleting"
SNAPSHOT_ERROR = "error"
SNAPSHOT_ERROR_DELETING = "error_deleting"
SNAPSHOT_STATUSES = (SNAPSHOT_CREATING, SNAPSHOT_AVAILABLE, SNAPSHOT_DELETING,
                     SNAPSHOT_ERROR, SNAPSHOT_ERROR_DELETING)
SNAPSHOT_DELETABLE_STATUSES = (SNAPSHOT_AVAILABLE, SNAPSHOT_ERROR)
# A volume may be made from a snapshot only in this one (SNAPSHOT_PROCEED_STATUS).
SNAPSHOT_USABLE_STATUSES = (SNAPSHOT_AVAILABLE,)


# --- the rules -------------------------------------------------------------------

def build_or_str(values, template="%s"):
    """``('a', 'b', 'c')`` as ``a or b or c``, in ``template``: the way
    Cinder's messages list the statuses that would have been accepted."""
    if isinstance(values, str):
        values = (values,)
    return template % " or ".join(values)


def attach_status_after_detach(remaining_attach_statuses):
    """A volume's (status, attach_status) once one of its attachments is
    deleted: still in-use while another one is attached (Cinder's
    ``Volume.finish_detach``), else available."""
    if ATTACH_ATTACHED in remaining_attach_statuses:
        return IN_USE, ATTACH_ATTACHED
    return AVAILABLE, ATTACH_DETACHED


def reserve_status_allowed(volume_status, attachment_instances, instance_uuid):
    """Whether an attachment for ``instance_uuid`` may be reserved on a
    volume that has ``volume_status`` and attachments for
    ``attachment_instances`` (no multiattach).

    ``available`` always; ``in-use`` or ``reserved`` only when the volume is
    already attached to that same instance: Nova makes a second attachment
    for the instance's destination host when it moves a server, before it
    deletes the first (Cinder's LP bug 1694530).
    """
    if volume_status in RESERVABLE_STATUSES:
        return True
    return (instance_uuid is not None and volume_status in (IN_USE, RESERVED)
            and instance_uuid in attachment_instances)
