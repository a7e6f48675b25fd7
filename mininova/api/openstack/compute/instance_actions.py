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
another project's server is a 404, as for ``GET /servers/<id>``. Only admins
get the events' ``traceback``. Two behaviours come from later microversions,
because they are what makes the API useful to a student: a deleted server's
actions can still be read (2.21; at 2.1 Nova answers 404), and non-admins
see the events without their traceback (2.51; at 2.1 they get no events).

Left out: paging and time filters (``limit``, ``marker``, ``changes-since``,
2.58/2.66), ``updated_at`` (2.58), the events' ``host`` and ``hostId`` (2.62).
"""

from flask import Blueprint, jsonify

from mininova import exception, policy, utils
from mininova.api.openstack import common
from mininova.db import api as db

blueprint = Blueprint("instance_actions", __name__)

ACTION_KEYS = ("action", "instance_uuid", "request_id", "user_id", "project_id",
               "start_time", "message")
EVENT_KEYS = ("event", "start_time", "finish_time", "result", "traceback")
TIMES = ("start_time", "finish_time")


@blueprint.get("/servers/<server_id>/os-instance-actions")
def index(server_id):
    context = common.context()
    instance = _instance(context, server_id)
    context.can("os_compute_api:os-instance-actions:list", common.owned_by(instance))
    actions = db.actions_get(context, instance["uuid"])
    return jsonify({"instanceActions": [_view(action, ACTION_KEYS) for action in actions]})


@blueprint.get("/servers/<server_id>/os-instance-actions/<request_id>")
def show(server_id, request_id):
    context = common.context()
    instance = _instance(context, server_id)
    context.can("os_compute_api:os-instance-actions:show", common.owned_by(instance))
    action = db.action_get_by_request_id(context, instance["uuid"], request_id)
    if action is None:
        raise exception.NotFound(f"Action {request_id} not found")
    event_keys = (EVENT_KEYS if policy.check(context,
                                             "os_compute_api:os-instance-actions:events:details",
                                             common.owned_by(instance))
                  else _without(EVENT_KEYS, "traceback"))
    shown = _view(action, ACTION_KEYS)
    shown["events"] = [_view(event, event_keys)
                       for event in db.action_events_get(context, action["id"])]
    return jsonify({"instanceAction": shown})


def _instance(context, server_id):
    """The server, deleted or not, if this context may see it.

    The compute API's ``get`` hides deleted servers; here they stay
    readable, since what happened to a server is most often asked once it is
    gone. The project check is ``get``'s: 404, not 403, for another project.
    """
    instance = db.instance_get_by_uuid(context, server_id, read_deleted=True)
    if not context.is_admin and instance["project_id"] != context.project_id:
        raise exception.InstanceNotFound(instance_id=server_id)
    return instance


def _view(row, keys):
    return {key: utils.isotime(row[key]) if key in TIMES else row[key] for key in keys}


def _without(keys, hidden):
    return tuple(key for key in keys if key != hidden)
