"""Private flavors and the projects that may use them (mirrors
``nova/api/openstack/compute/flavor_access.py``).

A flavor made with ``"os-flavor-access:is_public": false`` is seen and
booted only by the projects an admin adds to it:

- ``GET /flavors/<id>/os-flavor-access``: ``{"flavor_access": [{"flavor_id",
  "tenant_id"}]}``; a public flavor has no list (404 ``Access list not
  available for public flavors.``);
- ``POST /flavors/<id>/action`` with ``{"addTenantAccess": {"tenant": <project>}}``
  or ``{"removeTenantAccess": ...}``, answered with the new list. Adding a
  project twice is a 409, removing one that is not there a 404, adding one
  to a public flavor a 409 from microversion 2.7 (before, Nova let it
  through, to no effect).

All of it is the admin's (the policy says so). Left out: checking with
Keystone that the project exists (Nova does when it can reach Keystone).
"""

from flask import Blueprint, jsonify

from mininova import exception
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.schemas import flavors as schema
from mininova.db import flavors as flavors_db

blueprint = Blueprint("flavor_access", __name__)


def _access_list(flavorid, projects):
    return jsonify({"flavor_access": [{"flavor_id": flavorid, "tenant_id": project_id}
                                      for project_id in projects]})


def _get_flavor(context, flavor_id):
    return flavors_db.flavor_get_by_flavor_id(context, flavor_id)


@blueprint.get("/flavors/<flavor_id>/os-flavor-access")
def index(flavor_id):
    context = common.context()
    context.can("os_compute_api:os-flavor-access")
    flavor = _get_flavor(context, flavor_id)
    if flavor["is_public"]:
        raise exception.NotFound("Access list not available for public flavors.")
    return _access_list(flavor["flavorid"], flavors_db.flavor_access_get(context, flavor_id))


def _add_tenant_access(context, flavor, body):
    if flavor["is_public"] and api_version_request.is_supported("2.7"):
        raise exception.Conflict("Can not add access to a public flavor.")
    return flavors_db.flavor_access_add(context, flavor["flavorid"],
                                        body["addTenantAccess"]["tenant"])


def _remove_tenant_access(context, flavor, body):
    return flavors_db.flavor_access_remove(context, flavor["flavorid"],
                                           body["removeTenantAccess"]["tenant"])


ACTIONS = {
    "addTenantAccess": (schema.add_tenant_access, _add_tenant_access),
    "removeTenantAccess": (schema.remove_tenant_access, _remove_tenant_access),
}
RULES = {
    "addTenantAccess": "os_compute_api:os-flavor-access:add_tenant_access",
    "removeTenantAccess": "os_compute_api:os-flavor-access:remove_tenant_access",
}


@blueprint.post("/flavors/<flavor_id>/action")
def action(flavor_id):
    name, handler, body = common.action_in_body(ACTIONS)
    context = common.context()
    context.can(RULES[name], {})
    flavor = _get_flavor(context, flavor_id)
    return _access_list(flavor["flavorid"], handler(context, flavor, body))
