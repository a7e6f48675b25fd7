"""``POST /os-server-external-events`` (mirrors
``nova/api/openstack/compute/server_external_events.py``).

How another service tells Nova something happened to a server: the
network service sends ``network-vif-plugged`` when a port is up. Each event
goes to the compute host of its server (one cast per host), where a build
may be waiting for it. The answer gives each event a ``code``: 200 accepted,
404 no such server, 422 the server has no host yet; 207 overall when not all
were accepted. Only a service (or an admin) may send events.
"""

from flask import Blueprint, jsonify
from oslo_log import log as logging

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import common
from mininova.api.openstack.compute.schemas import server_external_events as schema
from mininova.db import api as db

LOG = logging.getLogger(__name__)
blueprint = Blueprint("server_external_events", __name__)


@blueprint.post("/os-server-external-events")
@validation.schema(schema.create)
def create(body):
    context = common.context()
    context.can("os_compute_api:os-server-external-events:create", {})
    answered, accepted, instances = [], [], {}
    for event in body["events"]:
        event = dict(event, status=event.get("status", "completed"))
        answered.append(event)
        instance = _instance_or_none(context, event["server_uuid"], instances)
        if instance is None:
            LOG.debug("Dropping event %(name)s:%(tag)s for unknown instance "
                      "%(instance_uuid)s", _names(event))
            event.update(status="failed", code=404)
        elif not instance["host"]:
            LOG.debug("Unable to find a host for instance %(instance_uuid)s. Dropping "
                      "event %(name)s", _names(event))
            event.update(status="failed", code=422)
        else:
            LOG.info("Creating event %(name)s:%(tag)s for instance %(instance_uuid)s on "
                     "%(host)s", dict(_names(event), host=instance["host"]))
            event["code"] = 200
            accepted.append({key: event[key] for key in event if key != "code"})
    if accepted:
        common.compute_api().external_instance_event(
            context, [instances[e["server_uuid"]] for e in _first_per_server(accepted)],
            accepted)
    code = 200 if all(e["code"] == 200 for e in answered) else 207
    return jsonify({"events": answered}), code


def _instance_or_none(context, instance_uuid, found):
    if instance_uuid not in found:
        try:
            found[instance_uuid] = db.instance_get_by_uuid(context, instance_uuid)
        except exception.InstanceNotFound:
            found[instance_uuid] = None
    return found[instance_uuid]


def _names(event):
    return {"name": event["name"], "tag": event.get("tag"),
            "instance_uuid": event["server_uuid"]}


def _first_per_server(events):
    seen = {}
    for event in events:
        seen.setdefault(event["server_uuid"], event)
    return list(seen.values())
