"""``GET /servers/<id>/topology`` (mirrors
``nova/api/openstack/compute/server_topology.py``), from microversion 2.78:
a server's NUMA cells, with their vCPUs, memory and (for admins) the host
cells and CPU pinning.

mininova gives no server a NUMA topology (NUMA placement is left out, as
the README says), so the answer is always Nova's answer for such a
server: ``{"nodes": [], "pagesize_kb": null}``. The route exists so that a
client asking is told the truth rather than a 404.
"""

from flask import Blueprint, jsonify

from mininova.api.openstack import common

blueprint = Blueprint("server_topology", __name__)


@blueprint.get("/servers/<server_id>/topology")
@common.api_version("2.78")
def index(server_id):
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can("compute:server:topology:index", common.owned_by(instance))
    return jsonify({"nodes": [], "pagesize_kb": None})
