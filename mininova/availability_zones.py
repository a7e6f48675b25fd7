"""Which availability zone a service is in (mirrors ``nova/availability_zones.py``).

Nova has no table of zones. A zone is a name found on services:

* a compute service is in the zone its host's aggregates name (metadata key
  ``availability_zone``), else in ``default_availability_zone`` (``nova``);
* every other service (conductor, scheduler) is in
  ``internal_service_availability_zone`` (``internal``).

A zone is *available* when at least one of its services is enabled.

Left out: Nova's cache of each host's zone (the database is asked each time).
"""

from mininova.conf import CONF
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db

COMPUTE_BINARY = "mininova-compute"


def services_with_zones(context, binary=None, host=None):
    """Every service, with its ``availability_zone`` set as described above."""
    zone_of_host = scheduling_db.availability_zones_by_host(context)
    services = services_db.service_get_all(context, binary=binary, host=host)
    for service in services:
        if service["binary"] == COMPUTE_BINARY:
            service["availability_zone"] = zone_of_host.get(service["host"],
                                                            CONF.default_availability_zone)
        else:
            service["availability_zone"] = CONF.internal_service_availability_zone
    return services


def split_zones(services):
    """(available, not available) zone names, each sorted."""
    available = {s["availability_zone"] for s in services if not s["disabled"]}
    unavailable = {s["availability_zone"] for s in services
                   if s["disabled"] and s["availability_zone"] not in available}
    return sorted(available), sorted(unavailable)


def available_compute_zones(context):
    """Zones a server may be booted into: those with an enabled compute."""
    available, _unavailable = split_zones(services_with_zones(context, binary=COMPUTE_BINARY))
    return available
