"""``/flavors/<flavor_id>/os-extra_specs`` (mirrors
``nova/api/openstack/compute/flavors_extraspecs.py``).

Extra specs are free key/value pairs on a flavor that the scheduler and the
driver read: ``capabilities:cpu_arch=x86_64`` is checked by the
ComputeCapabilitiesFilter against what each host reports. Anyone may read
them; only an admin may change them. A server keeps the specs its flavor had
when it was booted (in its flavor snapshot), so changing them later moves
nothing.

Answers keep Nova's shapes: create and update echo the specs they were given
(numbers turned into strings), delete returns 200 with no body, and a PUT
whose body names another key than the URL is a 400.

Left out: Nova's validation of the known namespaces (``hw:``, ``trait:``,
... from microversion 2.86).
"""

from flask import Blueprint, jsonify

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import common
from mininova.api.openstack.compute.schemas import flavors_extraspecs as schema
from mininova.db import scheduling as scheduling_db

blueprint = Blueprint("flavors_extraspecs", __name__)

COLLECTION = "/flavors/<flavor_id>/os-extra_specs"


def _admin_context(action):
    context = common.context()
    context.can(f"os_compute_api:os-flavor-extra-specs:{action}")
    return context


def _as_strings(specs):
    return {key: str(value) for key, value in specs.items()}


@blueprint.get(COLLECTION)
def index(flavor_id):
    context = common.context()
    context.can("os_compute_api:os-flavor-extra-specs:index")
    specs = scheduling_db.flavor_extra_specs_get(context, flavor_id)
    return jsonify({"extra_specs": specs})


@blueprint.post(COLLECTION)
@validation.schema(schema.create)
def create(flavor_id, body):
    context = _admin_context("create")
    specs = _as_strings(body["extra_specs"])
    scheduling_db.flavor_extra_specs_update(context, flavor_id, specs)
    return jsonify({"extra_specs": specs})


@blueprint.get(f"{COLLECTION}/<key>")
def show(flavor_id, key):
    context = common.context()
    context.can("os_compute_api:os-flavor-extra-specs:show")
    specs = scheduling_db.flavor_extra_specs_get(context, flavor_id)
    if key not in specs:
        raise exception.FlavorExtraSpecsNotFound(flavor_id=flavor_id, extra_specs_key=key)
    return jsonify({key: specs[key]})


@blueprint.put(f"{COLLECTION}/<key>")
@validation.schema(schema.update)
def update(flavor_id, key, body):
    context = _admin_context("update")
    if key not in body:
        raise exception.Invalid("Request body and URI mismatch")
    spec = _as_strings(body)
    scheduling_db.flavor_extra_specs_update(context, flavor_id, spec)
    return jsonify(spec)


@blueprint.delete(f"{COLLECTION}/<key>")
def delete(flavor_id, key):
    context = _admin_context("delete")
    scheduling_db.flavor_extra_specs_delete(context, flavor_id, key)
    # 200 and no body, as Nova answers.
    return "", 200
