"""``/servers/<id>/metadata`` and ``/servers/<id>/metadata/<key>`` (mirrors
``nova/api/openstack/compute/server_metadata.py``).

A server's metadata is free key/value strings (keys of letters, digits
and ``-_:. ``, both at most 255 characters), given at boot or later:

- ``GET .../metadata`` all of it; ``GET .../metadata/<key>`` one item,
  ``{"meta": {key: value}}`` (404 ``Metadata item was not found``);
- ``POST .../metadata`` merges the items given into it, ``PUT
  .../metadata`` replaces it; both answer with the whole metadata;
- ``PUT .../metadata/<key>`` sets one item (its body's only key must be the
  URL's: else 400 ``Request body and URI mismatch``); ``DELETE`` removes
  one (204).

The number of items is the ``metadata_items`` quota (128): over it is a
403 ``Maximum number of metadata items exceeds 128`` and nothing changes.
Changes are refused with 409 while the server builds, resizes or is busy
with any task. A project's readers read, its members change.

Left out: the lock check (a locked server's metadata can still change).
"""

from flask import Blueprint, jsonify

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import common
from mininova.api.openstack.compute.schemas import server_metadata as schema

blueprint = Blueprint("server_metadata", __name__)

COLLECTION = "/servers/<server_id>/metadata"
ITEM = f"{COLLECTION}/<key>"


def _server(server_id, action):
    """The server (404 if not yours), once the policy allows ``action``."""
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can(f"os_compute_api:server-metadata:{action}", common.owned_by(instance))
    return context, instance


def _item_not_found():
    return exception.NotFound("Metadata item was not found")


@blueprint.get(COLLECTION)
def index(server_id):
    _context, instance = _server(server_id, "index")
    return jsonify({"metadata": instance["metadata"] or {}})


@blueprint.get(ITEM)
def show(server_id, key):
    _context, instance = _server(server_id, "show")
    metadata = instance["metadata"] or {}
    if key not in metadata:
        raise _item_not_found()
    return jsonify({"meta": {key: metadata[key]}})


@blueprint.post(COLLECTION)
@validation.schema(schema.metadata)
def create(server_id, body):
    """Merge: keys not in the body stay. 200, as Nova answers."""
    context, instance = _server(server_id, "create")
    metadata = common.compute_api().update_instance_metadata(context, instance,
                                                             body["metadata"])
    return jsonify({"metadata": metadata})


@blueprint.put(COLLECTION)
@validation.schema(schema.metadata)
def update_all(server_id, body):
    """Replace: keys not in the body go."""
    context, instance = _server(server_id, "update_all")
    metadata = common.compute_api().update_instance_metadata(
        context, instance, body["metadata"], delete=True)
    return jsonify({"metadata": metadata})


@blueprint.put(ITEM)
@validation.schema(schema.meta)
def update(server_id, key, body):
    context, instance = _server(server_id, "update")
    if key not in body["meta"]:
        raise exception.Invalid("Request body and URI mismatch")
    common.compute_api().update_instance_metadata(context, instance, body["meta"])
    return jsonify({"meta": body["meta"]})


@blueprint.delete(ITEM)
def delete(server_id, key):
    context, instance = _server(server_id, "delete")
    if key not in (instance["metadata"] or {}):
        raise _item_not_found()
    common.compute_api().delete_instance_metadata(context, instance, key)
    return "", 204
