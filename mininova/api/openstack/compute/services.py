"""``/os-services`` (mirrors ``nova/api/openstack/compute/services.py``):
which services run where, and whether they are up; an admin disables a
compute service to keep new servers off its host (the ComputeFilter drops
it), enables it again, or deletes the record of a host that is gone. Admin
only.

``PUT /os-services/enable``, ``/disable`` and ``/disable-log-reason`` take
``{"host", "binary"}`` (and ``disabled_reason``) as in v2.1; the 2.53 form
(``PUT /os-services/<uuid>``) is left out, and so is ``force-down`` (2.11).
"""

from flask import Blueprint, jsonify, request

from mininova import exception, utils
from mininova.api import validation
from mininova.api.openstack import common
from mininova.api.openstack.compute.schemas import services as schema
from mininova.db import api as db
from mininova.db import scheduling as scheduling_db

blueprint = Blueprint("services", __name__)


def _view(service):
    return {
        "id": service["id"],
        "binary": service["binary"],
        "host": service["host"],
        "zone": service["zone"],
        "status": "disabled" if service["disabled"] else "enabled",
        "state": "up" if service["up"] else "down",
        "updated_at": utils.isotime(service["last_seen_up"] or service["updated_at"]),
        "disabled_reason": service["disabled_reason"],
        "forced_down": service["forced_down"],
    }


def _admin_context(action):
    context = common.context()
    context.can(f"os_compute_api:os-services:{action}")
    return context


@blueprint.get("/os-services")
def index():
    context = _admin_context("list")
    services = common.host_api().service_get_all(context, binary=request.args.get("binary"),
                                         host=request.args.get("host"))
    return jsonify({"services": [_view(service) for service in services]})


# --- enable / disable ------------------------------------------------------------

def _set_disabled(context, body, disabled, reason=None):
    service = db.service_get_by_host_and_binary(context, body["host"], body["binary"])
    db.service_update(context, service["id"], {"disabled": disabled, "disabled_reason": reason})
    answer = {"host": body["host"], "binary": body["binary"],
              "status": "disabled" if disabled else "enabled"}
    if reason:
        answer["disabled_reason"] = reason
    return answer


def _enable(context, body):
    return _set_disabled(context, body, False)


def _disable(context, body):
    return _set_disabled(context, body, True)


def _disable_log_reason(context, body):
    if "disabled_reason" not in body:
        raise exception.Invalid("Missing disabled reason field")
    return _set_disabled(context, body, True, body["disabled_reason"])


ACTIONS = {"enable": _enable, "disable": _disable, "disable-log-reason": _disable_log_reason}


@blueprint.put("/os-services/<action>")
@validation.schema(schema.service_update)
def update(action, body):
    context = _admin_context("update")
    if action not in ACTIONS:
        raise exception.NotFound("Unknown action")
    return jsonify({"service": ACTIONS[action](context, body)})


# --- delete ------------------------------------------------------------------------

@blueprint.delete("/os-services/<service_id>")
def delete(service_id):
    context = _admin_context("delete")
    try:
        service = db.service_get(context, int(service_id))
    except (ValueError, exception.ServiceNotFound) as exc:
        raise exception.NotFound(f"Service {service_id} not found.") from exc
    if service["binary"] == "mininova-compute":
        _forget_compute_host(context, service["host"])
    db.service_destroy(context, service["id"])
    return "", 204


def _forget_compute_host(context, host):
    """What goes with a compute service's record: its compute node (the
    database does that) and its place in aggregates. A host still holding
    servers is refused, as Nova refuses it."""
    if db.instance_get_all_by_host(context, host):
        raise exception.Conflict("Unable to delete compute service that is hosting "
                                 "instances. Migrate or delete the instances first.")
    for aggregate in scheduling_db.aggregate_get_all(context):
        if host in aggregate["hosts"]:
            scheduling_db.aggregate_host_delete(context, aggregate["id"], host)
