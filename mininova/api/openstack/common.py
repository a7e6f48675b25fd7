"""Helpers shared by the API resources (mirrors ``nova/api/openstack/common.py``):
the status a user sees, links, the current request's context, and the
service objects the handlers call."""

from flask import current_app, g, request

from mininova.compute import task_states, vm_states

FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "computeFault",  # Nova has no name of its own for it either
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    500: "computeFault",
    501: "notImplemented",
    503: "serviceUnavailable",
    504: "computeFault",
}

# (vm_state) -> {task_state: status}; "default" when the task has no entry.
_STATE_MAP = {
    vm_states.ACTIVE: {
        "default": "ACTIVE",
        task_states.REBOOTING: "REBOOT",
        task_states.REBOOTING_HARD: "HARD_REBOOT",
        task_states.RESIZE_PREP: "RESIZE",
        task_states.RESIZE_MIGRATING: "RESIZE",
        task_states.RESIZE_MIGRATED: "RESIZE",
        task_states.RESIZE_FINISH: "RESIZE",
        task_states.REBUILDING: "REBUILD",
        task_states.REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD",
        task_states.REBUILD_SPAWNING: "REBUILD",
    },
    vm_states.BUILDING: {"default": "BUILD"},
    vm_states.STOPPED: {
        "default": "SHUTOFF",
        task_states.RESIZE_PREP: "RESIZE",
        task_states.RESIZE_MIGRATING: "RESIZE",
        task_states.RESIZE_MIGRATED: "RESIZE",
        task_states.RESIZE_FINISH: "RESIZE",
        task_states.REBOOTING_HARD: "HARD_REBOOT",
        task_states.REBUILDING: "REBUILD",
        task_states.REBUILD_BLOCK_DEVICE_MAPPING: "REBUILD",
        task_states.REBUILD_SPAWNING: "REBUILD",
    },
    vm_states.RESIZED: {"default": "VERIFY_RESIZE",
                        task_states.RESIZE_REVERTING: "REVERT_RESIZE"},
    vm_states.PAUSED: {"default": "PAUSED", task_states.REBOOTING_HARD: "HARD_REBOOT"},
    vm_states.SUSPENDED: {"default": "SUSPENDED", task_states.REBOOTING_HARD: "HARD_REBOOT"},
    vm_states.RESCUED: {"default": "RESCUE"},
    vm_states.ERROR: {"default": "ERROR", task_states.REBOOTING_HARD: "HARD_REBOOT",
                      task_states.REBUILDING: "REBUILD",
                      task_states.REBUILD_SPAWNING: "REBUILD"},
    vm_states.DELETED: {"default": "DELETED"},
}


def status_from_state(vm_state, task_state=None):
    """The API's ``status`` for a (vm_state, task_state) pair, as Nova maps it."""
    task_map = _STATE_MAP.get(vm_state, {"default": "UNKNOWN"})
    return task_map.get(task_state, task_map["default"])


def task_and_vm_state_from_status(statuses):
    """The (vm_states, task_states) a ``?status=`` filter stands for, as
    Nova inverts the map above; a task state ``"default"`` means "any task"."""
    wanted = {status.lower() for status in statuses}
    vm_state_set, task_state_set = set(), set()
    for vm_state, task_map in _STATE_MAP.items():
        for task_state, status in task_map.items():
            if status.lower() in wanted:
                vm_state_set.add(vm_state)
                task_state_set.add(task_state)
    return sorted(vm_state_set), sorted(task_state_set, key=str)


def context():
    return g.context


def owned_by(instance):
    """The policy target of a server: whose it is."""
    return {"project_id": instance["project_id"], "user_id": instance["user_id"]}


def action_in_body(actions):
    """The action a ``POST .../action`` body names, as Nova's action routes
    read it: a body of exactly one key, ``{"add_host": {...}}``.

    ``actions`` maps each name to ``(schema, handler)``; the body is checked
    against the action's schema. Returns ``(name, handler, body)``.
    """
    from mininova import exception
    from mininova.api import validation

    body = request.get_json(silent=True)
    if not isinstance(body, dict) or len(body) != 1:
        raise exception.Invalid("Malformed request body")
    name = next(iter(body))
    if name not in actions:
        raise exception.Invalid(f"There is no such action: {name}")
    body_schema, handler = actions[name]
    validation.validate(body_schema, body)
    return name, handler, body


def api_version(min_version, max_version=None):
    """Decorator: the handler exists from ``min_version`` (to
    ``max_version``); at any other version the API answers 404, as Nova's
    ``@wsgi.api_version`` does."""
    import functools

    from mininova import exception
    from mininova.api.openstack import api_version_request

    def decorator(handler):
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            if not api_version_request.is_supported(min_version, max_version):
                raise exception.VersionNotFoundForAPIMethod(
                    version=api_version_request.current())
            return handler(*args, **kwargs)
        return wrapper
    return decorator


def base_url():
    return request.host_url.rstrip("/")


def links(collection, resource_id):
    """``self`` (versioned) and ``bookmark`` (unversioned) links, as Nova."""
    return [
        {"rel": "self", "href": f"{base_url()}/v2.1/{collection}/{resource_id}"},
        {"rel": "bookmark", "href": f"{base_url()}/{collection}/{resource_id}"},
    ]


def limit_param():
    from mininova import exception
    from mininova.conf import CONF

    raw = request.args.get("limit")
    if raw is None:
        return CONF.api.max_limit
    if not raw.isdigit():
        raise exception.Invalid("limit param must be an integer")
    return min(int(raw), CONF.api.max_limit)


def marker_param():
    """``?marker=``: the id of the last item of the previous page, or None."""
    return request.args.get("marker")


def collection_links(items, collection, id_key="id"):
    """The ``next`` link of a page that may not be the last: Nova gives one
    when the page is as long as the limit asked (or the configured
    ``max_limit``), pointing at the same query with ``marker`` set to the
    page's last item."""
    from urllib.parse import urlencode

    if not items or len(items) != limit_param():
        return []
    params = dict(sorted(request.args.items()))
    params["marker"] = items[-1][id_key]
    return [{"rel": "next",
             "href": f"{base_url()}/v2.1/{collection}?{urlencode(params)}"}]


def changes_filters(params):
    """``changes-since`` and ``changes-before`` of an already validated
    query (``{name: [value, ...]}``) as datetimes, checked as Nova checks
    them: since ≤ before."""
    from oslo_utils import timeutils

    from mininova import exception

    filters = {}
    for name in ("changes-since", "changes-before"):
        if params.get(name):
            # Naive UTC, as the database stores its times.
            filters[name] = timeutils.normalize_time(timeutils.parse_isotime(params[name][-1]))
    if (len(filters) == 2
            and filters["changes-before"] < filters["changes-since"]):
        raise exception.Invalid("The value of changes-since must be less than or equal "
                                "to changes-before.")
    return filters


# --- the service objects of the application ---------------------------------------

class APIServices:
    """What the handlers call: the compute API (and through it the conductor
    and computes over RPC), the admin host API and the image service.

    Built once per application by its factory, as Nova's controllers build
    theirs when the router is made, never at import: an RPC client made at
    import would keep the first transport for good, outliving
    ``rpc.cleanup()`` and its reply consumer."""

    def __init__(self):
        from mininova.compute import api as compute_api
        from mininova.compute import rpcapi as compute_rpcapi
        from mininova.image import glance

        self.compute_api = compute_api.API()
        self.host_api = compute_api.HostAPI()
        self.image_api = glance.API()
        self.compute_rpcapi = compute_rpcapi.ComputeAPI()


def services():
    """The current application's :class:`APIServices`."""
    return current_app.extensions["mininova"]


def compute_api():
    return services().compute_api


def host_api():
    return services().host_api


def image_api():
    return services().image_api


def compute_rpcapi():
    return services().compute_rpcapi
