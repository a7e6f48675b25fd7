"""``/os-hypervisors`` (mirrors ``nova/api/openstack/compute/hypervisors.py``):
each compute node's resources as its resource tracker last reported them.
Admin only."""

import json

from flask import Blueprint, jsonify

from mininova import exception
from mininova.api.openstack import common

blueprint = Blueprint("hypervisors", __name__)


def _basic(node):
    service = node["service"] or {}
    return {
        "id": node["id"],
        "hypervisor_hostname": node["hypervisor_hostname"],
        "state": "up" if service.get("up") else "down",
        "status": "disabled" if service.get("disabled") else "enabled",
    }


def _detail(node):
    body = _basic(node)
    service = node["service"] or {}
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
        "cpu_info": json.dumps(node["cpu_info"] or {}),
        "service": {"host": node["host"], "id": service.get("id"),
                    "disabled_reason": service.get("disabled_reason")},
    })
    return body


def _admin_context(action):
    context = common.context()
    context.can(f"os_compute_api:os-hypervisors:{action}")
    return context


@blueprint.get("/os-hypervisors")
def index():
    nodes = common.host_api().compute_node_get_all(_admin_context("list"))
    return jsonify({"hypervisors": [_basic(node) for node in nodes]})


@blueprint.get("/os-hypervisors/detail")
def detail():
    nodes = common.host_api().compute_node_get_all(_admin_context("list-detail"))
    return jsonify({"hypervisors": [_detail(node) for node in nodes]})


@blueprint.get("/os-hypervisors/<hypervisor_id>")
def show(hypervisor_id):
    context = _admin_context("show")
    if not hypervisor_id.isdigit():
        raise exception.HypervisorNotFound(hypervisor_id=hypervisor_id)
    return jsonify({"hypervisor": _detail(common.host_api().compute_node_get(context,
                                                                     int(hypervisor_id)))})
