"""Block device mappings as the API reads them (mirrors ``nova/block_device.py``).

A server's disks are described by ``block_device_mapping_v2`` entries, each
a *source* (where the data comes from: ``image``, ``snapshot``, ``volume``,
``blank``) and a *destination* (where the disk lives: ``local``, a file in
the instance directory on the compute host; ``volume``, a volume of the
volume service). This module turns a request's entries into the internal
dict (Nova's ``BlockDeviceDict``: every column of the
``block_device_mapping`` table, None when not given), converts the legacy
``block_device_mapping`` form (EC2-era ``virtual_name``/``volume_id``/
``snapshot_id`` entries) into it, and answers the questions the API and the
compute ask about a list of them (the root, the swap, the ephemerals).

What each combination means (nova/compute/api.py checks the rest):

==================  ===========  ==============================================
source              destination  what the server gets
==================  ===========  ==============================================
image               local        the root disk made from the image on the host
                                 (only as boot_index 0 with ``imageRef``: what
                                 clients send for ``--image``)
blank               local        an ephemeral disk, or swap (guest_format swap)
volume              volume       that volume, attached (boot_index 0: boot
                                 from volume)
snapshot            volume       a new volume made from the snapshot, attached
image               volume       a new volume with the image written into it
blank               volume       a new empty volume of ``volume_size``
==================  ===========  ==============================================

A missing ``destination_type`` is ``local`` for ``image`` and ``blank``, and
``volume`` for ``volume`` and ``snapshot`` (the only place they can live).
``volume`` or ``snapshot`` to ``local`` is a 400: Nova's API reference says
those sources are only valid with a volume destination.

Left out: the encryption fields, image-defined mappings (the
``block_device_mapping`` property Nova's snapshots of volume-backed servers
carry), ``no_device`` entries (they only suppress image-defined mappings;
they are dropped), the legacy ``legacy()`` back-conversion and the EC2
device-name helpers.
"""

import re

from oslo_utils import strutils, units

from mininova import exception

# Every field of a mapping as Nova's BlockDeviceDict knows it, less encryption.
FIELDS = frozenset({
    "source_type", "destination_type", "guest_format", "device_type", "disk_bus",
    "boot_index", "device_name", "delete_on_termination", "snapshot_id", "volume_id",
    "volume_size", "image_id", "no_device", "connection_info", "tag", "volume_type"})
LEGACY_FIELDS = frozenset({
    "device_name", "delete_on_termination", "virtual_name", "snapshot_id", "volume_id",
    "volume_size", "no_device", "connection_info"})
DB_ONLY_FIELDS = frozenset({"id", "instance_uuid", "attachment_id", "uuid", "created_at",
                            "updated_at", "deleted_at", "deleted"})

SOURCE_TYPES = ("image", "snapshot", "volume", "blank")
DESTINATION_TYPES = ("local", "volume")
# Nova's fields.BlockDeviceType and fields.DiskBus.
DEVICE_TYPES = ("cdrom", "disk", "floppy", "fs", "lun")
DISK_BUSES = ("fdc", "ide", "sata", "scsi", "usb", "virtio", "xen", "lxc", "uml")

# Image properties the volume service keeps in volume_image_metadata as
# strings, which Nova turns back into an image's attributes.
VIM_IMAGE_ATTRIBUTES = ("image_id", "image_name", "size", "checksum", "container_format",
                        "disk_format", "min_ram", "min_disk")


def new(bdm_dict, do_not_default=()):
    """The internal mapping: ``bdm_dict`` checked (no unknown field, a
    source_type unless ``no_device``, a device name without spaces, an
    integer volume_size and boot_index), with ``/dev/`` before the device
    name and every other field None (Nova's ``BlockDeviceDict()``)."""
    bdm_dict = dict(bdm_dict)
    _validate(bdm_dict)
    if bdm_dict.get("device_name"):
        bdm_dict["device_name"] = prepend_dev(bdm_dict["device_name"])
    bdm_dict["delete_on_termination"] = bool(bdm_dict.get("delete_on_termination"))
    result = {field: None for field in FIELDS - set(do_not_default)}
    result.update(bdm_dict)
    return result


def _validate(bdm_dict):
    unknown = set(bdm_dict) - (FIELDS | DB_ONLY_FIELDS)
    if unknown:
        raise exception.InvalidBDMFormat(
            details="Following fields are invalid: " + " ".join(sorted(unknown)))
    if bdm_dict.get("no_device"):
        return
    if "source_type" not in bdm_dict:
        raise exception.InvalidBDMFormat(details="Some required fields are missing")
    if "delete_on_termination" in bdm_dict:
        bdm_dict["delete_on_termination"] = strutils.bool_from_string(
            bdm_dict["delete_on_termination"])
    if bdm_dict.get("device_name") is not None:
        validate_device_name(bdm_dict["device_name"])
    if bdm_dict.get("volume_size"):
        try:
            bdm_dict["volume_size"] = int(bdm_dict["volume_size"])
        except (TypeError, ValueError):
            raise exception.InvalidBDMFormat(details="Invalid volume_size.") from None
    if bdm_dict.get("boot_index") is not None:
        try:
            bdm_dict["boot_index"] = int(bdm_dict["boot_index"])
        except (TypeError, ValueError):
            raise exception.InvalidBDMFormat(details="Boot index is invalid.") from None


def validate_device_name(value):
    if not isinstance(value, str) or not 1 <= len(value) <= 255:
        raise exception.InvalidBDMFormat(details="Device name empty or too long.")
    if " " in value:
        raise exception.InvalidBDMFormat(details="Device name contains spaces.")


def from_api(api_dict, image_uuid_specified):
    """One ``block_device_mapping_v2`` entry as the internal mapping
    (Nova's ``BlockDeviceDict.from_api``): ``uuid`` becomes the
    ``<source>_id``, and the combinations Nova refuses here are a 400."""
    api_dict = dict(api_dict)
    if not api_dict.get("no_device"):
        source_type = api_dict.get("source_type")
        device_uuid = api_dict.get("uuid")
        destination_type = api_dict.get("destination_type") or _default_destination(
            source_type)
        if destination_type:
            api_dict["destination_type"] = destination_type
        volume_type = api_dict.get("volume_type")
        if source_type == "blank" and device_uuid:
            raise exception.InvalidBDMFormat(details="Invalid device UUID.")
        if source_type in SOURCE_TYPES and source_type != "blank":
            device_uuid = device_uuid or api_dict.get(f"{source_type}_id")
            if not device_uuid:
                raise exception.InvalidBDMFormat(details="Missing device UUID.")
            api_dict[f"{source_type}_id"] = device_uuid
        if source_type == "image" and destination_type == "local":
            boot_index = api_dict.get("boot_index")
            boot_index = -1 if boot_index is None else int(boot_index)
            # Only the root disk clients add for --image (imageRef given).
            if not (image_uuid_specified and boot_index == 0):
                raise exception.InvalidBDMFormat(
                    details="Mapping image to local is not supported.")
        if source_type in ("volume", "snapshot") and destination_type == "local":
            raise exception.InvalidBDMFormat(
                details=f"Mapping {source_type} to local is not supported: a "
                        f"{source_type} can only be used with destination_type volume.")
        if destination_type == "local" and volume_type:
            raise exception.InvalidBDMFormat(
                details="Specifying a volume_type with destination_type=local is not "
                        "supported.")
        if source_type == "volume" and volume_type:
            raise exception.InvalidBDMFormat(
                details="Specifying volume type to existing volume is not supported.")
    api_dict.pop("uuid", None)
    return new(api_dict)


def _default_destination(source_type):
    if source_type in ("volume", "snapshot"):
        return "volume"
    if source_type in ("image", "blank"):
        return "local"
    return None


def from_legacy(legacy_bdm):
    """One legacy ``block_device_mapping`` entry as the internal mapping:
    ``virtual_name`` swap or ephemeralN is a local blank disk, a
    ``snapshot_id`` a volume made from it, a ``volume_id`` that volume."""
    new_bdm = {field: value for field, value in legacy_bdm.items()
               if field in (LEGACY_FIELDS & FIELDS) | DB_ONLY_FIELDS}
    virtual_name = legacy_bdm.get("virtual_name")
    if is_swap_or_ephemeral(virtual_name):
        new_bdm.update(source_type="blank", destination_type="local",
                       delete_on_termination=True,
                       # Nova's [DEFAULT] default_ephemeral_format is None too.
                       guest_format="swap" if virtual_name == "swap" else None)
    elif legacy_bdm.get("snapshot_id"):
        new_bdm.update(source_type="snapshot", destination_type="volume")
    elif legacy_bdm.get("volume_id"):
        new_bdm.update(source_type="volume", destination_type="volume")
    elif legacy_bdm.get("no_device"):
        pass
    else:
        raise exception.InvalidBDMFormat(details="Unrecognized legacy format.")
    # These cannot be computed from the legacy form: left out, not None.
    return new(new_bdm, do_not_default={"boot_index", "disk_bus", "guest_format",
                                        "device_type"})


def from_legacy_mapping(legacy_mappings, image_uuid="", root_device_name=None):
    """A legacy list as internal mappings (Nova's ``from_legacy_mapping``):
    the one on the root device name boots (boot from volume), the others
    do not; with an image and no such volume, the image's root disk is
    added first. An empty list with an image is just that root disk, which
    is what a plain ``imageRef`` boot becomes."""
    new_bdms = [from_legacy(legacy) for legacy in legacy_mappings]
    if not root_device_name and not image_uuid:
        non_blank = [bdm for bdm in new_bdms if bdm["source_type"] != "blank"]
        if non_blank:
            non_blank[0]["boot_index"] = 0
        return new_bdms
    volume_backed = False
    for bdm in new_bdms:
        if (bdm["source_type"] in ("volume", "snapshot", "image")
                and root_device_name is not None
                and strip_dev(bdm.get("device_name")) == strip_dev(root_device_name)):
            bdm["boot_index"] = 0
            volume_backed = True
        elif not bdm.get("no_device"):
            bdm["boot_index"] = -1
        else:
            bdm["boot_index"] = None
    if not volume_backed and image_uuid:
        return [create_image_bdm(image_uuid), *new_bdms]
    return new_bdms


def create_image_bdm(image_ref, boot_index=0):
    """The root disk made from the image on the compute host."""
    return new({"source_type": "image", "image_id": image_ref, "delete_on_termination": True,
                "boot_index": boot_index, "device_type": "disk",
                "destination_type": "local"})


def create_blank_bdm(size, guest_format=None):
    """An ephemeral disk (or swap) of the flavor: ``size`` in GB (swap: MB)."""
    return new({"source_type": "blank", "delete_on_termination": True, "device_type": "disk",
                "boot_index": -1, "destination_type": "local", "guest_format": guest_format,
                "volume_size": size})


# --- questions about one mapping or a list of them ---------------------------

def is_swap_or_ephemeral(virtual_name):
    return bool(virtual_name) and (virtual_name == "swap"
                                   or re.match(r"^ephemeral(\d|[1-9]\d+)$", virtual_name))


def new_format_is_swap(bdm):
    return (bdm.get("source_type") == "blank" and bdm.get("destination_type") == "local"
            and bdm.get("guest_format") == "swap")


def new_format_is_ephemeral(bdm):
    return (bdm.get("source_type") == "blank" and bdm.get("destination_type") == "local"
            and bdm.get("guest_format") != "swap")


def is_volume(bdm):
    return bdm.get("destination_type") == "volume"


def get_root_bdm(bdms):
    """The mapping the server boots from (boot_index 0), or None."""
    return next((bdm for bdm in bdms if bdm.get("boot_index") == 0), None)


def get_bdm_swap_list(bdms):
    return [bdm for bdm in bdms if new_format_is_swap(bdm)]


def strip_dev(device_name):
    """``/dev/vdb`` → ``vdb``."""
    return re.sub(r"^/dev/", "", device_name) if device_name else device_name


def prepend_dev(device_name):
    """``vdb`` → ``/dev/vdb``."""
    return device_name and "/dev/" + strip_dev(device_name)


def get_device_letter(device_name):
    """``/dev/vdb`` → ``b``, ``sda1`` → ``a``."""
    return re.sub(r"\d+", "", re.sub(r"^((x?v|s|h)d)", "", strip_dev(device_name) or ""))


# --- the image a volume-backed server boots ----------------------------------

def get_bdm_image_metadata(context, image_api, volume_api, bdms, legacy_bdm=True):
    """What stands for the image of a server booted without ``imageRef``:
    the image of an image → volume root, else the metadata the volume
    service kept of the image written into the root volume (or the
    snapshot's volume). ``{}`` when no mapping boots."""
    for bdm in bdms:
        if legacy_bdm:
            if get_device_letter(bdm.get("device_name") or "") != "a":
                continue
        elif bdm.get("boot_index") != 0:
            continue
        volume_id = bdm.get("volume_id")
        if bdm.get("snapshot_id"):
            # A snapshot has no image metadata of its own: its volume has.
            volume_id = volume_api.get_snapshot(context, bdm["snapshot_id"])["volume_id"]
        if bdm.get("image_id"):
            try:
                return image_api.show(context, bdm["image_id"])
            except Exception:
                raise exception.InvalidBDMImage(id=bdm["image_id"]) from None
        if volume_id:
            try:
                volume = volume_api.get(context, volume_id)
            except exception.CinderConnectionFailed:
                raise
            except Exception:
                raise exception.InvalidBDMVolume(id=volume_id) from None
            if not volume.get("bootable", True):
                raise exception.InvalidBDMVolumeNotBootable(id=volume_id)
            return get_image_metadata_from_volume(volume)
    return {}


def get_image_metadata_from_volume(volume):
    """An image dict from a volume: its size (GB → bytes), min_ram and
    min_disk from the image written into it, its other properties, status
    ``active`` (Nova's old hack, so that the flavor checks accept it).
    Properties are at the top, as in mininova's image dicts (Glance v2's
    shape; Nova nests them under ``properties``), and there is no ``id``:
    the server has no image."""
    properties = dict(volume.get("volume_image_metadata") or {})
    image_meta = {"size": (volume.get("size") or 0) * units.Gi, "status": "active"}
    for attr in VIM_IMAGE_ATTRIBUTES:
        value = properties.pop(attr, None)
        if attr in ("min_ram", "min_disk"):
            image_meta[attr] = int(value or 0)
    return {**properties, **image_meta}
