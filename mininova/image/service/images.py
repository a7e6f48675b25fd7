"""Image records: create, list, show, update (a JSON patch) and delete, and
the checks of their request bodies (mirrors ``glance/api/v2/images.py``: its
``ImagesController``, the body checks of its ``RequestDeserializer``, and in
:func:`image_view` its ``ResponseSerializer``). The routes are in :mod:`.app`.

Who sees what: a ``public`` image everyone, a ``private`` one its owner
project only (and the admin, as in Glance); another project's private image
is a 404, not a 403, so its existence does not leak. Only the owner (or the
admin) may upload to or delete an image: 403. Only the admin may create a
public image; the admin's images are public unless said otherwise.

An image's status goes ``queued`` (created, no data) → ``saving`` (its data
is arriving and being checked, see :mod:`.image_data`) → ``active``; a
refused or failed upload makes it ``killed`` for good, and a delete
``deleted``.

PATCH takes Glance's v2.1 JSON patch (``Content-Type:
application/openstack-images-v2.1-json-patch``), a list of operations such
as ``{"op": "replace", "path": "/name", "value": "cirros"}``; ``op`` is
``add``, ``replace`` or ``remove`` (anything else: 400). It may change
``name``, ``min_disk``, ``min_ram``, ``visibility`` (``public`` only by the
admin), ``protected``, ``tags``, the formats while the image is still
``queued``, and custom properties (``add`` of an existing one, or
``replace``/``remove`` of a missing one: 409). Read-only fields (status,
size, checksum, owner, ...): 403. Only the owner or the admin may update;
the patch is applied whole or not at all.

With ``[image_service] show_image_direct_url`` (Glance's option, off by
default) an active image shows where its data is: ``direct_url:
file:///<store_path>/<id>``, for a volume service on the same disk to read.

Left out: the v2.0 JSON-patch dialect and patches of nested paths (such as
``/locations/0``), image members and sharing, tags sub-resources,
pagination (``limit``/``marker``), property-based filters and quotas. The
JSON schemas of an image and a list of images are in :mod:`.schemas`.
"""

import json
import uuid

from flask import Response, g, jsonify, request
from oslo_log import log as logging
from oslo_utils import timeutils

from mininova import utils
from mininova.conf import CONF
from mininova.image.service import models, store
from mininova.image.service.errors import ImageApiError

LOG = logging.getLogger(__name__)

# Nova's limit for a JSON request body (osapi_max_request_body_size).
MAX_JSON_BODY_BYTES = 112 * 1024

MAX_NAME_LENGTH = 255
MAX_PROPERTY_VALUE_LENGTH = 65535
VISIBILITIES = ("public", "private")
STATUSES = (models.QUEUED, models.SAVING, models.ACTIVE, models.KILLED)

# Fields only the service sets: a create request naming one gets a 403, as
# in Glance ("Attribute 'status' is read-only.").
READ_ONLY_FIELDS = frozenset({
    "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
    "owner", "created_at", "updated_at", "deleted_at", "file", "self", "schema",
    "locations", "direct_url",
})
# Fields a create request may set; anything else is a custom property.
WRITABLE_FIELDS = frozenset({
    "id", "name", "disk_format", "container_format", "min_disk", "min_ram",
    "visibility", "protected", "tags",
})
# Fields a PATCH may change; anything else not read-only is a custom property.
# The formats only while the image is queued: the data, once there, was
# checked against them.
PATCHABLE_FIELDS = frozenset({
    "name", "min_disk", "min_ram", "visibility", "protected", "tags",
    "disk_format", "container_format",
})
FIELDS_OF_QUEUED_IMAGES = frozenset({"disk_format", "container_format"})
# Glance's JSON-patch dialect of API v2.1 (RFC 6902, restricted to three
# operations on top-level paths).
JSON_PATCH_MEDIA_TYPE = "application/openstack-images-v2.1-json-patch"
JSON_PATCH_OPERATIONS = ("add", "replace", "remove")


# --- /v2/images -------------------------------------------------------------------

class ImagesController:
    """Image records (mirrors ``glance/api/v2/images.py``)."""

    def __init__(self, engine, file_store):
        self.engine = engine
        self.store = file_store

    def _view(self, image):
        """The image as shown, with its ``direct_url`` when the operator
        chose to show it (Glance's ``show_image_direct_url``: only an image
        with data has a location)."""
        view = image_view(image)
        if CONF.image_service.show_image_direct_url and image["status"] == models.ACTIVE:
            view["direct_url"] = self.store.location_url(image["id"])
        return view

    def create(self):
        context = _context()
        values = _new_image_values(_json_body(), context)
        if models.image_exists(self.engine, values["id"]):
            raise ImageApiError(409, f"Image with identifier {values['id']} already exists!")
        image = models.image_create(self.engine, values)
        LOG.info("Created image %s (%s, %s)", image["id"], image["name"], image["disk_format"])
        return jsonify(self._view(image)), 201

    def index(self):
        name = request.args.get("name")
        status = request.args.get("status")
        if status is not None and status not in STATUSES:
            raise ImageApiError(400, f"Invalid status value: {status}")
        images = models.image_get_all(self.engine, _visible_to(_context()),
                                      name=name, status=status)
        query = request.query_string.decode("latin-1")
        return jsonify({
            "images": [self._view(image) for image in images],
            "first": f"/v2/images?{query}" if query else "/v2/images",
            "schema": "/v2/schemas/images",
        })

    def show(self, image_id):
        return jsonify(self._view(get_visible_image(self.engine, image_id)))

    def update(self, image_id):
        """PATCH: apply a JSON patch to the image's metadata, all or nothing."""
        context = _context()
        image = get_owned_image(self.engine, image_id, "update")
        if request.mimetype != JSON_PATCH_MEDIA_TYPE:
            raise ImageApiError(415, f"Unsupported Content-Type {request.mimetype!r}: send "
                                     f"a JSON patch as {JSON_PATCH_MEDIA_TYPE}.")
        values = _patched_values(image, _json_patch_body(), context)
        # Compare-and-swap on updated_at: a PATCH that read the image before
        # another one wrote it would otherwise undo that write (the
        # properties are one JSON column, rewritten whole).
        updated = models.image_update(
            self.engine, image_id, values,
            expected_status=_statuses_allowing(values),
            expected_updated_at=image["updated_at"])
        if updated is None:
            raise ImageApiError(409, f"Image {image_id} changed during the update "
                                     f"(another update, an upload or a delete); read it "
                                     f"again and retry.")
        LOG.info("Updated image %s: %s", image_id, ", ".join(sorted(values)))
        return jsonify(self._view(updated))

    def delete(self, image_id):
        image = get_owned_image(self.engine, image_id, "delete")
        if image["protected"]:
            raise ImageApiError(403, f"Image {image_id} is protected and cannot be deleted.")
        deleted = models.image_update(
            self.engine, image_id, {"status": models.DELETED, "deleted_at": timeutils.utcnow()},
            expected_status=STATUSES)
        if deleted is None:
            raise _not_found(image_id)
        # An upload still running finds the status changed when it ends and
        # throws its own ``.part`` away; only the final file is ours to remove.
        self.store.delete(image_id)
        LOG.info("Deleted image %s", image_id)
        return Response(status=204)


# --- which images the caller may see and change -----------------------------------

def _context():
    return g.context


def _visible_to(context):
    """The project filter for queries: None lets the admin see everything."""
    return None if context.is_admin else context.project_id


def get_visible_image(engine, image_id):
    image = models.image_get(engine, image_id, _visible_to(_context()))
    if image is None:
        raise _not_found(image_id)
    return image


def get_owned_image(engine, image_id, action):
    image = get_visible_image(engine, image_id)
    context = _context()
    if not context.is_admin and image["owner"] != context.project_id:
        raise ImageApiError(403, f"You are not permitted to {action} image {image_id}.")
    return image


def _not_found(image_id):
    return ImageApiError(404, f"No image found with ID {image_id}")


# --- views ----------------------------------------------------------------------

def image_view(image):
    """An image as Glance v2 shows it: custom properties are top-level keys."""
    view = dict(image["properties"] or {})
    image_id = image["id"]
    view.update({
        "id": image_id,
        "name": image["name"],
        "status": image["status"],
        "disk_format": image["disk_format"],
        "container_format": image["container_format"],
        "size": image["size"],
        "virtual_size": image["virtual_size"],
        "checksum": image["checksum"],
        "os_hash_algo": image["os_hash_algo"],
        "os_hash_value": image["os_hash_value"],
        "min_disk": image["min_disk"],
        "min_ram": image["min_ram"],
        "visibility": image["visibility"],
        "owner": image["owner"],
        "protected": image["protected"],
        "tags": list(image["tags"] or []),
        "created_at": utils.isotime(image["created_at"]),
        "updated_at": utils.isotime(image["updated_at"]),
        "file": f"/v2/images/{image_id}/file",
        "self": f"/v2/images/{image_id}",
        "schema": "/v2/schemas/image",
    })
    return view


# --- reading a JSON body ------------------------------------------------------------

def _json_body():
    body = _read_json()
    if not isinstance(body, dict):
        raise ImageApiError(400, "Request body must be a JSON object.")
    return body


def _json_patch_body():
    body = _read_json()
    if not isinstance(body, list) or not all(isinstance(op, dict) for op in body):
        raise ImageApiError(400, "A JSON patch must be a list of objects such as "
                                 '{"op": "replace", "path": "/name", "value": "cirros"}.')
    return body


def _read_json():
    raw = request.stream.read(MAX_JSON_BODY_BYTES + 1)
    if len(raw) > MAX_JSON_BODY_BYTES:
        raise ImageApiError(413, f"Request body is larger than {MAX_JSON_BODY_BYTES} bytes.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ImageApiError(400, f"Request body is not valid JSON: {exc}") from exc


# --- validating a new image ---------------------------------------------------------

def _new_image_values(body, context):
    """The ``images`` row for a create request, or ImageApiError."""
    for key in body:
        if key in READ_ONLY_FIELDS:
            raise ImageApiError(403, f"Attribute '{key}' is read-only.")
    return {
        "id": _image_id(body.get("id")),
        "name": _name(body.get("name")),
        "status": models.QUEUED,
        "disk_format": _choice(body, "disk_format", store.DISK_FORMATS, required=True),
        "container_format": _choice(body, "container_format", store.CONTAINER_FORMATS,
                                    default="bare"),
        "min_disk": _non_negative_int(body, "min_disk"),
        "min_ram": _non_negative_int(body, "min_ram"),
        "visibility": _visibility(body.get("visibility"), context),
        "owner": context.project_id,
        "protected": _boolean(body, "protected"),
        "tags": _tags(body.get("tags", [])),
        "properties": _custom_properties(body),
    }


def _image_id(value):
    if value is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise ImageApiError(400, f"Invalid id {value!r}: it must be a UUID.") from exc


def _name(value):
    if value is not None and (not isinstance(value, str) or len(value) > MAX_NAME_LENGTH):
        raise ImageApiError(400, f"Invalid name: it must be a string of at most "
                                 f"{MAX_NAME_LENGTH} characters.")
    return value


def _choice(body, key, choices, required=False, default=None):
    value = body.get(key, default)
    if value is None and required:
        raise ImageApiError(400, f"'{key}' is required; one of {', '.join(choices)}.")
    if value not in choices:
        raise ImageApiError(400, f"Invalid value {value!r} for '{key}': "
                                 f"expected one of {', '.join(choices)}.")
    return value


def _non_negative_int(body, key):
    value = body.get(key, 0)
    # bool is an int in Python, but ``true`` is no size in JSON.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImageApiError(400, f"Invalid value {value!r} for '{key}': "
                                 f"it must be an integer >= 0.")
    return value


def _boolean(body, key):
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ImageApiError(400, f"Invalid value {value!r} for '{key}': it must be a boolean.")
    return value


def _visibility(value, context):
    if value is None:
        return "public" if context.is_admin else "private"
    if value not in VISIBILITIES:
        raise ImageApiError(400, f"Invalid visibility {value!r}: expected one of "
                                 f"{', '.join(VISIBILITIES)}.")
    if value == "public" and not context.is_admin:
        raise ImageApiError(403, "Only the admin may make an image public.")
    return value


def _tags(value):
    if not isinstance(value, list) or not all(
            isinstance(tag, str) and len(tag) <= MAX_NAME_LENGTH for tag in value):
        raise ImageApiError(400, "Invalid tags: they must be a list of strings of at most "
                                 f"{MAX_NAME_LENGTH} characters.")
    return sorted(set(value))


def _custom_properties(body):
    properties = {}
    for key, value in body.items():
        if key in WRITABLE_FIELDS:
            continue
        if len(key) > MAX_NAME_LENGTH:
            raise ImageApiError(400, f"Property name {key[:20]!r}... is longer than "
                                     f"{MAX_NAME_LENGTH} characters.")
        if not isinstance(value, str) or len(value) > MAX_PROPERTY_VALUE_LENGTH:
            raise ImageApiError(400, f"Invalid value for property {key!r}: custom "
                                     f"properties are strings of at most "
                                     f"{MAX_PROPERTY_VALUE_LENGTH} characters.")
        properties[key] = value
    return properties


# --- applying a JSON patch -----------------------------------------------------------

def _patched_values(image, operations, context):
    """The columns to write once ``operations`` are applied to ``image``.

    Each operation is checked before any is applied, so a patch is applied
    whole or not at all.
    """
    values = {}
    properties = dict(image["properties"] or {})
    for operation in operations:
        op, name, value = _parse_operation(operation)
        if name in READ_ONLY_FIELDS or name == "id":
            raise ImageApiError(403, f"Attribute '{name}' is read-only.")
        if name in PATCHABLE_FIELDS:
            values[name] = _patched_field(image, op, name, value, context)
        else:
            _patch_property(properties, op, name, value)
    if properties != (image["properties"] or {}):
        values["properties"] = properties
    return values


def _parse_operation(operation):
    """``(op, name, value)`` of one operation such as
    ``{"op": "replace", "path": "/name", "value": "cirros"}``."""
    op = operation.get("op")
    if op not in JSON_PATCH_OPERATIONS:
        raise ImageApiError(400, f"Operation {op!r} is not supported: use one of "
                                 f"{', '.join(JSON_PATCH_OPERATIONS)}.")
    path = operation.get("path")
    if not isinstance(path, str) or not path.startswith("/") or "/" in path[1:]:
        raise ImageApiError(400, f"Invalid path {path!r}: it must name one attribute, "
                                 f"as in '/name'.")
    # JSON pointer escapes: "~1" stands for "/" and "~0" for "~" (in that order).
    name = path[1:].replace("~1", "/").replace("~0", "~")
    if not name:
        raise ImageApiError(400, "Invalid path '/': it must name an attribute.")
    if op != "remove" and "value" not in operation:
        raise ImageApiError(400, f"Operation {op!r} on {path} needs a 'value'.")
    return op, name, operation.get("value")


def _patched_field(image, op, name, value, context):
    """The new value of one of the image's own fields (add means replace)."""
    if op == "remove":
        raise ImageApiError(403, f"Attribute '{name}' cannot be removed: it is not a "
                                 f"custom property.")
    if name in FIELDS_OF_QUEUED_IMAGES and image["status"] != models.QUEUED:
        raise ImageApiError(403, f"Attribute '{name}' can change only while the image is "
                                 f"queued: its data was checked as {image[name]}.")
    body = {name: value}
    if name == "name":
        return _name(value)
    if name in ("min_disk", "min_ram"):
        return _non_negative_int(body, name)
    if name == "protected":
        return _boolean(body, name)
    if name == "tags":
        return _tags(value)
    if name == "visibility":
        return _visibility(_choice(body, name, VISIBILITIES, required=True), context)
    if name == "disk_format":
        return _choice(body, name, store.DISK_FORMATS, required=True)
    return _choice(body, name, store.CONTAINER_FORMATS, required=True)


def _patch_property(properties, op, name, value):
    """Apply one operation on a custom property, as Glance does: ``add`` of
    an existing property and ``replace`` or ``remove`` of a missing one are
    409, so a client working from a stale view learns it."""
    if op == "remove":
        if name not in properties:
            raise ImageApiError(409, f"Property '{name}' does not exist.")
        del properties[name]
        return
    if op == "add" and name in properties:
        raise ImageApiError(409, f"Property '{name}' already exists: use replace.")
    if op == "replace" and name not in properties:
        raise ImageApiError(409, f"Property '{name}' does not exist: use add.")
    properties.update(_custom_properties({name: value}))


def _statuses_allowing(values):
    """The statuses the image may still have when the patch is written."""
    if FIELDS_OF_QUEUED_IMAGES & values.keys():
        return models.QUEUED
    return STATUSES
