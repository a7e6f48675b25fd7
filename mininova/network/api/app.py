"""mininova-network's HTTP API: the Networking API v2.0 subset that clients
(python-openstackclient, openstacksdk, Nova) call, as a Flask application
(mirrors ``neutron/api/v2/router.py``, ``neutron/api/versions.py``,
``neutron/api/extensions.py`` and the fault handling of
``neutron/api/api_common.py``).

Routes (bodies have Neutron's JSON shapes)::

    GET  /                              the API versions (no token needed)
    GET  /v2.0                          the resources of v2.0 (no token needed)
    GET  /v2.0/extensions[/<alias>]     what this server supports
    GET|POST       /v2.0/networks       list (filters) | create: 201
    GET|PUT|DELETE /v2.0/networks/<id>  show | update | delete: 204
    ...            /v2.0/subnets[/<id>] the same
    ...            /v2.0/ports[/<id>]   the same
    GET  /v2.0/security-groups[/<id>]       listed (the project's ``default``
    GET  /v2.0/security-group-rules[/<id>]  is made on first sight); rules
                                            are NOT enforced
    GET|PUT|DELETE /v2.0/quotas[/<project>[/default|/details]]  quotas
                                            (:mod:`mininova.network.quota`)

What every request gets, as in Neutron:

- **identity**: keystonemiddleware's auth_token in front with ``[api]
  auth_strategy = keystone``, or the ``user:project`` token of noauth2
  (:mod:`mininova.api.auth`, shared with mininova-api); no identity: 401;
- **a request id**, ``req-<uuid>``, in ``x-openstack-request-id`` and on
  every log line of the request. A caller's ``X-OpenStack-Request-ID``
  (Nova's compute sends its own) is taken as this request's id, so one
  boot's id can be followed into this service's log (Neutron keeps it as
  the *global* request id beside a fresh local one);
- **errors** as ``{"NeutronError": {"type": "<exception class>", "message":
  "...", "detail": ""}}``;
- an access log line per request.

Left out: XML, the ``.json`` URL suffix, bulk creates, pagination links,
tags, routers, floating IPs, agents, availability zones.
"""

import re
import time

from flask import Flask, g, jsonify, request
from oslo_context import context as oslo_context
from oslo_log import log as logging
from werkzeug.exceptions import HTTPException

from mininova import context as mn_context
from mininova.api import auth
from mininova.network import exceptions, quota
from mininova.network.api import attributes, base

LOG = logging.getLogger(__name__)

ACCESS_LOG_FORMAT = ('%(REMOTE_ADDR)s "%(REQUEST_METHOD)s %(REQUEST_URI)s" '
                     "status: %(status)s len: %(len)s time: %(time).7f")
REQUEST_ID_PATTERN = re.compile(
    r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PUBLIC_PATHS = frozenset({"/", "/v2.0"})

# (alias, name, description): the extensions clients probe for. Only what
# this server really does: Nova, for one, changes what it sends when it
# sees "binding" or "dns-integration".
EXTENSIONS = [
    ("binding", "Port Binding",
     "binding:host_id, binding:vif_type, binding:vif_details, binding:profile and "
     "binding:vnic_type on ports; bound ports are linux bridge VIFs"),
    ("security-group", "security-group",
     "Security groups and their rules, listed. mininova does NOT enforce them"),
    ("external-net", "Neutron external network", "router:external on networks"),
    ("net-mtu", "Network MTU", "mtu on networks"),
    ("dns-integration", "DNS Integration",
     "dns_name and dns_assignment on ports: the name dnsmasq gives the port"),
    ("project-id", "project_id field enabled", "project_id beside tenant_id"),
    ("standard-attr-description", "standard-attr-description",
     "description on every resource"),
    ("standard-attr-timestamp", "Resource timestamps", "created_at and updated_at"),
    ("standard-attr-revisions", "Resource revision numbers", "revision_number"),
    ("quotas", "Quota management support",
     "Limits per project on networks, subnets, ports and security groups"),
    ("quota_details", "Quota details management support",
     "The used and reserved counts beside each limit"),
    ("filter-validation", "Filter parameters validation",
     "a list filter on an unknown attribute is a 400"),
]
EXTENSIONS_UPDATED = "2024-01-01T00:00:00-00:00"

# (resource, collection, attributes, not-found exception, its id argument)
RESOURCES = [
    ("network", "networks", attributes.NETWORKS, exceptions.NetworkNotFound, "net_id"),
    ("subnet", "subnets", attributes.SUBNETS, exceptions.SubnetNotFound, "subnet_id"),
    ("port", "ports", attributes.PORTS, exceptions.PortNotFound, "port_id"),
    ("security_group", "security-groups", attributes.SECURITY_GROUPS,
     exceptions.SecurityGroupNotFound, "id"),
    ("security_group_rule", "security-group-rules", attributes.SECURITY_GROUP_RULES,
     exceptions.SecurityGroupRuleNotFound, "id"),
]
READ_ONLY = {"security-groups", "security-group-rules"}


def create_app(plugin):
    """The WSGI application in front of ``plugin`` (an Ml2Plugin)."""
    app = Flask("mininova-network")
    app.url_map.strict_slashes = False
    app.json.sort_keys = False
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(lambda _exc: mn_context.clear_current())
    app.register_error_handler(Exception, _error_response)
    app.add_url_rule("/", "versions", versions, methods=["GET"])
    app.add_url_rule("/v2.0", "v2", v2_resources, methods=["GET"])
    app.add_url_rule("/v2.0/extensions", "extensions", list_extensions, methods=["GET"])
    app.add_url_rule("/v2.0/extensions/<alias>", "extension", show_extension, methods=["GET"])
    for resource, collection, attrs, not_found, id_key in RESOURCES:
        controller = base.Controller(plugin, resource, collection, attrs, not_found, id_key)
        _add_resource_routes(app, controller, plugin, read_only=collection in READ_ONLY)
    quota.add_routes(app, plugin.engine)
    # Keystone's auth_token in front (Neutron's paste pipeline has it too);
    # the version documents answer without a token.
    app.wsgi_app = auth.with_authentication(app.wsgi_app, PUBLIC_PATHS)
    return app


def _add_resource_routes(app, controller, plugin, read_only):
    collection = controller.collection
    needs_default_group = collection.startswith("security-group")

    def index():
        if needs_default_group:
            _ensure_default_security_group(plugin)
        return jsonify(controller.index(g.context, request.args))

    def show(resource_id):
        if needs_default_group:
            _ensure_default_security_group(plugin)
        return jsonify(controller.show(g.context, resource_id, request.args))

    def create():
        return jsonify(controller.create(g.context, _json_body())), 201

    def update(resource_id):
        return jsonify(controller.update(g.context, resource_id, _json_body()))

    def delete(resource_id):
        controller.delete(g.context, resource_id)
        return "", 204

    url = f"/v2.0/{collection}"
    app.add_url_rule(url, f"{collection}.index", index, methods=["GET"])
    app.add_url_rule(f"{url}/<resource_id>", f"{collection}.show", show, methods=["GET"])
    if not read_only:
        app.add_url_rule(url, f"{collection}.create", create, methods=["POST"])
        app.add_url_rule(f"{url}/<resource_id>", f"{collection}.update", update,
                         methods=["PUT"])
        app.add_url_rule(f"{url}/<resource_id>", f"{collection}.delete", delete,
                         methods=["DELETE"])


def _ensure_default_security_group(plugin):
    # Neutron makes a project's "default" group the first time the project
    # looks at its groups (or makes a port).
    if g.context.project_id:
        plugin.ensure_default_security_group(g.context.project_id)


def _json_body():
    # Parsed whatever the Content-Type says (curl -d sends a form type).
    body = request.get_json(force=True, silent=True)
    if body is None and request.get_data():
        raise exceptions.HTTPBadRequest("Malformed request body")
    return body


# --- per request: identity, request id, access log --------------------------------

def _start_request():
    g.started = time.monotonic()
    incoming = request.headers.get("X-OpenStack-Request-ID", "")
    request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else \
        oslo_context.generate_request_id()
    g.request_id = request_id
    context = auth.request_context(request.environ, request.headers, request_id)
    if context is None:
        if (request.path.rstrip("/") or "/") in PUBLIC_PATHS:
            return
        raise exceptions.HTTPUnauthorized()
    context.update_store()
    g.context = context


def _finish_request(response):
    response.headers["x-openstack-request-id"] = g.get("request_id", "")
    query = request.query_string.decode("latin-1")
    LOG.info(ACCESS_LOG_FORMAT, {
        "REMOTE_ADDR": request.remote_addr, "REQUEST_METHOD": request.method,
        "REQUEST_URI": f"{request.path}?{query}" if query else request.path,
        "status": response.status_code, "len": response.calculate_content_length() or 0,
        "time": time.monotonic() - g.get("started", time.monotonic())})
    return response


def _error_response(error):
    """Neutron's error body. The type is the exception's class name; for
    what Flask itself refuses (an unknown URL, a method the URL has not),
    the name of the webob exception Neutron would raise."""
    if isinstance(error, exceptions.NeutronException):
        code, kind, message = error.code, type(error).__name__, str(error)
    elif isinstance(error, HTTPException):
        code = error.code
        kind = {404: "HTTPNotFound", 405: "HTTPMethodNotAllowed"}.get(code, "HTTPBadRequest")
        message = {404: "The resource could not be found.",
                   405: "The method is not allowed for the requested URL."
                   }.get(code, error.description)
    else:
        LOG.exception("%s failed", request.path)
        code, kind = 500, "HTTPInternalServerError"
        message = (f"Request Failed: internal server error while processing your request "
                   f"({type(error).__name__}; see request {g.get('request_id')} in the "
                   "mininova-network log).")
    if code >= 500:
        LOG.error("%s %s: %s", request.method, request.path, message)
    elif code != 404:
        LOG.info("%s %s refused: %s %s", request.method, request.path, kind, message)
    return jsonify({"NeutronError": {"type": kind, "message": message, "detail": ""}}), code


# --- versions and extensions --------------------------------------------------------

def versions():
    return jsonify({"versions": [{
        "id": "v2.0", "status": "CURRENT",
        "links": [{"href": request.host_url + "v2.0/", "rel": "self"}]}]})


def v2_resources():
    return jsonify({"resources": [
        {"name": resource, "collection": collection,
         "links": [{"href": f"{request.host_url}v2.0/{collection}", "rel": "self"}]}
        for resource, collection, *_ in RESOURCES]})


def _extension(alias, name, description):
    return {"alias": alias, "name": name, "description": description,
            "updated": EXTENSIONS_UPDATED, "links": []}


def list_extensions():
    return jsonify({"extensions": [_extension(*ext) for ext in EXTENSIONS]})


def show_extension(alias):
    for ext in EXTENSIONS:
        if ext[0] == alias:
            return jsonify({"extension": _extension(*ext)})
    raise exceptions.ExtensionNotFound(alias=alias)
