"""``/flavors`` (mirrors ``nova/api/openstack/compute/flavors.py``). Read-only
here; operators add flavors with ``mininova-manage flavor create``."""

from flask import Blueprint, jsonify

from mininova.api.openstack import common
from mininova.db import api as db

blueprint = Blueprint("flavors", __name__)


def _basic(flavor):
    return {"id": flavor["flavorid"], "name": flavor["name"],
            "links": common.links("flavors", flavor["flavorid"])}


def _detail(flavor):
    body = _basic(flavor)
    body.update({
        "ram": flavor["memory_mb"],
        "disk": flavor["root_gb"],
        "vcpus": flavor["vcpus"],
        "swap": flavor["swap"] or "",
        "OS-FLV-EXT-DATA:ephemeral": flavor["ephemeral_gb"],
        "OS-FLV-DISABLED:disabled": flavor["disabled"],
        "os-flavor-access:is_public": flavor["is_public"],
        "rxtx_factor": flavor["rxtx_factor"],
    })
    return body


@blueprint.get("/flavors")
def index():
    context = common.context()
    context.can("os_compute_api:flavors:index")
    return jsonify({"flavors": [_basic(f) for f in db.flavor_get_all(context)]})


@blueprint.get("/flavors/detail")
def detail():
    context = common.context()
    context.can("os_compute_api:flavors:index")
    return jsonify({"flavors": [_detail(f) for f in db.flavor_get_all(context)]})


@blueprint.get("/flavors/<flavor_id>")
def show(flavor_id):
    context = common.context()
    context.can("os_compute_api:flavors:show")
    return jsonify({"flavor": _detail(db.flavor_get_by_flavor_id(context, flavor_id))})
