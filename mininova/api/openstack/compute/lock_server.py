"""``lock`` and ``unlock`` server actions (mirrors
``nova/api/openstack/compute/lock_server.py``).

A locked server refuses every lifecycle action and its delete with 409
``Instance <uuid> is locked``, except to an admin (the check is the compute
API's ``check_instance_lock``). The server shows ``locked`` from 2.9 and
``locked_reason`` from 2.73, when a reason may be given with the lock.

Who locked it matters: a lock by the owner's project may be lifted by that
project; a lock by an admin of another project only by an admin (the rule
``os_compute_api:os-lock-server:unlock:unlock_override``).
"""

from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute import servers
from mininova.api.openstack.compute.schemas import lock_server as schema


@servers.register_action("lock", schema.lock, "os_compute_api:os-lock-server:lock")
def lock(context, instance, body):
    reason = None
    if api_version_request.is_supported("2.73") and body["lock"] is not None:
        reason = body["lock"].get("locked_reason")
    common.compute_api().lock(context, instance, reason=reason)
    return "", 202


@servers.register_action("unlock", schema.unlock, "os_compute_api:os-lock-server:unlock")
def unlock(context, instance, body):
    if not common.compute_api().is_expected_locked_by(context, instance):
        context.can("os_compute_api:os-lock-server:unlock:unlock_override",
                    common.owned_by(instance))
    common.compute_api().unlock(context, instance)
    return "", 202
