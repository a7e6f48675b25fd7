"""Is a service up? (mirrors ``nova/servicegroup/drivers/db.py``).

Each service writes a heartbeat (``last_seen_up``) every report_interval
seconds. It is *up* while that heartbeat is at most service_down_time
seconds old. Nothing else is checked: a service that hangs but still beats
is up, a healthy service cut from the database is down.
"""

from oslo_log import log as logging

from mininova import utils
from mininova.conf import CONF

LOG = logging.getLogger(__name__)


def is_up(service):
    if service.get("forced_down"):
        return False
    elapsed = utils.seconds_since(service.get("last_seen_up"))
    if elapsed is None or elapsed > CONF.service_down_time:
        LOG.debug(
            "Seems service %(binary)s on host %(host)s is down. Last heartbeat "
            "was %(lhb)s. Elapsed time is %(el)s",
            {"binary": service["binary"], "host": service["host"],
             "lhb": service.get("last_seen_up"), "el": elapsed},
        )
        return False
    return True


def down_reason(service):
    """A one-line explanation for a down service, or None when it is up."""
    if is_up(service):
        return None
    if service.get("forced_down"):
        return "service forced down"
    elapsed = utils.seconds_since(service.get("last_seen_up"))
    if elapsed is None:
        return "service has never reported"
    return (f"service down: last heartbeat {elapsed:.0f} s ago > service_down_time "
            f"{CONF.service_down_time} s")
