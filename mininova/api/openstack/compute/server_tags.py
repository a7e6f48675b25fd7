"""``/servers/<id>/tags`` (mirrors ``nova/api/openstack/compute/server_tags.py``):
simple string labels on a server, from microversion 2.26 (a 404 before)::

    GET    /servers/<id>/tags          {"tags": [...]}
    PUT    /servers/<id>/tags          {"tags": [...]} replaces them all
    DELETE /servers/<id>/tags          removes them all            204
    GET    /servers/<id>/tags/<tag>    204 if the server has it, else 404
    PUT    /servers/<id>/tags/<tag>    adds it: 201 (Location), 204 if there
    DELETE /servers/<id>/tags/<tag>    204, or 404 if the server has it not

A tag is 1 to 60 characters, neither ``/`` nor ``,``; a server has at most
50. Changing tags needs a server that is active, paused, suspended or
stopped (409 otherwise), as in Nova. The server's body shows ``tags``
(2.26), a boot may set them (2.52), and ``GET /servers`` filters on them.
"""

import jsonschema
from flask import Blueprint, Response, jsonify, request

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import common
from mininova.api.openstack.compute.schemas import server_tags as schema
from mininova.api.validation import parameter_types
from mininova.compute import vm_states
from mininova.db import api as db

blueprint = Blueprint("server_tags", __name__)

RULE = "os_compute_api:os-server-tags:%s"
TAGS = "/servers/<server_id>/tags"

# The states in which a server's tags may change.
TAGGABLE = (vm_states.ACTIVE, vm_states.PAUSED, vm_states.SUSPENDED, vm_states.STOPPED)


def _instance(context, server_id, rule, action=None):
    """The server, once the policy allows ``rule`` on it and, for a change
    (``action`` names it in the 409), once it is in a state that allows it."""
    instance = common.compute_api().get(context, server_id)
    context.can(RULE % rule, common.owned_by(instance))
    if action and instance["vm_state"] not in TAGGABLE:
        raise exception.InstanceInvalidState(action=action, server_id=server_id,
                                             attr="vm_state", state=instance["vm_state"])
    return instance


@blueprint.get(TAGS)
@common.api_version("2.26")
def index(server_id):
    context = common.context()
    instance = _instance(context, server_id, "index")
    return jsonify({"tags": db.instance_tags_get(context, [instance["uuid"]])[instance["uuid"]]})


@blueprint.put(TAGS)
@common.api_version("2.26")
@validation.schema(schema.update_all)
def update_all(server_id, body):
    context = common.context()
    instance = _instance(context, server_id, "update_all", "update tags")
    return jsonify({"tags": db.instance_tags_set(context, instance["uuid"], body["tags"])})


@blueprint.delete(TAGS)
@common.api_version("2.26")
def delete_all(server_id):
    context = common.context()
    instance = _instance(context, server_id, "delete_all", "delete tags")
    db.instance_tags_set(context, instance["uuid"], [])
    return "", 204


@blueprint.get(f"{TAGS}/<tag>")
@common.api_version("2.26")
def show(server_id, tag):
    context = common.context()
    instance = _instance(context, server_id, "show")
    if tag not in db.instance_tags_get(context, [instance["uuid"]])[instance["uuid"]]:
        raise exception.NotFound(f"Server {server_id} has no tag '{tag}'")
    return "", 204


@blueprint.put(f"{TAGS}/<tag>")
@common.api_version("2.26")
def update(server_id, tag):
    context = common.context()
    _check_no_body()
    instance = _instance(context, server_id, "update", "update tag")
    _check_tag(tag)
    if not db.instance_tag_add(context, instance["uuid"], tag):
        return "", 204  # the server had it already
    location = f"{common.links('servers', instance['uuid'])[0]['href']}/tags/{tag}"
    return Response(status=201, headers={"Location": location})


@blueprint.delete(f"{TAGS}/<tag>")
@common.api_version("2.26")
def delete(server_id, tag):
    context = common.context()
    instance = _instance(context, server_id, "delete", "delete tag")
    db.instance_tag_delete(context, instance["uuid"], tag)
    return "", 204


def _check_no_body():
    """Adding one tag takes no body (or a JSON null)."""
    if request.get_data().strip():
        body = request.get_json(silent=True)
        validation.validate(schema.update, body)


def _check_tag(tag):
    """The tag of the URL, checked against the same rules as a body's."""
    try:
        jsonschema.validate(tag, parameter_types.tag)
    except jsonschema.ValidationError as exc:
        raise exception.Invalid(
            f"Tag '{tag}' is invalid. It must be a non empty string without characters "
            f"'/' and ','. Validation error message: {exc.message}") from exc
