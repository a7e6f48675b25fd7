"""``/os-availability-zone`` (mirrors
``nova/api/openstack/compute/availability_zone.py`` and
``nova/availability_zones.py``).

Nova has no table of zones: :mod:`mininova.availability_zones` finds each
service's zone (its host's aggregates, else ``nova``; ``internal`` for the
controller services).

A zone is *available* when at least one of its services is enabled (Nova
does not look at heartbeats here), and listed as not available when all of
them are disabled. An aggregate whose zone has no hosts makes no zone.

``GET /os-availability-zone`` (any user): the zones, without the internal
one and without hosts. ``GET /os-availability-zone/detail`` (admin): every
zone, ``internal`` included, with the enabled services of each host:
``{"available": <heartbeat is recent>, "active": <enabled>, "updated_at"}``.

Left out: Nova's cache of each host's zone (we ask the database each time)
and the api/metadata services, which mininova does not register.
"""

from flask import Blueprint, jsonify

from mininova import servicegroup, utils
from mininova.api.openstack import common
from mininova.availability_zones import services_with_zones, split_zones
from mininova.conf import CONF

blueprint = Blueprint("availability_zone", __name__)


@blueprint.get("/os-availability-zone")
def index():
    context = common.context()
    context.can("os_compute_api:os-availability-zone:list")
    available, unavailable = split_zones(services_with_zones(context.elevated()))
    internal = CONF.internal_service_availability_zone
    zones = ([_zone(name, True) for name in available if name != internal]
             + [_zone(name, False) for name in unavailable if name != internal])
    return jsonify({"availabilityZoneInfo": zones})


@blueprint.get("/os-availability-zone/detail")
def detail():
    context = common.context()
    context.can("os_compute_api:os-availability-zone:detail")
    services = services_with_zones(context)
    available, unavailable = split_zones(services)
    zones = ([_zone(name, True, _hosts_of_zone(services, name)) for name in available]
             + [_zone(name, False) for name in unavailable])
    return jsonify({"availabilityZoneInfo": zones})


def _zone(name, available, hosts=None):
    return {"zoneName": name, "zoneState": {"available": available}, "hosts": hosts}


def _hosts_of_zone(services, zone):
    """``{host: {binary: state}}`` of the zone's enabled services."""
    hosts = {}
    for service in services:
        if service["availability_zone"] != zone or service["disabled"]:
            continue
        hosts.setdefault(service["host"], {})[service["binary"]] = {
            "available": servicegroup.is_up(service),
            "active": not service["disabled"],
            "updated_at": utils.isotime(service["last_seen_up"] or service["updated_at"]),
        }
    return hosts
