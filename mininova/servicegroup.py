"""Is a service up? (mirrors ``nova/servicegroup/drivers/db.py``).

Each service writes a heartbeat (``last_seen_up``) every report_interval
seconds. It is *up* while that heartbeat is at most service_down_time
seconds old. Nothing else is checked: a service that hangs but still beats
is up, a healthy service cut from the database is down.

The scheduler asks about every compute service on every request; it reads
them with ``services_db.service_liveness_get_all(binary, up_since())``, which applies
the same rule in the database and hands each row an ``up`` that
:func:`is_up` trusts (at 10,000 hosts, 10,000 timestamps decoded and
compared in Python would be a third of a request).
"""

from datetime import timedelta

from oslo_log import log as logging
from oslo_utils import timeutils

from mininova import utils
from mininova.conf import CONF

LOG = logging.getLogger(__name__)


def up_since():
    """The oldest heartbeat that still counts as up, now."""
    return timeutils.utcnow() - timedelta(seconds=CONF.service_down_time)


def is_up(service):
    if service.get("up") is True:
        return True  # the database applied the rule (service_liveness_get_all)
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
