"""``/servers`` (mirrors ``nova/api/openstack/compute/servers.py``)."""

from flask import Blueprint, jsonify, request

from mininova.api import validation
from mininova.api.openstack import common
from mininova.api.openstack.compute import boot_options
from mininova.api.openstack.compute.schemas import servers as schema
from mininova.api.openstack.compute.views import servers as views
from mininova.api.validation import parameter_types

blueprint = Blueprint("servers", __name__)


@blueprint.post("/servers")
@validation.schema(schema.create)
def create(body):
    server = body["server"]
    common.context().can("os_compute_api:servers:create")
    min_count = int(server.get("min_count", 1))
    max_count = int(server.get("max_count", min_count))
    if min_count > max_count:
        from mininova import exception

        raise exception.Invalid("min_count must be <= max_count")
    context = common.context()
    boot_options.check_networks(body)
    instances = common.compute_api().create(
        context,
        name=server["name"],
        flavor_id=str(server["flavorRef"]),
        image_id=boot_options.image_from_request(server),
        min_count=min_count,
        max_count=max_count,
        metadata=server.get("metadata"),
        availability_zone=server.get("availability_zone"),
        user_data=server.get("user_data"),
        key_name=server.get("key_name"),
        config_drive=parameter_types.is_true(server.get("config_drive", False)),
        scheduler_hints=body.get("os:scheduler_hints"),
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


@blueprint.get("/servers")
def index():
    instances = _list("index")
    return jsonify({"servers": [views.basic(instance) for instance in instances]})


@blueprint.get("/servers/detail")
def detail():
    context = common.context()
    instances = _list("detail")
    faults = common.compute_api().get_faults(context, instances)
    return jsonify({"servers": [
        views.detail(instance, faults.get(instance["uuid"]), context.is_admin)
        for instance in instances
    ]})


def _list(view):
    context = common.context()
    all_tenants = parameter_types.is_true(request.args.get("all_tenants", "false"))
    context.can(f"os_compute_api:servers:{view}")
    if all_tenants:
        # Other projects' servers are for admins: 403, as Nova's policy says.
        context.can(f"os_compute_api:servers:{view}:get_all_tenants")
    return common.compute_api().get_all(context, all_tenants=all_tenants,
                             name=request.args.get("name"), limit=common.limit_param())


@blueprint.get("/servers/<server_id>")
def show(server_id):
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can("os_compute_api:servers:show", common.owned_by(instance))
    fault = common.compute_api().get_faults(context, [instance]).get(instance["uuid"])
    return jsonify({"server": views.detail(instance, fault, context.is_admin)})


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
    context.can(_RULES[name], common.owned_by(instance))
    return handler(context, instance, body)
