"""``/os-server-groups`` (mirrors ``nova/api/openstack/compute/server_groups.py``).

A server group is a promise about placement: servers booted with the hint
``group=<id>`` share one host (``affinity``) or never share one
(``anti-affinity``); the ServerGroupAffinityFilter and
ServerGroupAntiAffinityFilter keep it. A group belongs to a project: another
project's group does not exist for you (404), except for an admin, who also
lists every project's groups with ``?all_projects=True``.

The v2.1 shape: ``policies`` is a list of exactly one policy; ``members``
lists the servers of the group that are not deleted; ``metadata`` is always
empty. What the microversions changed:

* 2.13: ``project_id`` and ``user_id`` are shown;
* 2.15: the ``soft-affinity`` and ``soft-anti-affinity`` policies, kept by
  the ServerGroupSoftAffinityWeigher and ServerGroupSoftAntiAffinityWeigher
  (a preference: never a NoValidHost);
* 2.64: ``policy`` (a string) and ``rules`` replace ``policies`` and
  ``metadata``, in the request and in the answers; the only rule is
  ``max_server_per_host``, for anti-affinity, which the
  ServerGroupAntiAffinityFilter reads (at most that many members per host);
* 2.75: the list refuses unknown query parameters.

Left out: the server group quotas (the quotas' own work).
"""

from flask import Blueprint, jsonify, request

from mininova import exception, policy
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.schemas import server_groups as schema
from mininova.api.validation import parameter_types
from mininova.db import api as db
from mininova.db import scheduling as scheduling_db

blueprint = Blueprint("server_groups", __name__)


def _view(context, group):
    shown = {"id": group["uuid"], "name": group["name"]}
    if api_version_request.is_supported("2.64"):
        shown.update(policy=group["policy"], rules=group["rules"] or {})
    else:
        shown.update(policies=[group["policy"]], metadata={})
    shown["members"] = _live_members(context, group["members"])
    if api_version_request.is_supported("2.13"):
        shown.update(project_id=group["project_id"], user_id=group["user_id"])
    return shown


def _live_members(context, instance_uuids):
    # Membership rows outlive their servers; as Nova, show only the living.
    live = []
    for instance_uuid in instance_uuids:
        try:
            db.instance_get_by_uuid(context, instance_uuid)
        except exception.InstanceNotFound:
            continue
        live.append(instance_uuid)
    return live


def _owned_by(group):
    return {"project_id": group["project_id"], "user_id": group["user_id"]}


def _get_group(context, group_id):
    """The group, if this context may see it; else InstanceGroupNotFound."""
    group = scheduling_db.instance_group_get(context, group_id)
    if not context.is_admin and group["project_id"] != context.project_id:
        # 404, not 403: another project's group does not exist for you.
        raise exception.InstanceGroupNotFound(group_uuid=group_id)
    return group


@blueprint.get("/os-server-groups")
def index():
    context = common.context()
    context.can("os_compute_api:os-server-groups:index")
    validation.query(schema.index_query)
    all_projects = parameter_types.is_true(request.args.get("all_projects", "false"))
    if all_projects:
        all_projects = policy.check(context, "os_compute_api:os-server-groups:index:all_projects")
    project_id = None if all_projects else context.project_id
    groups = scheduling_db.instance_group_get_all(context, project_id=project_id)
    offset = _offset_param()
    groups = groups[offset:offset + common.limit_param()]
    return jsonify({"server_groups": [_view(context, group) for group in groups]})


def _offset_param():
    raw = request.args.get("offset", "0")
    if not raw.isdigit():
        raise exception.Invalid("offset param must be an integer")
    return int(raw)


@blueprint.post("/os-server-groups")
@validation.schema(schema.create)
def create(body):
    context = common.context()
    context.can("os_compute_api:os-server-groups:create")
    group = body["server_group"]
    if api_version_request.is_supported("2.64"):
        policy_name, rules = group["policy"], group.get("rules") or {}
        if rules and policy_name != "anti-affinity":
            raise exception.Invalid("Only anti-affinity policy supports rules.")
        rules = {key: int(value) for key, value in rules.items()}
    else:
        policy_name, rules = group["policies"][0], None
    created = scheduling_db.instance_group_create(context, group["name"], policy_name, rules)
    return jsonify({"server_group": _view(context, created)})


@blueprint.get("/os-server-groups/<group_id>")
def show(group_id):
    context = common.context()
    group = _get_group(context, group_id)
    context.can("os_compute_api:os-server-groups:show", _owned_by(group))
    return jsonify({"server_group": _view(context, group)})


@blueprint.delete("/os-server-groups/<group_id>")
def delete(group_id):
    context = common.context()
    group = _get_group(context, group_id)
    context.can("os_compute_api:os-server-groups:delete", _owned_by(group))
    scheduling_db.instance_group_delete(context, group["uuid"])
    return "", 204
