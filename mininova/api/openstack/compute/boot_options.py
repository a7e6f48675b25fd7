"""What ``POST /servers`` says about the new server's disks and networks
(mirrors ``_process_bdms_for_create``, ``_image_from_req_data`` and
``_process_networks_for_create`` of ``nova/api/openstack/compute/servers.py``).

**Disks.** ``block_device_mapping_v2`` (or the legacy
``block_device_mapping``, never both: 400) lists the server's disks; each
entry goes through ``mininova/block_device.py`` (Nova's ``BlockDeviceDict``)
here, and through the checks that need the flavor, the image and the
volume service in ``mininova/compute/api.py``. ``openstack server create
--image tiny`` sends the image twice: as ``imageRef`` and as the entry
``{"boot_index": 0, "uuid": <image>, "source_type": "image",
"destination_type": "local"}`` for the root disk made from it. Without
mappings ``imageRef`` is required (``Missing imageRef attribute``); with
them it may be absent or "": a server booted from a volume has no image.
Asking for any mapping needs ``os_compute_api:servers:create:attach_volume``
(a project member, as in Nova).

**Networks.** Until microversion 2.37, ``networks`` is an optional list of
``{"uuid"|"port"|"fixed_ip"}``; from 2.37 it is required, and may also be
``"auto"`` or ``"none"`` (Nova's message for a missing one:
``'networks' is a required property``). An entry may carry a device role
``tag`` from 2.32 to 2.36 and from 2.42 on (see the schemas); the compute
keeps it on the port's VIF (``mininova/network/neutron.py``). With the network service
(``[neutron] enabled``) they are the ports the compute makes; without,
``"auto"``, ``"none"`` and ``[]`` all mean a server without a network
interface, and a list naming networks or ports is a 400 saying networking
is not available.
"""

from mininova import block_device, exception
from mininova.api import validation
from mininova.api.openstack.compute.schemas import servers as schema
from mininova.conf import CONF

NO_NETWORKING = ("Networking is not available: this cloud has no network service "
                 "([neutron] enabled is off), so networks and ports cannot be requested; "
                 "use \"networks\": \"none\" (or \"auto\") for a server without a "
                 "network interface.")


def block_devices_from_request(context, server):
    """``(mappings, legacy)``: the request's block device mappings as
    internal dicts (legacy ones still in their legacy form, converted with
    the image and root device known, as Nova does), and whether they are
    legacy. No mapping at all is ``([], True)``: then the image alone makes
    the root disk (``from_legacy_mapping`` of nothing)."""
    legacy = server.get("block_device_mapping") or []
    mappings_v2 = server.get("block_device_mapping_v2") or []
    if legacy and mappings_v2:
        raise exception.Invalid("Using different block_device_mapping syntaxes is not "
                                "allowed in the same request.")
    if mappings_v2:
        image_uuid_specified = server.get("imageRef") not in (None, "")
        mappings = [block_device.from_api(entry, image_uuid_specified)
                    for entry in mappings_v2]
        context.can("os_compute_api:servers:create:attach_volume")
        # no_device only hides a mapping the image defines: mininova's
        # images define none, so it hides nothing.
        return [bdm for bdm in mappings if not bdm.get("no_device")], False
    if legacy:
        context.can("os_compute_api:servers:create:attach_volume")
        return [dict(entry) for entry in legacy if not entry.get("no_device")], True
    return [], True


def image_from_request(server, block_device_mapping):
    """``imageRef``, or "" for a server booted from its mappings."""
    image_ref = server.get("imageRef")
    if image_ref:
        return image_ref
    if block_device_mapping:
        return ""
    raise exception.Invalid("Missing imageRef attribute")


def check_networks(body):
    """Validate ``networks`` for the request's microversion; the networks
    the compute is to give the server: ``"auto"`` (the project's network,
    also when nothing is said), ``"none"``, or a list of ``{"uuid", "port",
    "fixed_ip", "tag"}``. Without a network service (``[neutron] enabled`` off)
    every server is without one, and naming networks is a 400."""
    validation.validate(schema.networks, body)
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
             if key in ("uuid", "port", "fixed_ip", "tag")} for request in networks]
