"""``/servers/<server_id>/os-instance-actions`` (mirrors
``nova/api/openstack/compute/instance_actions.py``): the trail of a server,
one action per request made of it (``create``, ``stop``, ``reboot``...), and
the steps each went through on the hosts (events such as
``compute__do_build_and_run_instance``, with their result)::

    GET /servers/<id>/os-instance-actions
        {"instanceActions": [{"action", "instance_uuid", "request_id", "user_id",
                              "project_id", "start_time", "message"}, ...]}   newest first
    GET /servers/<id>/os-instance-actions/<request_id>
        {"instanceAction": {..., "events": [{"event", "start_time", "finish_time",
                                             "result", "traceback"}, ...]}}

The ``request_id`` is the ``x-compute-request-id`` the API answered the
request with: the same id that ``grep`` finds in every service's log.

Who sees what (Nova's default policy): the server's project or an admin;
another project's server is a 404, as for ``GET /servers/<id>``. What the
microversions changed:

* 2.21: a deleted server's actions can still be read (a 404 before);
* 2.51: non-admins see the events too, without their ``traceback``
  (before, only whoever passes ``os_compute_api:os-instance-actions:events``,
  the admin, sees events at all);
* 2.58: each action's ``updated_at``; paging (``limit``, ``marker`` = a
  request id, ``links``) and ``changes-since``; unknown parameters refused;
* 2.62: each event's ``hostId`` (the host, hashed per project, as in a
  server's body) and, for admins, its ``host``;
* 2.66: ``changes-before``.

Left out: events' ``details`` (2.84, beyond 2.79).
"""

import copy

from flask import Blueprint, jsonify

from mininova import exception, policy, utils
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.views import servers as server_views
from mininova.api.validation import parameter_types
from mininova.db import api as db
from mininova.db import instance_actions as actions_db

blueprint = Blueprint("instance_actions", __name__)

ACTION_KEYS = ("action", "instance_uuid", "request_id", "user_id", "project_id",
               "start_time", "message")
EVENT_KEYS = ("event", "start_time", "finish_time", "result", "traceback")
TIMES = ("start_time", "finish_time", "updated_at")
EVENTS_RULE = "os_compute_api:os-instance-actions:events"

_date_time = parameter_types.multi_params({"type": "string", "format": "date-time"})
index_query_v258 = {
    "type": "object",
    "properties": {
        "limit": parameter_types.multi_params(parameter_types.non_negative_integer),
        "marker": parameter_types.common_query_param,
        "changes-since": _date_time,
    },
    "additionalProperties": False,
}
index_query_v266 = copy.deepcopy(index_query_v258)
index_query_v266["properties"]["changes-before"] = _date_time
index_query = validation.Versioned({"2.1": {"type": "object"}, "2.58": index_query_v258,
                                    "2.66": index_query_v266})


@blueprint.get("/servers/<server_id>/os-instance-actions")
def index(server_id):
    context = common.context()
    instance = _instance(context, server_id)
    context.can("os_compute_api:os-instance-actions:list", common.owned_by(instance))
    params = validation.query(index_query)
    if not api_version_request.is_supported("2.58"):
        actions = actions_db.actions_get(context, instance["uuid"])
        return jsonify({"instanceActions": [_action_view(a) for a in actions]})
    try:
        actions = actions_db.actions_get(context, instance["uuid"], limit=common.limit_param(),
                                         marker=common.marker_param(),
                                         filters=common.changes_filters(params))
    except exception.MarkerNotFound as exc:
        raise exception.Invalid(exc.format_message()) from exc
    body = {"instanceActions": [_action_view(action) for action in actions]}
    links = common.collection_links(actions, f"servers/{server_id}/os-instance-actions",
                                    id_key="request_id")
    if links:
        body["links"] = links
    return jsonify(body)


@blueprint.get("/servers/<server_id>/os-instance-actions/<request_id>")
def show(server_id, request_id):
    context = common.context()
    instance = _instance(context, server_id)
    context.can("os_compute_api:os-instance-actions:show", common.owned_by(instance))
    action = actions_db.action_get_by_request_id(context, instance["uuid"], request_id)
    if action is None:
        raise exception.NotFound(f"Action {request_id} not found")
    shown = _action_view(action)
    all_details = policy.check(context, EVENTS_RULE, common.owned_by(instance))
    if all_details or api_version_request.is_supported("2.51"):
        project_id = action["project_id"] or instance["project_id"]
        shown["events"] = [_event_view(event, project_id, all_details)
                           for event in actions_db.action_events_get(context, action["id"])]
    return jsonify({"instanceAction": shown})


def _instance(context, server_id):
    """The server, if this context may see it; from 2.21 even deleted.

    The compute API's ``get`` hides deleted servers; here they stay
    readable (2.21), since what happened to a server is most often asked
    once it is gone. The project check is ``get``'s: 404, not 403, for
    another project.
    """
    read_deleted = api_version_request.is_supported("2.21")
    instance = db.instance_get_by_uuid(context, server_id, read_deleted=read_deleted)
    if not context.is_admin and instance["project_id"] != context.project_id:
        raise exception.InstanceNotFound(instance_id=server_id)
    return instance


def _action_view(action):
    keys = ACTION_KEYS + (("updated_at",) if api_version_request.is_supported("2.58") else ())
    return _view(action, keys)


def _event_view(event, project_id, all_details):
    """An event; its traceback (and from 2.62 its host) for those who pass
    the events rule, its hashed ``hostId`` (2.62) for everyone."""
    shown = _view(event, EVENT_KEYS if all_details else EVENT_KEYS[:-1])
    if api_version_request.is_supported("2.62"):
        if all_details:
            shown["host"] = event["host"]
        shown["hostId"] = server_views.host_id(project_id, event["host"])
    return shown


def _view(row, keys):
    return {key: utils.perfect_time(row[key]) if key in TIMES else row[key] for key in keys}
