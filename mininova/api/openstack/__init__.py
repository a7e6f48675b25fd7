"""The OpenStack Compute API as a Flask application (mirrors
``nova/api/openstack/`` and the middleware of Nova's api-paste pipeline).

What happens to every request, in the order Nova's pipeline does it:

1. **request id**: a fresh ``req-<uuid>``, returned as ``x-compute-request-id``;
2. **size limit**: bodies over ``[api] max_request_body_size`` → 413;
3. **auth**: keystonemiddleware validates the token with Keystone, or the
   ``user:project`` token of noauth2 is read (``[api] auth_strategy``, see
   :mod:`mininova.api.auth`); who it is becomes the request context, made
   current so every log line carries the request id; no token → 401;
4. the resource's handler (one blueprint per resource, under ``/v2.1``);
5. **faults**: an exception becomes ``{"<name>": {"code", "message"}}`` with
   its HTTP code; an unexpected one is a 500 ``computeFault`` (and a traceback
   in the log, not in the answer);
6. **access log**: ``<ip> "GET /v2.1/servers" status: 200 len: 15 time: 0.0123456``.

Each request has a microversion (``api_version_request``), and the handlers
shape their answers by it; ``docs/api.md`` lists what each version changes.

Left out: the ``/v2.1/<project_id>/`` URL form, rate limits.
"""

import time

from flask import Flask, g, jsonify, request
from oslo_context import context as oslo_context
from oslo_log import log as logging
from werkzeug import exceptions as http_exceptions

from mininova import context as mn_context
from mininova import exception
from mininova.api import auth
from mininova.api.openstack import api_version_request, common
from mininova.conf import CONF

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("mininova.api.openstack.requestlog")

# URLs that answer without a token, as Nova's version documents do.
PUBLIC_ENDPOINTS = {"versions.root", "versions.v21"}
PUBLIC_PATHS = {"/", "/v2.1"}

def create_app():
    # console_output, lock_server and server_actions register their server
    # actions on servers' /action route.
    from mininova.api.openstack.compute import (
        aggregates,
        attach_interfaces,
        availability_zone,
        console_output,  # noqa: F401
        flavor_access,
        flavors,
        flavors_extraspecs,
        hypervisors,
        image_cache,
        images,
        instance_actions,
        keypairs,
        limits,
        lock_server,  # noqa: F401
        migrations,
        quota_classes,
        quota_sets,
        scheduler_explain,
        server_actions,  # noqa: F401
        server_external_events,
        server_groups,
        server_metadata,
        server_migrations,
        server_tags,
        server_topology,
        servers,
        services,
        versions,
        volume_attachments,
    )

    app = Flask("mininova-api")
    app.url_map.strict_slashes = False
    app.json.sort_keys = False
    app.extensions["mininova"] = common.APIServices()
    app.register_blueprint(versions.blueprint)
    for module in (servers, flavors, images, services, hypervisors, aggregates,
                   availability_zone, server_groups, flavors_extraspecs, scheduler_explain,
                   image_cache, instance_actions, server_external_events,
                   attach_interfaces, server_tags, server_topology, migrations,
                   server_migrations, volume_attachments):
        app.register_blueprint(module.blueprint, url_prefix="/v2.1")
    # The compute API resources clients call: flavor access, key pairs,
    # quotas and limits, server metadata.
    for module in (flavor_access, keypairs, limits, quota_sets, quota_classes,
                   server_metadata):
        app.register_blueprint(module.blueprint, url_prefix="/v2.1")
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(lambda _exc: mn_context.clear_current())
    app.register_error_handler(exception.MininovaException, _fault_from_exception)
    app.register_error_handler(http_exceptions.HTTPException, _fault_from_http_error)
    app.register_error_handler(Exception, _fault_from_unexpected)
    # Keystone's auth_token, when configured, checks every token before
    # Flask sees the request (Nova's paste pipeline has it in front too).
    app.wsgi_app = auth.with_authentication(app.wsgi_app, PUBLIC_PATHS)
    return app


def _start_request():
    g.started = time.monotonic()
    g.request_id = oslo_context.generate_request_id()
    length = request.content_length or 0
    if length > CONF.api.max_request_body_size:
        raise exception.RequestTooLarge()
    g.api_version = api_version_request.from_headers(request.headers)
    context = auth.request_context(request.environ, request.headers, g.request_id)
    if context is None:
        if request.endpoint in PUBLIC_ENDPOINTS:
            return
        raise exception.NotAuthenticated()
    context.update_store()
    g.context = context


def _finish_request(response):
    response.headers["x-compute-request-id"] = g.get("request_id", "")
    response.headers["x-openstack-request-id"] = g.get("request_id", "")
    # The version answered: the one asked for, or the minimum when the
    # request's own header was refused.
    response.headers.update(api_version_request.response_headers(
        api_version_request.current()))
    ACCESS_LOG.info(
        '%(REMOTE_ADDR)s "%(REQUEST_METHOD)s %(REQUEST_URI)s" status: %(status)s '
        "len: %(len)s time: %(time).7f",
        {"REMOTE_ADDR": request.remote_addr, "REQUEST_METHOD": request.method,
         "REQUEST_URI": request.full_path.rstrip("?"), "status": response.status_code,
         "len": response.calculate_content_length() or 0,
         "time": time.monotonic() - g.get("started", time.monotonic())})
    return response


def _fault_from_exception(exc):
    code = exc.code if exc.code in common.FAULT_NAMES else 500
    if code == 503:
        # Expected while a service or the broker is away; the message says which.
        LOG.warning("Service unavailable answering %s %s: %s", request.method,
                    request.path, exc)
    elif code >= 500:
        LOG.error("Unexpected error answering %s %s: %s", request.method, request.path, exc)
    return _fault(code, exc.format_message() if exc.safe or code < 500 else
                  _unexpected_message(exc))


def _fault_from_http_error(exc):
    messages = {404: "The resource could not be found.",
                405: "The method is not allowed for the requested URL."}
    return _fault(exc.code, messages.get(exc.code, exc.description))


def _fault_from_unexpected(exc):
    LOG.exception("Unexpected exception in API method")
    return _fault(500, _unexpected_message(exc))


def _unexpected_message(exc):
    # Nova points to its bug tracker; a student is better served by the log line.
    return (f"Unexpected API Error ({type(exc).__name__}). Look for request "
            f"{g.get('request_id')} in the mininova-api log.")


def _fault(code, message):
    name = common.FAULT_NAMES.get(code, "computeFault")
    return jsonify({name: {"code": code, "message": message}}), code
