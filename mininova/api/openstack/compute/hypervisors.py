"""``/os-hypervisors`` (mirrors ``nova/api/openstack/compute/hypervisors.py``):
each compute node's resources as its resource tracker last reported them.
Admin only.

What the microversions changed:

* 2.28: ``cpu_info`` is a JSON object, no longer a string holding one;
* 2.33: paging of the lists (``limit``, ``marker``, ``hypervisors_links``);
* 2.53: a hypervisor's ``id`` (and its service's) is a uuid, in the bodies
  and in ``GET /os-hypervisors/<id>``; the lists take
  ``hypervisor_hostname_pattern`` (no paging with it) and ``with_servers``
  (each node's servers, ``[{"name", "uuid"}]``), and refuse unknown
  parameters;
* 2.75: with ``with_servers``, ``servers`` is there even when empty.

Left out: the deprecated ``/os-hypervisors/<pattern>/search``,
``/<pattern>/servers``, ``/statistics`` and ``/<id>/uptime`` routes, and
2.88's removals (beyond 2.79).
"""

import copy
import json
import re

from flask import Blueprint, jsonify
from oslo_utils import strutils, uuidutils

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.validation import parameter_types
from mininova.db import api as db
from mininova.db import services as services_db

blueprint = Blueprint("hypervisors", __name__)

_boolean = parameter_types.multi_params(parameter_types.boolean)

index_query_v233 = {
    "type": "object",
    "properties": {
        "limit": parameter_types.multi_params(parameter_types.non_negative_integer),
        "marker": parameter_types.common_query_param,
    },
    "additionalProperties": True,
}
index_query_v253 = copy.deepcopy(index_query_v233)
index_query_v253["properties"].update(hypervisor_hostname_pattern=parameter_types.common_query_param,
                                      with_servers=_boolean)
index_query_v253["additionalProperties"] = False
index_query = validation.Versioned({"2.1": {"type": "object"}, "2.33": index_query_v233,
                                    "2.53": index_query_v253})
show_query = validation.Versioned({
    "2.1": {"type": "object"},
    "2.53": {"type": "object", "properties": {"with_servers": _boolean},
             "additionalProperties": False}})


def _basic(node):
    service = node["service"] or {}
    return {
        "id": node["uuid"] if api_version_request.is_supported("2.53") else node["id"],
        "hypervisor_hostname": node["hypervisor_hostname"],
        "state": "up" if service.get("up") else "down",
        "status": "disabled" if service.get("disabled") else "enabled",
    }


def _detail(node):
    body = _basic(node)
    service = node["service"] or {}
    uuid_for_id = api_version_request.is_supported("2.53")
    body.update({
        "hypervisor_type": node["hypervisor_type"],
        "hypervisor_version": node["hypervisor_version"],
        "vcpus": node["vcpus"],
        "vcpus_used": node["vcpus_used"],
        "memory_mb": node["memory_mb"],
        "memory_mb_used": node["memory_mb_used"],
        "local_gb": node["local_gb"],
        "local_gb_used": node["local_gb_used"],
        "free_ram_mb": node["free_ram_mb"],
        "free_disk_gb": node["free_disk_gb"],
        "running_vms": node["running_vms"],
        "current_workload": 0,
        "disk_available_least": node["disk_available_least"],
        "host_ip": "127.0.0.1",
        "cpu_info": ((node["cpu_info"] or {}) if api_version_request.is_supported("2.28")
                     else json.dumps(node["cpu_info"] or {})),
        "service": {"host": node["host"],
                    "id": service.get("uuid" if uuid_for_id else "id"),
                    "disabled_reason": service.get("disabled_reason")},
    })
    return body


def _with_servers(context, body, node, wanted):
    """``servers``: the node's servers when asked for (2.53); Nova omits an
    empty list until 2.75."""
    if not wanted:
        return body
    servers = [{"name": i["display_name"], "uuid": i["uuid"]}
               for i in db.instance_get_all_by_host(context, node["host"])]
    if servers or api_version_request.is_supported("2.75"):
        body["servers"] = servers
    return body


def _admin_context(action):
    context = common.context()
    context.can(f"os_compute_api:os-hypervisors:{action}")
    return context


def _bool_param(params, name):
    try:
        return strutils.bool_from_string((params.get(name) or ["false"])[-1], strict=True)
    except ValueError as exc:
        raise exception.InvalidInput(reason=str(exc)) from exc


def _list(context, view, collection):
    params = validation.query(index_query)
    pattern = (params.get("hypervisor_hostname_pattern") or [None])[-1]
    with_servers = _bool_param(params, "with_servers")
    paged = api_version_request.is_supported("2.33") and pattern is None
    if pattern is not None and ("limit" in params or "marker" in params):
        raise exception.Invalid("Paging over hypervisors with the hypervisor_hostname_pattern "
                                "query parameter is not supported.")
    nodes = common.host_api().compute_node_get_all(context)
    if pattern is not None:
        nodes = _matching(nodes, pattern)
    if paged:
        nodes = _page(nodes, params)
    body = {"hypervisors": [_with_servers(context, view(node), node, with_servers)
                            for node in nodes]}
    if paged:
        links = common.collection_links(body["hypervisors"], collection)
        if links:
            body["hypervisors_links"] = links
    return jsonify(body)


def _matching(nodes, pattern):
    """Nodes whose name contains ``pattern`` (Nova's SQL ``LIKE %pattern%``);
    none is a 404."""
    found = [node for node in nodes if re.search(re.escape(pattern), node["hypervisor_hostname"])]
    if not found:
        raise exception.NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return found


def _page(nodes, params):
    """The nodes after ``marker`` (an id, or a uuid from 2.53), ``limit`` of them."""
    key = "uuid" if api_version_request.is_supported("2.53") else "id"
    marker = common.marker_param()
    if marker is not None:
        positions = [index for index, node in enumerate(nodes) if str(node[key]) == marker]
        if not positions:
            raise exception.Invalid(f"marker [{marker}] not found")
        nodes = nodes[positions[0] + 1:]
    return nodes[:common.limit_param()]


@blueprint.get("/os-hypervisors")
def index():
    return _list(_admin_context("list"), _basic, "os-hypervisors")


@blueprint.get("/os-hypervisors/detail")
def detail():
    return _list(_admin_context("list-detail"), _detail, "os-hypervisors/detail")


@blueprint.get("/os-hypervisors/<hypervisor_id>")
def show(hypervisor_id):
    context = _admin_context("show")
    params = validation.query(show_query)
    with_servers = _bool_param(params, "with_servers")
    node = _get_node(context, hypervisor_id)
    return jsonify({"hypervisor": _with_servers(context, _detail(node), node, with_servers)})


def _get_node(context, hypervisor_id):
    """By uuid from 2.53 (400 for anything else), by integer id before (404)."""
    if api_version_request.is_supported("2.53"):
        if not uuidutils.is_uuid_like(hypervisor_id):
            raise exception.Invalid(f"Invalid uuid {hypervisor_id}")
        node_id = services_db.compute_node_get_by_uuid(context, hypervisor_id)["id"]
    elif hypervisor_id.isdigit():
        node_id = int(hypervisor_id)
    else:
        raise exception.HypervisorNotFound(hypervisor_id=hypervisor_id)
    return common.host_api().compute_node_get(context, node_id)
