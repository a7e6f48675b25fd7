"""mininova-volume's HTTP API: the subset of Cinder's Block Storage API v3
that clients call, as a Flask application. This module makes the
application and its routes (Cinder's ``cinder/api/v3/router.py``), does
what every request needs (identity, request id, microversion, the request
log, fault bodies: Cinder's ``cinder/api/openstack/wsgi.py``) and answers
the version documents (``cinder/api/versions.py``). The work of the routes
is in

- :mod:`.volumes` and :mod:`.volume_actions`: volumes;
- :mod:`.snapshots`: snapshots;
- :mod:`.types`: volume types;
- :mod:`.attachments`: the attachments API;
- :mod:`.quotas`: quotas and limits;

which call :class:`.api.API` (checks, policy, database), which hands the
work on the storage to :class:`.manager.VolumeManager`.

Routes (bodies have Cinder's JSON shapes)::

    GET    /                              the versions (300), no token needed
    GET    /v3                            the same (200): min_version 3.0, version 3.48
    POST   /v3/{project_id}/volumes       create: 202, status creating
    GET    /v3/{project_id}/volumes       list (id, name, links); /detail: every field
    GET    /v3/{project_id}/volumes/{id}  show
    PUT    /v3/{project_id}/volumes/{id}  rename, describe, metadata
    DELETE /v3/{project_id}/volumes/{id}  202 (400 when attached or snapshotted)
    POST   /v3/{project_id}/volumes/{id}/action    os-extend, os-reset_status, ...
    POST|GET /v3/{project_id}/snapshots[/detail]    GET|DELETE .../snapshots/{id}
    GET    /v3/{project_id}/types[/default|/{id}]   POST, DELETE (admin)
    POST|GET /v3/{project_id}/attachments[/detail]  GET|PUT|DELETE .../attachments/{id}
    POST   /v3/{project_id}/attachments/{id}/action  os-complete
    GET|PUT|DELETE /v3/{project_id}/os-quota-sets/{project}[/defaults]  quotas
    GET    /v3/{project_id}/limits        absolute limits and usage

``{project_id}`` must be the caller's own project (else 400 ``Malformed
request url``, as Cinder answers even to the admin, who reaches other
projects' volumes through ``all_tenants`` and their ids).

Who is asking: keystonemiddleware in front with ``[api] auth_strategy =
keystone``, else noauth2's ``X-Auth-Token: <user>:<project>``
(:mod:`mininova.api.auth`); no identity, 401. Errors are Cinder's fault
bodies, named after the code: ``{"badRequest": {"code": 400, "message":
"Invalid volume: ..."}}``, ``itemNotFound``, ``forbidden``... Every answer
carries ``OpenStack-API-Version: volume 3.x``, ``x-openstack-request-id``
and ``x-compute-request-id`` (Cinder's name for it too). An incoming
``X-OpenStack-Request-ID: req-<uuid>`` (Nova's compute sends one) becomes
this request's id, so that one attach reads with one id in the compute's
log and in this one.

Each request logs Cinder's two lines, ``POST http://.../attachments`` and
``http://.../attachments returned with HTTP 200``, and the access line
the WSGI servers of OpenStack write.

Left out: the ``/v2`` API and URLs without a project id (3.67), the
``X-OpenStack-Nova-API-Version``-like legacy headers, rate limits.
"""

import re
import time

from flask import Flask, g, jsonify, request
from oslo_context import context as oslo_context
from oslo_log import log as logging
from werkzeug.exceptions import HTTPException

from mininova import context as mn_context
from mininova import exception as mn_exception
from mininova.api import auth
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.volume.service import exception, models, quotas, volume_types
from mininova.volume.service import microversions as mv
from mininova.volume.service.api import API
from mininova.volume.service.attachments import AttachmentController
from mininova.volume.service.manager import VolumeManager
from mininova.volume.service.snapshots import SnapshotController
from mininova.volume.service.types import VolumeTypeController
from mininova.volume.service.volume_actions import VolumeActionsController
from mininova.volume.service.volumes import VolumeController

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("mininova.volume.service.requestlog")

ACCESS_LOG_FORMAT = (
    '%(REMOTE_ADDR)s "%(REQUEST_METHOD)s %(REQUEST_URI)s" status: %(status)s '
    "len: %(len)s time: %(time).7f"
)
REQUEST_ID_PATTERN = re.compile(
    r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PUBLIC_ENDPOINTS = frozenset({"versions_root", "versions_v3"})
PUBLIC_PATHS = frozenset({"/", "/v3"})

FAULT_NAMES = {
    400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
    405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
    501: "notImplemented", 503: "serviceUnavailable",
}
UNEXPECTED_MESSAGE = ("The server has either erred or is incapable of performing the "
                      "requested operation.")


class Services:
    """What the controllers reach through ``current_app``: the database
    engine, the internal API and the manager of this process."""

    def __init__(self, engine, api, manager):
        self.engine = engine
        self.api = api
        self.manager = manager


# --- the application ---------------------------------------------------------------------

def create_app(connection=None, manager=None):
    """The mininova-volume WSGI application, its manager started.

    ``connection`` defaults to ``[volume] connection``. Makes the tables
    and the default volume type if missing, then runs the manager's
    start-up recovery (:meth:`VolumeManager.init_host`) before the first
    request can arrive. ``app.extensions["mininova-volume"].manager.stop()``
    waits for the work in progress.
    """
    engine = db_api.get_engine(connection or CONF.volume.connection)
    models.create_tables(engine)
    volume_types.ensure_default_type(engine)
    manager = manager or VolumeManager(engine)
    manager.init_host()

    app = Flask("mininova-volume")
    app.url_map.strict_slashes = False
    app.json.sort_keys = False
    app.extensions["mininova-volume"] = Services(engine, API(engine, manager), manager)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(lambda _exc: mn_context.clear_current())
    app.register_error_handler(Exception, _fault)
    _add_routes(app)
    # Keystone's auth_token in front, as in Cinder's paste pipeline; the
    # version documents answer without a token.
    app.wsgi_app = auth.with_authentication(app.wsgi_app, PUBLIC_PATHS)
    return app


def _add_routes(app):
    app.add_url_rule("/", "versions_root", versions_root, methods=["GET"])
    app.add_url_rule("/v3", "versions_v3", versions_v3, methods=["GET"])
    for method, path, view in _routes():
        # "/detail" is declared before "/<id>", so it is not taken for an id.
        rule = "/v3/<project_id>" + path
        app.add_url_rule(rule, f"{method} {rule}", view, methods=[method])


def _routes():
    volumes, actions = VolumeController(), VolumeActionsController()
    snapshots, types, attachments = (SnapshotController(), VolumeTypeController(),
                                     AttachmentController())
    quota_sets = quotas.QuotaSetsController()
    return [
        ("POST", "/volumes", volumes.create),
        ("GET", "/volumes", volumes.index),
        ("GET", "/volumes/detail", volumes.detail),
        ("GET", "/volumes/<volume_id>", volumes.show),
        ("PUT", "/volumes/<volume_id>", volumes.update),
        ("DELETE", "/volumes/<volume_id>", volumes.delete),
        ("POST", "/volumes/<volume_id>/action", actions.action),
        ("POST", "/snapshots", snapshots.create),
        ("GET", "/snapshots", snapshots.index),
        ("GET", "/snapshots/detail", snapshots.detail),
        ("GET", "/snapshots/<snapshot_id>", snapshots.show),
        ("DELETE", "/snapshots/<snapshot_id>", snapshots.delete),
        ("GET", "/types", types.index),
        ("POST", "/types", types.create),
        ("GET", "/types/<type_id>", types.show),
        ("DELETE", "/types/<type_id>", types.delete),
        ("POST", "/attachments", attachments.create),
        ("GET", "/attachments", attachments.index),
        ("GET", "/attachments/detail", attachments.detail),
        ("GET", "/attachments/<attachment_id>", attachments.show),
        ("PUT", "/attachments/<attachment_id>", attachments.update),
        ("DELETE", "/attachments/<attachment_id>", attachments.delete),
        ("POST", "/attachments/<attachment_id>/action", attachments.action),
        ("GET", "/os-quota-sets/<target_id>", quota_sets.show),
        ("GET", "/os-quota-sets/<target_id>/defaults", quota_sets.defaults),
        ("PUT", "/os-quota-sets/<target_id>", quota_sets.update),
        ("DELETE", "/os-quota-sets/<target_id>", quota_sets.delete),
        ("GET", "/limits", quotas.limits_index),
    ]


# --- per request: identity, version, request id, logs ------------------------------------

def _start_request():
    g.started = time.monotonic()
    request_id = _incoming_request_id() or oslo_context.generate_request_id()
    g.request_id = request_id
    g.api_version = mv.from_headers({}) if request.endpoint in PUBLIC_ENDPOINTS else None
    context = auth.request_context(request.environ, request.headers, request_id)
    if context is None:
        # An anonymous context still gives the log lines their request id.
        mn_context.RequestContext(request_id=request_id).update_store()
        if request.endpoint in PUBLIC_ENDPOINTS:
            return
        raise mn_exception.NotAuthenticated()
    context.update_store()
    g.context = context
    LOG.info("%(method)s %(url)s", {"method": request.method, "url": request.url})
    g.api_version = mv.from_headers(request.headers)
    project_id = (request.view_args or {}).get("project_id")
    if project_id is not None and project_id != context.project_id:
        raise exception.Invalid(message="Malformed request url")


def _incoming_request_id():
    request_id = request.headers.get("X-OpenStack-Request-ID", "")
    return request_id if REQUEST_ID_PATTERN.match(request_id) else None


def _finish_request(response):
    request_id = g.get("request_id", "")
    response.headers["x-openstack-request-id"] = request_id
    response.headers["x-compute-request-id"] = request_id
    if g.get("api_version") is not None:
        response.headers.update(mv.response_headers(g.api_version))
    if g.get("context") is not None:
        LOG.info("%(url)s returned with HTTP %(status)s",
                 {"url": request.url, "status": response.status_code})
    query = request.query_string.decode("latin-1")
    ACCESS_LOG.info(ACCESS_LOG_FORMAT, {
        "REMOTE_ADDR": request.remote_addr, "REQUEST_METHOD": request.method,
        "REQUEST_URI": f"{request.path}?{query}" if query else request.path,
        "status": response.status_code, "len": response.calculate_content_length() or 0,
        "time": time.monotonic() - g.get("started", time.monotonic())})
    return response


def _fault(error):
    """Cinder's fault body for any error raised while answering."""
    if isinstance(error, mn_exception.MininovaException) and (error.safe or error.code < 500):
        code, message = error.code, error.format_message()
    elif isinstance(error, HTTPException):
        code = error.code
        message = {404: "The resource could not be found."}.get(code, error.description)
    else:
        LOG.exception("Unexpected error handling %s %s", request.method, request.path)
        code, message = 500, UNEXPECTED_MESSAGE
    if code >= 500:
        LOG.error("%s %s failed: %s", request.method, request.path, message)
    name = FAULT_NAMES.get(code, "computeFault")
    # Cinder tells a client over quota it may retry at once (after a delete).
    headers = {"Retry-After": "0"} if isinstance(error, exception.QuotaError) else {}
    return jsonify({name: {"code": code, "message": message}}), code, headers


# --- the versions -------------------------------------------------------------------------

def versions_root():
    return jsonify(_versions()), 300


def versions_v3():
    return jsonify(_versions())


def _versions():
    """Cinder's version document: ``version`` is the highest microversion,
    which clients (keystoneauth, openstacksdk) read to choose theirs."""
    base = request.host_url.rstrip("/")
    return {"versions": [{
        "id": "v3.0",
        "status": "CURRENT",
        "version": mv.MAX_VERSION,
        "min_version": mv.MIN_VERSION,
        "updated": mv.UPDATED,
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": f"{base}/v3/"},
        ],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.volume+json;version=3"}],
    }]}
