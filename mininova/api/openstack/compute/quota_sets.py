"""``/os-quota-sets/<project_id>`` (mirrors
``nova/api/openstack/compute/quota_sets.py``).

- ``GET`` a project's limits: ``{"quota_set": {"id": <project>, "cores": 20, ...}}``;
- ``GET .../detail`` the same with ``{"in_use", "limit", "reserved"}`` for
  each (``reserved`` is always 0: usage is counted, nothing is reserved);
- ``GET .../defaults`` what a project without limits of its own gets;
- ``PUT`` (admin) sets the project's own limits and answers with them
  (without ``id``). A limit below what the project uses now is a 400
  unless ``"force": true``;
- ``DELETE`` (admin, 202) forgets them: the project has the defaults again.

A project's readers may read its quotas; another project's are the
admin's. Microversions: 2.36 drops the nova-network quotas
(``fixed_ips``, ``floating_ips``, ``security_groups``,
``security_group_rules``) from bodies, 2.57 the personality file ones
(``injected_files``...); 2.75 refuses unknown query parameters.

Left out: per-user quotas (``?user_id=`` is a 400 saying so), and
checking with Keystone that the project exists.
"""

from flask import Blueprint, jsonify, request
from oslo_utils import strutils

from mininova import exception, quota
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.schemas import quotas as schema
from mininova.db import quotas as quotas_db

blueprint = Blueprint("quota_sets", __name__)

ROOT = "/os-quota-sets/<project_id>"


def filtered_quotas():
    """The resources a body of this microversion no longer shows."""
    if api_version_request.is_supported("2.57"):
        return schema.NETWORK_QUOTAS + schema.INJECTED_FILE_QUOTAS
    if api_version_request.is_supported("2.36"):
        return schema.NETWORK_QUOTAS
    return []


def _quota_set(values, project_id=None):
    body = {"id": project_id} if project_id is not None else {}
    hidden = filtered_quotas()
    body.update({name: value for name, value in values.items() if name not in hidden})
    return jsonify({"quota_set": body})


def _limits(context, project_id):
    return quota.get_project_limits(context, project_id)


def _no_user_quotas():
    common.check_query_params(("user_id",))
    if "user_id" in request.args:
        raise exception.Invalid("Per-user quotas are not supported by mininova: "
                                "leave out user_id.")


@blueprint.get(ROOT)
def show(project_id):
    context = common.context()
    context.can("os_compute_api:os-quota-sets:show", {"project_id": project_id})
    _no_user_quotas()
    return _quota_set(_limits(context, project_id), project_id)


@blueprint.get(f"{ROOT}/detail")
def detail(project_id):
    context = common.context()
    context.can("os_compute_api:os-quota-sets:detail", {"project_id": project_id})
    _no_user_quotas()
    quotas = quota.get_project_quotas(context, project_id, usages=True)
    return _quota_set({name: {"in_use": values["in_use"], "limit": values["limit"],
                              "reserved": 0}
                       for name, values in quotas.items()}, project_id)


@blueprint.get(f"{ROOT}/defaults")
def defaults(project_id):
    context = common.context()
    context.can("os_compute_api:os-quota-sets:defaults", {"project_id": project_id})
    return _quota_set(quota.get_defaults(context), project_id)


@blueprint.put(ROOT)
def update(project_id):
    context = common.context()
    context.can("os_compute_api:os-quota-sets:update", {"project_id": project_id})
    _no_user_quotas()
    body = validation.validated_body(_update_schema())["quota_set"]
    force = strutils.bool_from_string(body.pop("force", False))
    settable = quota.get_settable_quotas(context, project_id)
    # Check every value first, then write them all: no half-done update.
    limits = {resource: int(value) for resource, value in body.items()}
    if not force:
        for resource, limit in limits.items():
            _check_settable(resource, limit, *settable[resource])
    for resource, limit in limits.items():
        quotas_db.quota_set(context, project_id, resource, limit)
    return _quota_set(_limits(context, project_id))


def _update_schema():
    if api_version_request.is_supported("2.57"):
        return schema.update_v257
    if api_version_request.is_supported("2.36"):
        return schema.update_v236
    return schema.update


def _check_settable(resource, limit, minimum, maximum):
    def as_number(value):
        return float("inf") if value == quota.UNLIMITED else value

    if as_number(limit) < as_number(minimum):
        raise exception.Invalid(
            f"Quota limit {limit} for {resource} must be greater than or equal to "
            f"already used and reserved {minimum}.")
    if as_number(limit) > as_number(maximum):
        raise exception.Invalid(
            f"Quota limit {limit} for {resource} must be less than or equal to {maximum}.")


@blueprint.delete(ROOT)
def delete(project_id):
    context = common.context()
    context.can("os_compute_api:os-quota-sets:delete", {"project_id": project_id})
    _no_user_quotas()
    quotas_db.quota_destroy_all_by_project(context, project_id)
    return "", 202
