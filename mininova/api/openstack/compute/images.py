"""``/images``: the image service's images as the compute API shows them
(mirrors ``nova/api/openstack/compute/images.py``, a proxy to Glance).

Microversion 2.36 deprecated the compute API's proxies to other services:
from 2.36 these routes answer 404, and clients ask the image service
itself, as they do for everything else about images.

Left out: the image metadata proxy (``/images/<id>/metadata``, deprecated
by 2.39) and image deletion through this API."""

from flask import Blueprint, jsonify

from mininova import utils
from mininova.api.openstack import common

blueprint = Blueprint("images", __name__)

# Glance's statuses as Nova's API reports them.
STATUS_MAP = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING",
              "importing": "SAVING", "killed": "ERROR", "deleted": "DELETED",
              "pending_delete": "DELETED"}

CORE_FIELDS = {"id", "name", "status", "disk_format", "container_format", "size",
               "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "min_disk",
               "min_ram", "visibility", "owner", "protected", "created_at", "updated_at",
               "file", "self", "schema", "tags", "direct_url", "locations",
               "os_hidden", "stores"}


def _basic(image):
    return {"id": image["id"], "name": image["name"],
            "links": common.links("images", image["id"])}


def _detail(image):
    body = _basic(image)
    status = STATUS_MAP.get(image["status"], "UNKNOWN")
    body.update({
        "status": status,
        "progress": 100 if status == "ACTIVE" else (25 if status == "SAVING" else 0),
        "minDisk": image.get("min_disk") or 0,
        "minRam": image.get("min_ram") or 0,
        "created": utils.isotime(image.get("created_at")),
        "updated": utils.isotime(image.get("updated_at")),
        "metadata": {k: v for k, v in image.items() if k not in CORE_FIELDS},
        "OS-EXT-IMG-SIZE:size": image.get("size"),
    })
    return body


@blueprint.get("/images")
@common.api_version("2.1", "2.35")
def index():
    return jsonify({"images": [_basic(i) for i in common.image_api().get_all(common.context())]})


@blueprint.get("/images/detail")
@common.api_version("2.1", "2.35")
def detail():
    return jsonify({"images": [_detail(i) for i in common.image_api().get_all(common.context())]})


@blueprint.get("/images/<image_id>")
@common.api_version("2.1", "2.35")
def show(image_id):
    return jsonify({"image": _detail(common.image_api().show(common.context(), image_id))})
