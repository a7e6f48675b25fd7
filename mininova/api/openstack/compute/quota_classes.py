"""``/os-quota-class-sets/<class>`` (mirrors
``nova/api/openstack/compute/quota_classes.py``).

The quota class ``default`` holds the limits every project has unless it
has its own (``os-quota-sets``); a resource not set in it falls back to the
``[quota]`` option. ``GET`` shows a class, ``PUT`` sets some of its
limits and answers with all of them (without ``id``). Both are the
admin's. Another class name can be set and shown, as in Nova, but applies
to no project.

Microversions: before 2.50 the bodies leave out ``server_groups`` and
``server_group_members`` (a v2.1 mistake Nova kept); 2.50 shows them and
drops the nova-network quotas; 2.57 drops the personality file ones.
"""

from flask import Blueprint, jsonify

from mininova import quota
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.schemas import quotas as schema
from mininova.db import quotas as quotas_db

blueprint = Blueprint("quota_classes", __name__)

SERVER_GROUP_QUOTAS = ["server_groups", "server_group_members"]


def _hidden():
    if api_version_request.is_supported("2.57"):
        return schema.NETWORK_QUOTAS + schema.INJECTED_FILE_QUOTAS
    if api_version_request.is_supported("2.50"):
        return schema.NETWORK_QUOTAS
    return SERVER_GROUP_QUOTAS


def _quota_class_set(values, class_name=None):
    body = {"id": class_name} if class_name is not None else {}
    hidden = _hidden()
    body.update({name: value for name, value in values.items() if name not in hidden})
    return jsonify({"quota_class_set": body})


@blueprint.get("/os-quota-class-sets/<class_name>")
def show(class_name):
    context = common.context()
    context.can("os_compute_api:os-quota-class-sets:show", {})
    return _quota_class_set(quota.get_class_quotas(context, class_name), class_name)


@blueprint.put("/os-quota-class-sets/<class_name>")
def update(class_name):
    context = common.context()
    context.can("os_compute_api:os-quota-class-sets:update", {})
    body = validation.validated_body(_update_schema())["quota_class_set"]
    for resource, limit in body.items():
        quotas_db.quota_class_set(context, class_name, resource, int(limit))
    return _quota_class_set(quota.get_class_quotas(context, class_name))


def _update_schema():
    if api_version_request.is_supported("2.57"):
        return schema.class_update_v257
    if api_version_request.is_supported("2.50"):
        return schema.class_update_v250
    return schema.class_update
