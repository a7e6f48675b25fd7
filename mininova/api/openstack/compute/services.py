"""``/os-services`` (mirrors ``nova/api/openstack/compute/services.py``):
which services run where, and whether they are up; an admin disables a
compute service to keep new servers off its host (the ComputeFilter drops
it), enables it again, forces it down, or deletes the record of a host that
is gone. Admin only.

Two ways to change a service, by microversion:

* until 2.52, ``PUT /os-services/enable``, ``/disable``,
  ``/disable-log-reason`` and (2.11) ``/force-down`` with ``{"host",
  "binary", ...}`` in the body, answering the fields changed;
* from 2.53, ``PUT /os-services/<uuid>`` with ``status``,
  ``disabled_reason`` and/or ``forced_down``, answering the whole service.
  A service's ``id`` is then its uuid, in every body and in ``DELETE``.

Only compute services can be changed: enabling a scheduler means nothing.
``forced_down`` (shown from 2.11) is what an external monitor sets when it
knows a host is dead before its heartbeat says so: the service is down at
once (the servicegroup checks it).

Left out: Nova's check for evacuations when a host is forced back up (no
evacuate here), and cells (2.69's minimal bodies).
"""


from flask import Blueprint, jsonify
from oslo_utils import strutils, uuidutils

from mininova import exception, utils
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.schemas import services as schema
from mininova.db import api as db
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db

blueprint = Blueprint("services", __name__)

COMPUTE_BINARY = "mininova-compute"


def _view(service):
    uuid_for_id = api_version_request.is_supported("2.53")
    shown = {
        "id": service["uuid"] if uuid_for_id else service["id"],
        "binary": service["binary"],
        "host": service["host"],
        "zone": service["zone"],
        "status": "disabled" if service["disabled"] else "enabled",
        "state": "up" if service["up"] else "down",
        "updated_at": utils.isotime(service["last_seen_up"] or service["updated_at"]),
        "disabled_reason": service["disabled_reason"],
    }
    if api_version_request.is_supported("2.11"):
        shown["forced_down"] = service["forced_down"]
    return shown


def _admin_context(action):
    context = common.context()
    context.can(f"os_compute_api:os-services:{action}")
    return context


@blueprint.get("/os-services")
def index():
    context = _admin_context("list")
    params = validation.query(schema.index_query)
    services = common.host_api().service_get_all(
        context, binary=(params.get("binary") or [None])[-1],
        host=(params.get("host") or [None])[-1])
    return jsonify({"services": [_view(service) for service in services]})


@blueprint.put("/os-services/<service_id>")
@validation.schema(schema.update)
def update(service_id, body):
    if api_version_request.is_supported("2.53"):
        return jsonify({"service": _update_by_uuid(service_id, body)})
    context = _admin_context("update")
    actions = dict(ACTIONS)
    if api_version_request.is_supported("2.11"):
        actions["force-down"] = _force_down
    if service_id not in actions:
        raise exception.NotFound("Unknown action")
    return jsonify({"service": actions[service_id](context, body)})


# --- until 2.52: an action in the URL, the service in the body ------------------------

def _service_by_host_and_binary(context, host, binary):
    if binary != COMPUTE_BINARY:
        raise exception.Invalid(f"Updating a {binary} service is not supported. Only "
                                f"{COMPUTE_BINARY} services can be updated.")
    return services_db.service_get_by_host_and_binary(context, host, binary)


def _set_disabled(context, body, disabled, reason=None):
    service = _service_by_host_and_binary(context, body["host"], body["binary"])
    services_db.service_update(context, service["id"],
                               {"disabled": disabled, "disabled_reason": reason})
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


def _force_down(context, body):
    """2.11: mark the service down now, or let its heartbeat speak again."""
    if "forced_down" not in body:
        raise exception.Invalid("Missing forced_down field")
    forced_down = strutils.bool_from_string(body["forced_down"])
    service = _service_by_host_and_binary(context, body["host"], body["binary"])
    services_db.service_update(context, service["id"], {"forced_down": forced_down})
    return {"host": body["host"], "binary": body["binary"], "forced_down": forced_down}


ACTIONS = {"enable": _enable, "disable": _disable, "disable-log-reason": _disable_log_reason}


# --- from 2.53: the service's uuid in the URL, the changes in the body ---------------

def _update_by_uuid(service_id, body):
    if not uuidutils.is_uuid_like(service_id):
        raise exception.Invalid(f"Invalid uuid {service_id}")
    context = _admin_context("update")
    service = services_db.service_get_by_uuid(context, service_id)
    if service["binary"] != COMPUTE_BINARY:
        raise exception.Invalid(f"Updating a {service['binary']} service is not supported. "
                                f"Only {COMPUTE_BINARY} services can be updated.")
    changes = _changes(body)
    if not changes:
        raise exception.Invalid("No updates were requested. Fields 'status' or "
                                "'forced_down' should be specified.")
    services_db.service_update(context, service["id"], changes)
    [updated] = [s for s in common.host_api().service_get_all(context, host=service["host"])
                 if s["id"] == service["id"]]
    return _view(updated)


def _changes(body):
    changes = {}
    if body.get("status") == "enabled":
        if body.get("disabled_reason"):
            raise exception.Invalid("Specifying 'disabled_reason' with status 'enabled' "
                                    "is invalid.")
        changes.update(disabled=False, disabled_reason=None)
    elif body.get("status") == "disabled":
        changes.update(disabled=True, disabled_reason=body.get("disabled_reason"))
    if "forced_down" in body:
        changes["forced_down"] = strutils.bool_from_string(body["forced_down"], strict=True)
    return changes


# --- delete ------------------------------------------------------------------------

@blueprint.delete("/os-services/<service_id>")
def delete(service_id):
    context = _admin_context("delete")
    service = _service_to_delete(context, service_id)
    if service["binary"] == COMPUTE_BINARY:
        _forget_compute_host(context, service["host"])
    services_db.service_destroy(context, service["id"])
    return "", 204


def _service_to_delete(context, service_id):
    """By uuid from 2.53 (400 for anything else), by integer id before."""
    try:
        if api_version_request.is_supported("2.53"):
            if not uuidutils.is_uuid_like(service_id):
                raise exception.Invalid(f"Invalid uuid {service_id}")
            return services_db.service_get_by_uuid(context, service_id)
        try:
            number = strutils.validate_integer(service_id, "id")
        except ValueError as exc:
            raise exception.InvalidInput(reason=str(exc)) from exc
        return services_db.service_get(context, number)
    except exception.ServiceNotFound as exc:
        raise exception.NotFound(f"Service {service_id} not found.") from exc


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
