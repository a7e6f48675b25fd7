"""mininova-image's HTTP API: a subset of Glance's v2 API, as a Flask
application. This module makes the application and its routes (Glance's
``glance/api/v2/router.py``), does what every request needs (identity,
request id, access log, error answers: Glance's ``glance/common/wsgi.py``)
and answers the versions (mirrors ``glance/api/versions.py``). The routes'
work is done by

- :mod:`.images`: image records (mirrors ``glance/api/v2/images.py``);
- :mod:`.image_data`: their data (mirrors ``glance/api/v2/image_data.py``);
- :mod:`.schemas`: the JSON schemas clients build their image model from
  (mirrors ``glance/api/v2/schemas.py``).

Routes (bodies have Glance's JSON shapes)::

    GET    /  and  /versions      the API versions (300 at /, 200 at /versions,
                                  as Glance; no token needed, as Glance)
    POST   /v2/images             create an image record: 201, status queued
    GET    /v2/images             list: ?name= and ?status= filters, newest first
    GET    /v2/images/<id>        show: 404 if unknown or not visible
    PATCH  /v2/images/<id>        update metadata with a JSON patch (images.py)
    DELETE /v2/images/<id>        204: file removed, row kept as status deleted
    PUT    /v2/images/<id>/file   upload the data (application/octet-stream):
                                  204; 400 when the data is refused (the image
                                  becomes killed); 409 unless queued
    GET    /v2/images/<id>/file   download: 200 streamed, with Content-MD5;
                                  204 with no body while the image has no data
                                  (any status but active), as Glance answers
    GET    /v2/schemas/image      the JSON schema of an image (glanceclient
    GET    /v2/schemas/images     reads it before showing or listing images)

Every other request needs ``X-Auth-Token: <user>:<project>`` (Nova's noauth2
idea, see :func:`mininova.context.from_auth_token`), else 401. Errors are
``{"error": {"code": 404, "title": "Not Found", "message": "..."}}``.

Each request is logged in Nova's API access-log format, with the request's
context current so the line carries its ``req-…`` id. An incoming
``X-OpenStack-Request-ID: req-<uuid>`` is used as this request's id, so a
compute host's download and the image service's log line share one id; the
id is returned in ``x-openstack-request-id``.

mininova-image expects to be the only process using its database and store:
at start it marks images left ``saving`` by an earlier run as ``killed``.
"""

import re
import time

from flask import Flask, g, jsonify, request
from oslo_log import log as logging
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from mininova import context as mn_context
from mininova.api import auth
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.image.service import models, schemas, store
from mininova.image.service.errors import ImageApiError
from mininova.image.service.image_data import ImageDataController
from mininova.image.service.images import ImagesController

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

# Endpoints a client may call before it has a token, to discover the API.
PUBLIC_ENDPOINTS = frozenset({"root", "versions"})
PUBLIC_PATHS = frozenset({"/", "/versions"})


# --- the application ------------------------------------------------------------

def create_app(connection=None, store_path=None):
    """The mininova-image WSGI application.

    ``connection`` (SQLAlchemy URL) and ``store_path`` default to
    ``[image_service] connection`` and ``store_path``. Makes the table and
    the store directory if missing.
    """
    engine = db_api.get_engine(connection or CONF.image_service.connection)
    models.create_tables(engine)
    file_store = store.FileStore(store_path or CONF.image_service.store_path,
                                 CONF.image_service.hashing_algorithm)
    _kill_interrupted_uploads(engine, file_store)

    app = Flask(__name__)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.register_error_handler(Exception, _error_response)
    _add_routes(app, ImagesController(engine, file_store),
                ImageDataController(engine, file_store))
    # Keystone's auth_token in front when [api] auth_strategy is keystone
    # (Glance's paste pipeline has it too); the versions answer without.
    app.wsgi_app = auth.with_authentication(app.wsgi_app, PUBLIC_PATHS)
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
    app.add_url_rule("/v2/schemas/image", "image_schema",
                     lambda: jsonify(schemas.image_schema()), methods=["GET"])
    app.add_url_rule("/v2/schemas/images", "images_schema",
                     lambda: jsonify(schemas.images_schema()), methods=["GET"])


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
    context = auth.request_context(request.environ, request.headers, request_id)
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
        # A download: Werkzeug hands its file wrapper to the server as it
        # is, without the wrapper that runs ``call_on_close`` functions, and
        # the server closes the file once the last byte is sent. The line
        # is logged then. Wrapping the body in an iterator instead would
        # hide the file from waitress, which would then copy it in 32 KiB
        # pieces through a temporary file of its own: 0.15 s of CPU per
        # 200 MiB sent, where reading the file straight into the socket
        # takes a fraction of that.
        response.response.file = _CallsOnClose(response.response.file, log_request)
    else:
        response.call_on_close(log_request)
    return response


class _CallsOnClose:
    """A file that calls ``on_close`` (once) when it is closed, and is
    otherwise the file it wraps."""

    def __init__(self, file, on_close):
        self._file = file
        self._on_close = on_close

    def __getattr__(self, name):
        return getattr(self._file, name)

    def close(self):
        try:
            self._file.close()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()


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


# --- the API versions ------------------------------------------------------------

def versions_index():
    body = {"versions": [{
        "id": CURRENT_API_VERSION,
        "status": "CURRENT",
        "links": [{"rel": "self", "href": request.host_url + "v2/"}],
    }]}
    # Glance answers its root with 300 Multiple Choices.
    status = 300 if request.path == "/" else 200
    return jsonify(body), status
