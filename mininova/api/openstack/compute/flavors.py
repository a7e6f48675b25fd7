"""``/flavors`` (mirrors ``nova/api/openstack/compute/flavors.py``, which
since Pike also holds os-flavor-manage's create and delete, and
``views/flavors.py``).

Anyone lists and shows the flavors they may use: the public ones and the
private ones their project was given (``os-flavor-access``); another
project's private flavor does not exist for them (404). An admin sees all,
and chooses with ``?is_public=``: ``true`` (the default: public ones and
those of the admin's own project), ``false`` (private only) or ``none``
(all). Lists filter by ``minRam``/``minDisk``, sort by ``sort_key`` and
``sort_dir`` (``flavorid``, ascending, by default) and page with
``limit``/``marker`` (a ``flavors_links`` "next" link when a page is full).

Only an admin creates (200, Nova's answer since v2.0) and deletes (202)
them. A new flavor's name and id are each unique (409 naming the one
taken). Servers keep a copy of their flavor, so deleting or changing one
moves nothing.

Microversions: 2.55 adds ``description`` (set at create, changed with
``PUT /flavors/<id>``, the only change a flavor allows); 2.61 shows the
``extra_specs`` in the flavor to those the extra specs policy lets read
them; 2.75 shows a ``swap`` of 0 as ``0`` (``""`` before) and refuses
unknown query parameters.

Left out: the ``name`` filter and the removal of ``rxtx_factor`` of
microversions after 2.79.
"""

from flask import Blueprint, jsonify, request
from oslo_utils import strutils

from mininova import exception, policy
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.schemas import flavors as schema
from mininova.compute import flavors as compute_flavors
from mininova.db import flavors as flavors_db

blueprint = Blueprint("flavors", __name__)

LIST_PARAMS = ("limit", "marker", "is_public", "minRam", "minDisk", "sort_key", "sort_dir")
SORT_DIRS = ("asc", "desc")


# --- views -----------------------------------------------------------------------

def _basic(flavor):
    body = {"id": flavor["flavorid"], "name": flavor["name"],
            "links": common.links("flavors", flavor["flavorid"])}
    if api_version_request.is_supported("2.55"):
        body["description"] = flavor["description"]
    return body


def _detail(flavor, include_extra_specs=False):
    body = {
        "id": flavor["flavorid"],
        "name": flavor["name"],
        "ram": flavor["memory_mb"],
        "disk": flavor["root_gb"],
        # A flavor without swap said "" until 2.75 made it the number 0.
        "swap": flavor["swap"] or (0 if api_version_request.is_supported("2.75") else ""),
        "OS-FLV-EXT-DATA:ephemeral": flavor["ephemeral_gb"],
        "OS-FLV-DISABLED:disabled": flavor["disabled"],
        "vcpus": flavor["vcpus"],
        "os-flavor-access:is_public": flavor["is_public"],
        "rxtx_factor": flavor["rxtx_factor"],
        "links": common.links("flavors", flavor["flavorid"]),
    }
    if api_version_request.is_supported("2.55"):
        body["description"] = flavor["description"]
    if include_extra_specs:
        body["extra_specs"] = flavor["extra_specs"]
    return body


def _shows_extra_specs(context):
    """2.61: the specs are in the flavor for whoever may list them anyway."""
    return (api_version_request.is_supported("2.61")
            and policy.check(context, "os_compute_api:os-flavor-extra-specs:index"))


# --- list, show ----------------------------------------------------------------

@blueprint.get("/flavors")
def index():
    flavors = _list()
    return _list_body([_basic(flavor) for flavor in flavors], flavors, "flavors")


@blueprint.get("/flavors/detail")
def detail():
    flavors = _list()
    specs = _shows_extra_specs(common.context())
    return _list_body([_detail(flavor, specs) for flavor in flavors], flavors,
                      "flavors/detail")


def _list_body(shown, flavors, collection):
    body = {"flavors": shown}
    links = common.collection_links(flavors, collection, "flavorid")
    if links:
        body["flavors_links"] = links
    return jsonify(body)


def _list():
    context = common.context()
    context.can("os_compute_api:flavors:index")
    common.check_query_params(LIST_PARAMS)
    limit, marker = common.pagination_params()
    filters = {"min_memory_mb": _int_filter("minRam"), "min_root_gb": _int_filter("minDisk")}
    if context.is_admin:
        filters["is_public"] = _is_public_filter(request.args.get("is_public"))
    else:
        # Others always get what they may use, and nothing disabled.
        filters.update(is_public=True, disabled=False)
    sort_key = request.args.get("sort_key", "flavorid")
    sort_dir = request.args.get("sort_dir", "asc")
    _check_one_of("sort_key", sort_key, flavors_db.FLAVOR_SORT_KEYS)
    _check_one_of("sort_dir", sort_dir, SORT_DIRS)
    try:
        return flavors_db.flavor_get_all(context, sort_key=sort_key, sort_dir=sort_dir, limit=limit,
                                         marker=marker, **filters)
    except exception.MarkerNotFound as exc:
        raise exception.Invalid(f"marker [{marker}] not found") from exc


def _is_public_filter(raw):
    """Nova's ``_parse_is_public``: absent means public, ``none`` all."""
    if raw is None:
        return True
    if raw.lower() == "none":
        return None
    try:
        return strutils.bool_from_string(raw, strict=True)
    except ValueError as exc:
        raise exception.Invalid(f"Invalid is_public filter [{raw}]") from exc


def _int_filter(name):
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise exception.Invalid(f"Invalid {name} filter [{raw}]") from exc


def _check_one_of(name, value, allowed):
    if value not in allowed:
        raise exception.ValidationError(
            detail=f"Invalid input for query parameters {name}. Value: {value}. "
                   f"'{value}' is not one of {list(allowed)}")


@blueprint.get("/flavors/<flavor_id>")
def show(flavor_id):
    context = common.context()
    context.can("os_compute_api:flavors:show")
    flavor = flavors_db.flavor_get_by_flavor_id(context, flavor_id)
    return jsonify({"flavor": _detail(flavor, _shows_extra_specs(context))})


# --- os-flavor-manage: create, update (2.55), delete ------------------------------------

@blueprint.post("/flavors")
def create():
    context = common.context()
    context.can("os_compute_api:os-flavor-manage:create", {})
    with_description = api_version_request.is_supported("2.55")
    body = validation.validated_body(schema.create_v255 if with_description
                                     else schema.create)
    values = body["flavor"]
    flavor = compute_flavors.create(
        context, values["name"], values["ram"], values["vcpus"], values["disk"],
        ephemeral_gb=values.get("OS-FLV-EXT-DATA:ephemeral", 0),
        flavorid=values.get("id"), swap=values.get("swap", 0),
        rxtx_factor=values.get("rxtx_factor", 1.0),
        is_public=values.get("os-flavor-access:is_public", True),
        description=values.get("description") if with_description else None)
    return jsonify({"flavor": _detail(flavor, _shows_extra_specs(context))})


@blueprint.put("/flavors/<flavor_id>")
def update(flavor_id):
    if not api_version_request.is_supported("2.55"):
        # Before 2.55 there is no such method: Nova's 404 for it.
        raise exception.NotFound("The resource could not be found.")
    context = common.context()
    context.can("os_compute_api:os-flavor-manage:update", {})
    body = validation.validated_body(schema.update_v255)
    flavor = flavors_db.flavor_update_description(context, flavor_id, body["flavor"]["description"])
    return jsonify({"flavor": _detail(flavor, _shows_extra_specs(context))})


@blueprint.delete("/flavors/<flavor_id>")
def delete(flavor_id):
    context = common.context()
    context.can("os_compute_api:os-flavor-manage:delete", {})
    flavors_db.flavor_destroy(context, flavor_id)
    # 202, as Nova answers (it says itself that 204 would have been right).
    return "", 202
