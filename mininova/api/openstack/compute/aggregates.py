"""``/os-aggregates`` (mirrors ``nova/api/openstack/compute/aggregates.py``
and the ``AggregateAPI`` of ``nova/compute/api.py``). Admin only.

A host aggregate is a named set of compute hosts with key/value metadata.
Users never see aggregates, but one metadata key reaches them: an
aggregate's ``availability_zone`` puts its hosts in that zone, which
``os-availability-zone`` lists and ``boot --availability-zone`` asks for.
So the zone is guarded here the way Nova guards it:

* a host lives in one zone: it cannot join an aggregate whose zone differs
  from the zone another of its aggregates gives it (409 on add_host, 400 when
  an aggregate's zone is changed under hosts that are elsewhere);
* a zone cannot be emptied once named (Nova's "does not support empty named
  availability zone": delete the aggregate instead);
* the controller services' zone (``internal_service_availability_zone``)
  cannot be given to compute hosts (a mininova check: in Nova nothing stops
  it, and the zone then vanishes from the users' list).

Answers keep Nova's v2.1 quirks: create returns 200 without ``hosts`` and
``metadata``; delete returns 200 with an empty body; ids in URLs are integers.
From microversion 2.41 every answer also carries the aggregate's ``uuid``.

Left out: notifications, the placement aggregate sync, the image cache
pre-loading action (2.81), and Nova's refusal to rename a zone whose hosts
already run servers (Stein).
"""

from flask import Blueprint, jsonify

from mininova import exception, utils
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.schemas import aggregates as schema
from mininova.conf import CONF
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db

blueprint = Blueprint("aggregates", __name__)

COMPUTE_BINARY = "mininova-compute"


# --- views ------------------------------------------------------------------

def _view(aggregate):
    shown = {
        "availability_zone": aggregate["availability_zone"],
        "created_at": utils.isotime(aggregate["created_at"]),
        "deleted": False,
        "deleted_at": None,
        "hosts": aggregate["hosts"],
        "id": aggregate["id"],
        "metadata": aggregate["metadata"],
        "name": aggregate["name"],
        "updated_at": utils.isotime(aggregate["updated_at"]),
    }
    if api_version_request.is_supported("2.41"):
        shown["uuid"] = aggregate["uuid"]
    return shown


def _admin_context(action):
    context = common.context()
    context.can(f"os_compute_api:os-aggregates:{action}")
    return context


def _aggregate_id(raw_id):
    # The v2.1 API names aggregates by their integer id only.
    if not raw_id.isdigit():
        raise exception.InvalidInput(reason="id must be an integer")
    return int(raw_id)


# --- the collection and its members ---------------------------------------------

@blueprint.get("/os-aggregates")
def index():
    context = _admin_context("index")
    return jsonify({"aggregates": [_view(aggregate)
                                   for aggregate in scheduling_db.aggregate_get_all(context)]})


@blueprint.post("/os-aggregates")
@validation.schema(schema.create)
def create(body):
    context = _admin_context("create")
    name = body["aggregate"]["name"]
    zone = body["aggregate"].get("availability_zone")
    if zone == CONF.internal_service_availability_zone:
        raise exception.InvalidInput(reason=_internal_zone_reason(zone))
    aggregate = _view(scheduling_db.aggregate_create(context, name, zone))
    # Nova's create answer has neither (kept for compatibility since 2.1).
    del aggregate["hosts"], aggregate["metadata"]
    return jsonify({"aggregate": aggregate})


@blueprint.get("/os-aggregates/<aggregate_id>")
def show(aggregate_id):
    context = _admin_context("show")
    aggregate = scheduling_db.aggregate_get(context, _aggregate_id(aggregate_id))
    return jsonify({"aggregate": _view(aggregate)})


@blueprint.put("/os-aggregates/<aggregate_id>")
@validation.schema(schema.update)
def update(aggregate_id, body):
    context = _admin_context("update")
    aggregate = scheduling_db.aggregate_get(context, _aggregate_id(aggregate_id))
    updates = body["aggregate"]
    if "availability_zone" in updates:
        _check_zone_change(context, aggregate, updates["availability_zone"],
                           exception.InvalidAggregateActionUpdate)
    aggregate = scheduling_db.aggregate_update(
        context, aggregate["id"], name=updates.get("name"),
        availability_zone=updates.get("availability_zone"))
    return jsonify({"aggregate": _view(aggregate)})


@blueprint.delete("/os-aggregates/<aggregate_id>")
def delete(aggregate_id):
    context = _admin_context("delete")
    # Refused (400) while the aggregate still has hosts.
    scheduling_db.aggregate_delete(context, _aggregate_id(aggregate_id))
    # 200 and no body, as Nova answers (a 204 would have been right).
    return "", 200


# --- actions: POST /os-aggregates/<id>/action {"<action>": {...}} --------------------

def _add_host(context, aggregate_id, body):
    host = body["add_host"]["host"]
    _check_compute_host(context, host)
    aggregate = scheduling_db.aggregate_get(context, aggregate_id)
    if aggregate["availability_zone"]:
        _check_hosts_not_elsewhere(context, aggregate, aggregate["availability_zone"],
                                   [host], exception.InvalidAggregateActionAdd)
    return scheduling_db.aggregate_host_add(context, aggregate_id, host)


def _remove_host(context, aggregate_id, body):
    host = body["remove_host"]["host"]
    try:
        _check_compute_host(context, host)
        return scheduling_db.aggregate_host_delete(context, aggregate_id, host)
    except (exception.ComputeHostNotFound, exception.AggregateNotFound,
            exception.AggregateHostNotFound) as exc:
        # Nova answers all three with one sentence naming both.
        raise exception.NotFound(f"Cannot remove host {host} in aggregate "
                                 f"{aggregate_id}") from exc


def _set_metadata(context, aggregate_id, body):
    metadata = body["set_metadata"]["metadata"]
    aggregate = scheduling_db.aggregate_get(context, aggregate_id)
    if scheduling_db.AZ_KEY in metadata:
        _check_zone_change(context, aggregate, metadata[scheduling_db.AZ_KEY],
                           exception.InvalidAggregateActionUpdateMeta)
    return scheduling_db.aggregate_metadata_set(context, aggregate_id, metadata)


ACTIONS = {
    "add_host": (schema.add_host, _add_host),
    "remove_host": (schema.remove_host, _remove_host),
    "set_metadata": (schema.set_metadata, _set_metadata),
}


@blueprint.post("/os-aggregates/<aggregate_id>/action")
def action(aggregate_id):
    name, handler, body = common.action_in_body(ACTIONS)
    context = _admin_context(name)
    aggregate = handler(context, _aggregate_id(aggregate_id), body)
    return jsonify({"aggregate": _view(aggregate)})


# --- the rules -------------------------------------------------------------------------

def _check_compute_host(context, host):
    """Only compute hosts go in aggregates (the scheduler places servers on them)."""
    try:
        services_db.service_get_by_host_and_binary(context, host, COMPUTE_BINARY)
    except exception.HostBinaryNotFound as exc:
        raise exception.ComputeHostNotFound(host=host) from exc


def _check_zone_change(context, aggregate, zone, error_class):
    """May ``aggregate`` (and so its hosts) move to ``zone``?"""
    if not zone:
        raise error_class(aggregate_id=aggregate["id"],
                          reason=f"Aggregate {aggregate['name']} does not support empty "
                                 f"named availability zone")
    if zone == CONF.internal_service_availability_zone:
        raise error_class(aggregate_id=aggregate["id"], reason=_internal_zone_reason(zone))
    _check_hosts_not_elsewhere(context, aggregate, zone, aggregate["hosts"], error_class)


def _check_hosts_not_elsewhere(context, aggregate, zone, hosts, error_class):
    """A host is in one zone: refuse when another aggregate of one of ``hosts``
    already puts it in a zone other than ``zone``."""
    conflicting = [
        other["availability_zone"] for other in scheduling_db.aggregate_get_all(context)
        if other["id"] != aggregate["id"] and other["availability_zone"]
        and other["availability_zone"] != zone and set(other["hosts"]) & set(hosts)
    ]
    if conflicting:
        raise error_class(aggregate_id=aggregate["id"],
                          reason=f"One or more hosts already in availability zone(s) "
                                 f"{conflicting}")


def _internal_zone_reason(zone):
    return (f"availability zone {zone} is internal_service_availability_zone, the zone "
            f"of the controller services, not of compute hosts")
