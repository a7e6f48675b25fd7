"""``/os-services`` (mirrors ``nova/api/openstack/compute/services.py``):
which services run where, and whether they are up. Admin only."""

from flask import Blueprint, jsonify, request

from mininova import context as mn_context
from mininova import utils
from mininova.api.openstack import common
from mininova.compute import api as compute_api

blueprint = Blueprint("services", __name__)
_host_api = compute_api.HostAPI()


def _view(service):
    return {
        "id": service["id"],
        "binary": service["binary"],
        "host": service["host"],
        "zone": service["zone"],
        "status": "disabled" if service["disabled"] else "enabled",
        "state": "up" if service["up"] else "down",
        "updated_at": utils.isotime(service["last_seen_up"] or service["updated_at"]),
        "disabled_reason": service["disabled_reason"],
        "forced_down": service["forced_down"],
    }


@blueprint.get("/os-services")
def index():
    context = common.context()
    mn_context.require_admin(context, "os_compute_api:os-services:list")
    services = _host_api.service_get_all(context, binary=request.args.get("binary"),
                                         host=request.args.get("host"))
    return jsonify({"services": [_view(service) for service in services]})
