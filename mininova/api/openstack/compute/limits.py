"""``GET /limits`` (mirrors ``nova/api/openstack/compute/limits.py`` and
``views/limits.py``): the project's quotas and what it uses of them, in the
names Nova gave them before quotas had an API of their own::

    {"limits": {"rate": [], "absolute": {"maxTotalInstances": 10,
     "totalInstancesUsed": 2, "maxTotalCores": 20, ...}}}

``rate`` is always empty (Nova dropped rate limits long ago). An admin may
ask for another project's with ``?tenant_id=``.

Microversions: 2.36 drops the nova-network limits (``maxTotalFloatingIps``,
``maxSecurityGroups``...), 2.39 ``maxImageMeta`` (the image API's
business), 2.57 the personality file ones; 2.75 refuses unknown query
parameters.
"""

from flask import Blueprint, jsonify, request

from mininova import quota
from mininova.api.openstack import api_version_request, common

blueprint = Blueprint("limits", __name__)

# resource -> the absolute limits that show it
LIMIT_NAMES = {
    "ram": ["maxTotalRAMSize"],
    "instances": ["maxTotalInstances"],
    "cores": ["maxTotalCores"],
    "key_pairs": ["maxTotalKeypairs"],
    "floating_ips": ["maxTotalFloatingIps"],
    "metadata_items": ["maxServerMeta", "maxImageMeta"],
    "injected_files": ["maxPersonality"],
    "injected_file_content_bytes": ["maxPersonalitySize"],
    "security_groups": ["maxSecurityGroups"],
    "security_group_rules": ["maxSecurityGroupRules"],
    "server_groups": ["maxServerGroups"],
    "server_group_members": ["maxServerGroupMembers"],
}

# what is used -> of which resource
USED_NAMES = {
    "totalRAMUsed": "ram",
    "totalCoresUsed": "cores",
    "totalInstancesUsed": "instances",
    "totalFloatingIpsUsed": "floating_ips",
    "totalSecurityGroupsUsed": "security_groups",
    "totalServerGroupsUsed": "server_groups",
}

NETWORK_LIMITS = ["floating_ips", "security_groups", "security_group_rules"]
INJECTED_FILE_LIMITS = ["injected_files", "injected_file_content_bytes"]


def _filtered():
    if api_version_request.is_supported("2.57"):
        return NETWORK_LIMITS + INJECTED_FILE_LIMITS
    if api_version_request.is_supported("2.36"):
        return NETWORK_LIMITS
    return []


@blueprint.get("/limits")
def index():
    context = common.context()
    context.can("os_compute_api:limits", {})
    common.check_query_params(("tenant_id",))
    project_id = context.project_id
    if "tenant_id" in request.args:
        project_id = request.args["tenant_id"]
        context.can("os_compute_api:limits:other_project", {"project_id": project_id})
    quotas = quota.get_project_quotas(context, project_id, usages=True)
    return jsonify({"limits": {"rate": [], "absolute": _absolute(quotas)}})


def _absolute(quotas):
    filtered = _filtered()
    absolute = {}
    for resource, names in LIMIT_NAMES.items():
        if resource in filtered:
            continue
        for name in names:
            if name == "maxImageMeta" and api_version_request.is_supported("2.39"):
                continue
            absolute[name] = quotas[resource]["limit"]
    for name, resource in USED_NAMES.items():
        if resource not in filtered:
            absolute[name] = quotas[resource]["in_use"]
    return absolute
