"""mininova-image's HTTP API: a subset of Glance's v2 API (mirrors
``glance/api/v2/images.py``, ``glance/api/v2/image_data.py`` and
``glance/api/versions.py``).

Routes (bodies have Glance's JSON shapes)::

    GET    /  and  /versions      the API versions (300 at /, 200 at /versions,
                                  as Glance; no token needed, as Glance)
    POST   /v2/images             create an image record: 201, status queued
    GET    /v2/images             list: ?name= and ?status= filters, newest first
    GET    /v2/images/<id>        show: 404 if unknown or not visible
    PATCH  /v2/images/<id>        update metadata with a JSON patch (below): 200
    DELETE /v2/images/<id>        204: file removed, row kept as status deleted
    PUT    /v2/images/<id>/file   upload the data (application/octet-stream):
                                  204; 400 when the data is refused (the image
                                  becomes killed); 409 unless queued
    GET    /v2/images/<id>/file   download: 200 streamed, with Content-MD5;
                                  204 with no body while the image has no data
                                  (any status but active), as Glance answers

Every other request needs ``X-Auth-Token: <user>:<project>`` (Nova's noauth2
idea, see :func:`mininova.context.from_auth_token`), else 401. Errors are
``{"error": {"code": 404, "title": "Not Found", "message": "..."}}``.

Who sees what: a ``public`` image everyone, a ``private`` one its owner
project only (and the admin, as in Glance); another project's private image
is a 404, not a 403, so its existence does not leak. Only the owner (or the
admin) may upload to or delete an image: 403. Only the admin may create a
public image; the admin's images are public unless said otherwise.

An image's status goes ``queued`` (created, no data) → ``saving`` (its data
is arriving and being checked) → ``active``; a refused or failed upload makes
it ``killed`` for good, and a delete ``deleted``.

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

An upload streams the request body to ``<store>/<id>.part`` 1 MiB at a time,
hashing it, then checks it (format inspector, then qemu-img: see
:mod:`.store`) before it is renamed into place and the image becomes
active. The status moves by
compare-and-swap, so two uploads to one image cannot both run, and an image
deleted mid-upload has its data thrown away (410, Glance's answer). waitress
(our WSGI server) buffers a request's body, to a temporary file past 512 KiB,
before calling us: a client that disconnects mid-upload never reaches this
code and its image stays queued, ready for another try. Under a server that
streams bodies to the application, a short body kills the image.

Each request is logged in Nova's API access-log format, with the request's
context current so the line carries its ``req-…`` id. An incoming
``X-OpenStack-Request-ID: req-<uuid>`` is used as this request's id, so a
compute host's download and the image service's log line share one id; the
id is returned in ``x-openstack-request-id``.

Left out: the v2.0 JSON-patch dialect and patches of nested paths (such as
``/locations/0``), image members and sharing, tags sub-resources, the image
import API and tasks, multiple stores, pagination (``limit``/``marker``),
property-based filters, the JSON schemas behind ``/v2/schemas/...``, quotas
and the ``image_size_cap`` limit.

mininova-image expects to be the only process using its database and store:
at start it marks images left ``saving`` by an earlier run as ``killed``.
"""

import json
import os
import re
import time
import uuid

from flask import Flask, Response, g, jsonify, request
from oslo_log import log as logging
from werkzeug.exceptions import ClientDisconnected, HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import ClosingIterator, wrap_file

from mininova import context as mn_context
from mininova import utils
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.db.models import utcnow
from mininova.image.service import models, store

LOG = logging.getLogger(__name__)

CURRENT_API_VERSION = "v2.9"

ACCESS_LOG_FORMAT = (
    '%(REMOTE_ADDR)s "%(REQUEST_METHOD)s %(REQUEST_URI)s" status: %(status)s '
    "len: %(len)s time: %(time).7f"
)

# oslo.context's ids are ``req-`` and a uuid4; anything else in the header
# (garbage, or an attempt to forge log lines) is ignored.
REQUEST_ID_PATTERN = re.compile(
    r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

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
# Endpoints a client may call before it has a token, to discover the API.
PUBLIC_ENDPOINTS = frozenset({"root", "versions"})


class ImageApiError(Exception):
    """An error answer: its HTTP code and a message for the caller."""

    def __init__(self, code, message):
        self.code = code
        self.message = message
        super().__init__(message)


# --- the application ------------------------------------------------------------

def create_app(connection=None, store_path=None):
    """The mininova-image WSGI application.

    ``connection`` (SQLAlchemy URL) and ``store_path`` default to
    ``[image_service] connection`` and ``store_path``. Makes the table and
    the store directory if missing.
    """
    engine = db_api.get_engine(connection or CONF.image_service.connection)
    models.create_tables(engine)
    file_store = store.FileStore(store_path or CONF.image_service.store_path)
    _kill_interrupted_uploads(engine, file_store)

    app = Flask(__name__)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.register_error_handler(Exception, _error_response)
    _add_routes(app, ImagesController(engine, file_store),
                ImageDataController(engine, file_store))
    return app


def _add_routes(app, images, image_data):
    app.add_url_rule("/", "root", versions_index, methods=["GET"])
    app.add_url_rule("/versions", "versions", versions_index, methods=["GET"])
    app.add_url_rule("/v2/images", "create", images.create, methods=["POST"])
    app.add_url_rule("/v2/images", "index", images.index, methods=["GET"])
    app.add_url_rule("/v2/images/<image_id>", "show", images.show, methods=["GET"])
    app.add_url_rule("/v2/images/<image_id>", "update", images.update, methods=["PATCH"])
    app.add_url_rule("/v2/images/<image_id>", "delete", images.delete, methods=["DELETE"])
    app.add_url_rule("/v2/images/<image_id>/file", "upload", image_data.upload,
                     methods=["PUT"])
    app.add_url_rule("/v2/images/<image_id>/file", "download", image_data.download,
                     methods=["GET"])


def _kill_interrupted_uploads(engine, file_store):
    """An image still ``saving`` at start-up lost its upload with the last
    process: nobody will finish it, so it must not stay ``saving`` forever."""
    for image in models.image_get_all_in_status(engine, models.SAVING):
        file_store.discard_partial(image["id"])
        reason = "mininova-image stopped during the upload"
        if models.image_update(engine, image["id"], {"status": models.KILLED, "fault": reason},
                               expected_status=models.SAVING):
            LOG.warning("Image %s killed: %s", image["id"], reason)


# --- per request: identity, request id, access log ------------------------------

def _start_request():
    g.started = time.monotonic()
    request_id = _incoming_request_id()
    context = mn_context.from_auth_token(request.headers.get("X-Auth-Token"), request_id)
    authenticated = context is not None
    if not authenticated:
        # An anonymous context still gives the log line a request id.
        kwargs = {"request_id": request_id} if request_id else {}
        context = mn_context.RequestContext(**kwargs)
    # oslo.log prints the current context's request id on every line.
    context.update_store()
    g.context = context
    if not authenticated and request.endpoint not in PUBLIC_ENDPOINTS:
        raise ImageApiError(401, "The request you have made requires authentication.")


def _incoming_request_id():
    request_id = request.headers.get("X-OpenStack-Request-ID", "")
    return request_id if REQUEST_ID_PATTERN.match(request_id) else None


def _finish_request(response):
    context = g.get("context")
    if context is None:
        return response
    response.headers["x-openstack-request-id"] = context.request_id
    values = {
        "REMOTE_ADDR": request.remote_addr,
        "REQUEST_METHOD": request.method,
        "REQUEST_URI": _request_uri(),
        "status": response.status_code,
        "len": response.content_length or 0,
    }
    started = g.started

    # Log once the body has been sent, as Nova's server does: for a
    # download, the time then includes the transfer.
    def log_request():
        values["time"] = time.monotonic() - started
        LOG.info(ACCESS_LOG_FORMAT, values, context=context)
        mn_context.clear_current()

    if response.direct_passthrough:
        # Werkzeug gives such a body (a download) to the server as it is,
        # without the wrapper that runs ``call_on_close`` functions.
        response.response = ClosingIterator(response.response, log_request)
    else:
        response.call_on_close(log_request)
    return response


def _request_uri():
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def _error_response(error):
    if isinstance(error, ImageApiError):
        code, message = error.code, error.message
    elif isinstance(error, HTTPException):
        code, message = error.code, error.description
    else:
        LOG.exception("Unexpected error handling %s %s", request.method, request.path)
        code, message = 500, f"The server has an unexpected error: {type(error).__name__}"
    body = {"error": {"code": code, "title": HTTP_STATUS_CODES.get(code, "Error"),
                      "message": message}}
    return jsonify(body), code


def _context():
    return g.context


def _visible_to(context):
    """The project filter for queries: None lets the admin see everything."""
    return None if context.is_admin else context.project_id


# --- views ----------------------------------------------------------------------

def versions_index():
    body = {"versions": [{
        "id": CURRENT_API_VERSION,
        "status": "CURRENT",
        "links": [{"rel": "self", "href": request.host_url + "v2/"}],
    }]}
    # Glance answers its root with 300 Multiple Choices.
    status = 300 if request.path == "/" else 200
    return jsonify(body), status


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


# --- /v2/images -------------------------------------------------------------------

class ImagesController:
    """Image records (mirrors ``glance/api/v2/images.py``)."""

    def __init__(self, engine, file_store):
        self.engine = engine
        self.store = file_store

    def create(self):
        context = _context()
        values = _new_image_values(_json_body(), context)
        if models.image_exists(self.engine, values["id"]):
            raise ImageApiError(409, f"Image with identifier {values['id']} already exists!")
        image = models.image_create(self.engine, values)
        LOG.info("Created image %s (%s, %s)", image["id"], image["name"], image["disk_format"])
        return jsonify(image_view(image)), 201

    def index(self):
        name = request.args.get("name")
        status = request.args.get("status")
        if status is not None and status not in STATUSES:
            raise ImageApiError(400, f"Invalid status value: {status}")
        images = models.image_get_all(self.engine, _visible_to(_context()),
                                      name=name, status=status)
        query = request.query_string.decode("latin-1")
        return jsonify({
            "images": [image_view(image) for image in images],
            "first": f"/v2/images?{query}" if query else "/v2/images",
            "schema": "/v2/schemas/images",
        })

    def show(self, image_id):
        return jsonify(image_view(get_visible_image(self.engine, image_id)))

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
        return jsonify(image_view(updated))

    def delete(self, image_id):
        image = get_owned_image(self.engine, image_id, "delete")
        if image["protected"]:
            raise ImageApiError(403, f"Image {image_id} is protected and cannot be deleted.")
        deleted = models.image_update(
            self.engine, image_id, {"status": models.DELETED, "deleted_at": utcnow()},
            expected_status=STATUSES)
        if deleted is None:
            raise _not_found(image_id)
        # An upload still running finds the status changed when it ends and
        # throws its own ``.part`` away; only the final file is ours to remove.
        self.store.delete(image_id)
        LOG.info("Deleted image %s", image_id)
        return Response(status=204)


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


# --- /v2/images/<id>/file -----------------------------------------------------------

class ImageDataController:
    """Image data (mirrors ``glance/api/v2/image_data.py``)."""

    def __init__(self, engine, file_store):
        self.engine = engine
        self.store = file_store

    def upload(self, image_id):
        get_owned_image(self.engine, image_id, "upload data to")
        if request.mimetype != "application/octet-stream":
            raise ImageApiError(415, f"Unsupported Content-Type {request.mimetype!r}: "
                                     f"send image data as application/octet-stream.")
        saving = models.image_update(self.engine, image_id, {"status": models.SAVING},
                                     expected_status=models.QUEUED)
        if saving is None:
            current = get_visible_image(self.engine, image_id)["status"]
            raise ImageApiError(409, f"Image status transition from {current} to "
                                     f"saving is not allowed")
        # The disk_format as it was when the image became ``saving``: a PATCH
        # may change it only while the image is queued, so this is the one
        # the data will be checked against and stored under.
        disk_format = saving["disk_format"]
        LOG.info("Uploading image %s (%s)", image_id, disk_format)
        data, virtual_size = self._receive(image_id, disk_format)
        active = models.image_update(self.engine, image_id, {
            "status": models.ACTIVE,
            "size": data.size,
            "virtual_size": virtual_size,
            "checksum": data.checksum,
            "os_hash_algo": "sha512",
            "os_hash_value": data.os_hash_value,
        }, expected_status=models.SAVING)
        if active is None:
            self.store.delete(image_id)
            raise ImageApiError(410, f"Image {image_id} could not be found after upload. "
                                     f"The image may have been deleted during the upload.")
        LOG.info("Image %s is active: %d bytes, virtual size %d bytes, checksum %s",
                 image_id, data.size, virtual_size, data.checksum)
        return Response(status=204)

    def _receive(self, image_id, disk_format):
        """Store and check the body; on any failure the image is killed."""
        try:
            data = self.store.write_partial(image_id, request.stream)
            virtual_size = store.inspect_disk(
                image_id, self.store.partial_path_for(image_id), disk_format, data.size)
            self.store.commit(image_id)
        except store.InvalidImageData as exc:
            self._kill(image_id, exc.reason)
            raise ImageApiError(400, f"Image {image_id} was rejected: {exc.reason}. Its "
                                     f"status is now killed: create a new image.") from exc
        except ClientDisconnected as exc:
            self._kill(image_id, "the client disconnected during the upload")
            raise ImageApiError(400, f"The upload of image {image_id} was cut short: "
                                     f"the client disconnected.") from exc
        except Exception as exc:
            self._kill(image_id, f"upload failed: {exc!r}")
            raise
        return data, virtual_size

    def _kill(self, image_id, reason):
        self.store.discard_partial(image_id)
        models.image_update(self.engine, image_id, {"status": models.KILLED, "fault": reason},
                            expected_status=models.SAVING)
        LOG.warning("Image %s killed: %s", image_id, reason)

    def download(self, image_id):
        image = get_visible_image(self.engine, image_id)
        if image["status"] != models.ACTIVE:
            # Glance's answer for an image that has no data (yet).
            return Response(status=204)
        try:
            image_file = self.store.open(image_id)
        except FileNotFoundError as exc:
            LOG.error("The file of active image %s is missing from the store: %s",
                      image_id, self.store.path_for(image_id))
            raise ImageApiError(500, f"The data of image {image_id} is missing from the "
                                     f"image store; ask the operator.") from exc
        size = os.fstat(image_file.fileno()).st_size
        # wrap_file hands the open file to the WSGI server (wsgi.file_wrapper),
        # which sends it straight from disk instead of through Python chunks.
        return Response(
            wrap_file(request.environ, image_file, store.CHUNK_SIZE),
            direct_passthrough=True,
            mimetype="application/octet-stream",
            headers={"Content-Length": str(size), "Content-MD5": image["checksum"]},
        )
