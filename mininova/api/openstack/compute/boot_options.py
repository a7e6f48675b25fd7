"""What ``POST /servers`` says about the new server's disks and networks
(mirrors ``_process_bdms_for_create``, ``_image_from_req_data`` and
``_process_networks_for_create`` of ``nova/api/openstack/compute/servers.py``).

**Disks.** ``openstack server create --image tiny`` sends the image twice:
as ``imageRef`` and as the one entry of ``block_device_mapping_v2`` that
describes the boot disk made from it on the host,
``{"boot_index": 0, "uuid": <image>, "source_type": "image",
"destination_type": "local", "delete_on_termination": true}``. That entry is
accepted, with or without ``imageRef`` (an absent or empty ``imageRef``
takes the entry's image). Any other mapping (a volume, a snapshot, a blank
disk, a second disk) is a 400 saying that block device mappings other
than the image boot disk are not supported yet: volumes arrive with the
volume service.

**Networks.** Until microversion 2.37, ``networks`` is an optional list of
``{"uuid"|"port"|"fixed_ip"}``; from 2.37 it is required, and may also be
``"auto"`` or ``"none"`` (Nova's message for a missing one:
``'networks' is a required property``). With the network service
(``[neutron] enabled``) they are the ports the compute makes; without,
``"auto"``, ``"none"`` and ``[]`` all mean a server without a network
interface, and a list naming networks or ports is a 400 saying networking
is not available.
"""

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import api_version_request
from mininova.api.openstack.compute.schemas import servers as schema
from mininova.conf import CONF

UNSUPPORTED_BDM = ("Block Device Mapping is Invalid: block device mappings other than the "
                   "image boot disk (boot_index 0, source_type image, destination_type "
                   "local) are not supported yet.")
NO_NETWORKING = ("Networking is not available: this cloud has no network service "
                 "([neutron] enabled is off), so networks and ports cannot be requested; "
                 "use \"networks\": \"none\" (or \"auto\") for a server without a "
                 "network interface.")


def image_from_request(server):
    """The image to boot from: ``imageRef``, or the image of the boot disk
    mapping. 400 for anything mininova cannot build yet."""
    image_ref = server.get("imageRef")
    mappings = server.get("block_device_mapping_v2") or []
    if not mappings:
        if not image_ref:
            raise exception.Invalid("Missing imageRef attribute")
        return image_ref
    if len(mappings) != 1 or not _is_image_boot_disk(mappings[0]):
        raise exception.Invalid(UNSUPPORTED_BDM)
    mapped_image = mappings[0].get("uuid") or mappings[0].get("image_id")
    if image_ref and image_ref != mapped_image:
        raise exception.Invalid(
            f"Block Device Mapping is Invalid: the boot disk's image {mapped_image} "
            f"is not the imageRef {image_ref}.")
    return image_ref or mapped_image


def _is_image_boot_disk(mapping):
    """The mapping clients send for ``--image``: nothing else in it but
    keys that change nothing for a local disk made from the image."""
    boot_index = mapping.get("boot_index")
    return (mapping.get("source_type") == "image"
            and mapping.get("destination_type") == "local"
            and boot_index is not None and int(boot_index) == 0
            and bool(mapping.get("uuid") or mapping.get("image_id"))
            and set(mapping) <= {"boot_index", "uuid", "image_id", "source_type",
                                 "destination_type", "delete_on_termination"})


def check_networks(body):
    """Validate ``networks`` for the request's microversion; the networks
    the compute is to give the server: ``"auto"`` (the project's network,
    also when nothing is said), ``"none"``, or a list of ``{"uuid", "port",
    "fixed_ip"}``. Without a network service (``[neutron] enabled`` off)
    every server is without one, and naming networks is a 400."""
    if api_version_request.is_supported("2.37"):
        validation.validate(schema.networks_v237, body)
    else:
        validation.validate(schema.networks_v21, body)
    networks = body["server"].get("networks")
    if not CONF.neutron.enabled:
        if networks in (None, "auto", "none", []):
            return "none"
        raise exception.Invalid(NO_NETWORKING)
    if networks in (None, "auto"):
        return "auto"
    if networks in ("none", []):
        return "none"
    return [{key: value for key, value in request.items()
             if key in ("uuid", "port", "fixed_ip")} for request in networks]
