"""``/servers`` (mirrors ``nova/api/openstack/compute/servers.py``).

Create, list (with its filters), show, update (``PUT``: the name, and the
description from 2.19), delete, and the ``/action`` route every server
action registers on. The bodies are built by ``views/servers.py`` at the
request's microversion.

Listing, as Nova does it: a non-admin's filters are limited to a known set
(Nova's ``allow_all_filters`` rule lets an admin use the others); an unknown
parameter is ignored until 2.75 and refused from it; ``status`` is turned
into vm_state/task_state, and an unknown status lists nothing until 2.38
and is a 400 from it; ``changes-since`` (and ``changes-before``, 2.66) also
list deleted servers; the tag filters come with 2.26, ``locked`` with 2.73.

Left out: sorting (``sort_key``/``sort_dir`` pass the schema, the list is
always newest first), the ``ip``/``ip6`` filters match nothing (no server
has an address until networks arrive), and a few admin filters on fields
mininova does not keep (``kernel_id``, ``locked_by``...), which pass the
schema and filter nothing.
"""

from flask import Blueprint, jsonify
from oslo_utils import strutils

from mininova import exception, policy
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute import boot_options
from mininova.api.openstack.compute.schemas import servers as schema
from mininova.api.openstack.compute.views import servers as views
from mininova.api.validation import parameter_types
from mininova.db import api as db

blueprint = Blueprint("servers", __name__)

TAG_FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")


@blueprint.post("/servers")
@validation.schema(schema.create)
def create(body):
    server = body["server"]
    context = common.context()
    context.can("os_compute_api:servers:create")
    min_count = int(server.get("min_count", 1))
    max_count = int(server.get("max_count", min_count))
    if min_count > max_count:
        raise exception.Invalid("min_count must be <= max_count")
    block_device_mapping, legacy_bdm = boot_options.block_devices_from_request(context, server)
    requested_networks = boot_options.check_networks(body)
    instances = common.compute_api().create(
        context,
        name=server["name"],
        flavor_id=str(server["flavorRef"]),
        image_id=boot_options.image_from_request(server, block_device_mapping),
        min_count=min_count,
        max_count=max_count,
        metadata=server.get("metadata"),
        availability_zone=server.get("availability_zone"),
        user_data=server.get("user_data"),
        key_name=server.get("key_name"),
        config_drive=parameter_types.is_true(server.get("config_drive", False)),
        scheduler_hints=body.get("os:scheduler_hints"),
        # Before 2.19 there is no description, and Nova sets it to the name.
        description=(server.get("description") if api_version_request.is_supported("2.19")
                     else server["name"]),
        tags=server.get("tags"),
        requested_destination=_requested_destination(context, server),
        requested_networks=requested_networks,
        block_device_mapping=block_device_mapping,
        legacy_bdm=legacy_bdm,
    )
    first = instances[0]
    if parameter_types.is_true(server.get("return_reservation_id", False)):
        return jsonify({"reservation_id": first["reservation_id"]}), 202
    response = jsonify({"server": {
        "id": first["uuid"],
        "links": common.links("servers", first["uuid"]),
        "OS-DCF:diskConfig": "MANUAL",
        "security_groups": [{"name": "default"}],
        # No password is injected (no agent in the guest); Nova's shape has one.
        "adminPass": "",
    }})
    response.status_code = 202
    response.headers["Location"] = common.links("servers", first["uuid"])[0]["href"]
    return response


def _requested_destination(context, server):
    """``host``/``hypervisor_hostname`` (2.74): where an admin wants it."""
    destination = {key: server[field] for key, field in
                   (("host", "host"), ("node", "hypervisor_hostname")) if server.get(field)}
    if destination:
        context.can("compute:servers:create:requested_destination")
    return destination or None


# --- lists ------------------------------------------------------------------------------

@blueprint.get("/servers")
def index():
    instances, _detailed = _list("index")
    body = {"servers": [views.basic(instance) for instance in instances]}
    return jsonify(_with_links(body, instances, "servers"))


@blueprint.get("/servers/detail")
def detail():
    context = common.context()
    with db.reader():  # the servers and what their bodies show, read at once
        instances, _detailed = _list("detail")
        body = {"servers": views.detail_list(context, instances)}
    return jsonify(_with_links(body, instances, "servers/detail"))


def _with_links(body, instances, collection):
    links = common.collection_links([{"id": i["uuid"]} for i in instances], collection)
    if links:
        body["servers_links"] = links
    return body


def _list(view):
    context = common.context()
    context.can(f"os_compute_api:servers:{view}")
    params = _allowed_params(context, validation.query(schema.index_query))
    for name in params:
        if name.startswith("_") or name in JOINED_TABLE_PARAMS:
            raise exception.Invalid(f"Invalid filter field: {name}.")
    all_tenants = _all_tenants(params)
    if all_tenants:
        # Other projects' servers are for admins: 403, as Nova's policy says.
        context.can(f"os_compute_api:servers:{view}:get_all_tenants")
    filters = _filters(context, params)
    if filters is None:
        return [], view == "detail"
    project = _last(params, "project_id", "tenant_id")
    if all_tenants and project:
        # Without all_tenants a project filter is ignored (lp:#1185290).
        filters["project_id"] = project
    read_deleted = bool(filters.keys() & {"changes-since", "changes-before"}) or \
        filters.get("vm_state") == ["deleted"]
    try:
        instances = common.compute_api().get_all(
            context, all_tenants=all_tenants, name=_last(params, "name", "display_name"),
            limit=common.limit_param(), filters=filters, marker=common.marker_param(),
            read_deleted=read_deleted, host=_last(params, "host"))
    except exception.MarkerNotFound as exc:
        raise exception.Invalid(f"marker [{common.marker_param()}] not found") from exc
    return instances, view == "detail"


# Nova's joined tables: a filter on them is refused, not ignored.
JOINED_TABLE_PARAMS = ("block_device_mapping", "services", "metadata", "system_metadata",
                       "info_cache", "security_groups", "pci_devices")


def _allowed_params(context, params):
    """A non-admin's filters are those Nova lets a user use; the others are
    dropped (Nova's remove_invalid_options). Paging is not a filter."""
    if policy.check(context, "os_compute_api:servers:allow_all_filters"):
        return params
    allowed = {"reservation_id", "name", "status", "image", "flavor", "ip", "changes-since",
               "all_tenants", "limit", "marker"}
    if api_version_request.is_supported("2.5"):
        allowed.add("ip6")
    if api_version_request.is_supported("2.26"):
        allowed.update(TAG_FILTERS)
    if api_version_request.is_supported("2.66"):
        allowed.add("changes-before")
    if api_version_request.is_supported("2.73"):
        allowed.add("locked")
    return {name: values for name, values in params.items() if name in allowed}


def _all_tenants(params):
    """``?all_tenants``: true when present with no value, as in Nova."""
    if "all_tenants" not in params:
        return False
    value = params["all_tenants"][-1]
    if not value:
        return True
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError as exc:
        raise exception.InvalidInput(reason=str(exc)) from exc


def _last(params, *names):
    """The last value given for the first of ``names`` present (Nova reads
    a repeated parameter's last value)."""
    for name in names:
        if params.get(name):
            return params[name][-1]
    return None


def _filters(context, params):
    """The database filters a list's parameters stand for; None when the
    answer is known to be empty (an unknown status before 2.38)."""
    filters = common.changes_filters(params)
    if "status" in params:
        states = _states_from_status(context, params["status"])
        if states is None:
            return None
        filters.update(states)
    for name in TAG_FILTERS:
        if params.get(name):
            filters[name] = params[name][-1].split(",")
    if "locked" in params:
        try:
            filters["locked"] = strutils.bool_from_string(params["locked"][-1], strict=True)
        except ValueError as exc:
            raise exception.InvalidInput(reason=str(exc)) from exc
    for name, key in (("image", "image"), ("image_ref", "image"), ("flavor", "flavor"),
                      ("reservation_id", "reservation_id")):
        if params.get(name):
            filters[key] = params[name][-1]
    if params.get("uuid"):
        filters["uuid"] = [params["uuid"][-1]]
    if params.get("user_id"):
        filters["user_id"] = params["user_id"][-1]
    if params.get("ip") or params.get("ip6"):
        # No server has an address yet: an address filter matches none.
        filters["uuid"] = []
    return filters


def _states_from_status(context, statuses):
    vm_state, task_state = common.task_and_vm_state_from_status(statuses)
    if not vm_state and not task_state:
        if api_version_request.is_supported("2.38"):
            raise exception.Invalid("Invalid status value")
        return None
    if vm_state == ["deleted"] and not context.is_admin:
        raise exception.Forbidden("Only administrators may list deleted instances")
    states = {"vm_state": vm_state}
    if "default" not in task_state:
        # With "default" the status is the vm_state's whatever its task.
        states["task_state"] = task_state
    return states


# --- one server ------------------------------------------------------------------------

@blueprint.get("/servers/<server_id>")
def show(server_id):
    context = common.context()
    # One read transaction for the instance and all its body shows (the
    # request clients poll while they wait for a server).
    with db.reader():
        instance = common.compute_api().get(context, server_id)
        context.can("os_compute_api:servers:show", common.owned_by(instance))
        body = views.show(context, instance,
                          show_server_groups=api_version_request.is_supported("2.71"))
    return jsonify({"server": body})


@blueprint.put("/servers/<server_id>")
@validation.schema(schema.update)
def update(server_id, body):
    """The name and (2.19) the description. The answer is the shorter body
    until 2.75, the same as ``GET``'s from 2.75."""
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can("os_compute_api:servers:update", common.owned_by(instance))
    server = body["server"]
    updates = {}
    if "name" in server:
        updates["display_name"] = server["name"]
    if "description" in server:
        # null removes the description.
        updates["display_description"] = server["description"]
    instance = common.compute_api().update_instance(context, instance, updates)
    return jsonify({"server": views.show(
        context, instance, full=api_version_request.is_supported("2.75"),
        show_server_groups=api_version_request.is_supported("2.71"))})


@blueprint.delete("/servers/<server_id>")
def delete(server_id):
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can("os_compute_api:servers:delete", common.owned_by(instance))
    common.compute_api().delete(context, instance)
    return "", 204


# Server actions: ``POST /servers/<id>/action`` with a body of one key, such as
# ``{"os-getConsoleOutput": {...}}``. Each action module registers its key,
# its body's schema and the policy rule that guards it.
ACTIONS = {}
_RULES = {}


def register_action(name, body_schema, rule):
    def decorator(handler):
        ACTIONS[name] = (body_schema, handler)
        _RULES[name] = rule
        return handler
    return decorator


@blueprint.post("/servers/<server_id>/action")
def action(server_id):
    name, handler, body = common.action_in_body(ACTIONS)
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    rule = _RULES[name]
    context.can(rule(body) if callable(rule) else rule, common.owned_by(instance))
    return handler(context, instance, body)
