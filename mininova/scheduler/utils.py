"""Helpers of the scheduling path (mirrors ``nova/scheduler/utils.py``)."""

from oslo_log import log as logging

from mininova import exception
from mininova.compute import utils as compute_utils
from mininova.conf import CONF

LOG = logging.getLogger(__name__)


def set_vm_state_and_notify(context, api, instance_uuid, service, method, updates, exc):
    """Put an instance in the state ``updates`` says (ERROR) and record why.

    ``api`` has the database API's methods: ``mininova.db.api`` in the
    conductor, the conductor's RPC client on a compute.
    """
    LOG.warning("Failed to %(service)s_%(method)s: %(ex)s",
                {"service": service, "method": method, "ex": exc})
    LOG.warning("Setting instance to %s state.", updates["vm_state"].upper(),
                instance={"uuid": instance_uuid})
    # The fault first: whoever sees the ERROR must also see why.
    compute_utils.add_instance_fault_from_exc(context, api, instance_uuid, exc)
    try:
        api.instance_update(context, instance_uuid, updates)
    except Exception:
        LOG.exception("Could not set the state of instance %s", instance_uuid)


def requested_disk_mb(spec):
    """The local disk a request asks of a host, in MB: the flavor's root,
    ephemeral and swap, less the root for a server booted from a volume
    (its root disk lives in the volume service, as Nova's
    ``resources_from_request_spec`` leaves DISK_GB's root out for
    ``is_bfv``)."""
    flavor = spec["flavor"]
    root_gb = 0 if spec.get("is_bfv") else flavor["root_gb"]
    return 1024 * (root_gb + flavor["ephemeral_gb"]) + flavor["swap"]


def build_request_spec(flavor, image, instance_uuids, project_id, user_id,
                       availability_zone=None, scheduler_hints=None, instance_group=None,
                       requested_destination=None):
    """What the scheduler needs to know about a request (Nova's RequestSpec)."""
    return {
        "instance_uuids": list(instance_uuids),
        "num_instances": len(instance_uuids),
        "flavor": flavor,
        "image": image,
        "project_id": project_id,
        "user_id": user_id,
        "availability_zone": availability_zone,
        "scheduler_hints": scheduler_hints or {},
        # {"uuid", "name", "policy", "members"}: for the server group filters.
        "instance_group": _group_for_spec(instance_group),
        "retry": {"num_attempts": 1, "hosts": []},
        # {"host", "node"} the request asked for (microversions 2.56, 2.74).
        "requested_destination": requested_destination,
    }


def _group_for_spec(group):
    if not group:
        return None
    return {key: group.get(key) for key in ("uuid", "name", "policy", "members", "rules")}


def populate_retry(filter_properties, instance_uuid):
    """Count one more attempt; raise MaxRetriesExceeded past max_attempts.

    ``filter_properties["retry"]`` is ``{"num_attempts", "hosts", "exc_reason"}``:
    the hosts already tried (the RetryFilter skips them) and why the last
    attempt failed.
    """
    retry = filter_properties.setdefault("retry", {"num_attempts": 0, "hosts": []})
    retry["num_attempts"] += 1
    max_attempts = CONF.scheduler.max_attempts
    if retry["num_attempts"] > max_attempts:
        msg = ("Exceeded max scheduling attempts %(max_attempts)d for instance "
               "%(instance_uuid)s. Last exception: %(exc_reason)s"
               % {"max_attempts": max_attempts, "instance_uuid": instance_uuid,
                  "exc_reason": retry.get("exc_reason")})
        raise exception.MaxRetriesExceeded(reason=msg)
    return retry
