"""The metadata API: what a guest reads at ``http://169.254.169.254/``
(mirrors ``nova/api/metadata/handler.py``, ``MetadataRequestHandler``).

mininova-api serves it on port 8775 beside the compute API when
``enabled_apis`` has ``metadata`` (Nova's nova-api does the same; Nova
can also run it alone as nova-api-metadata). Guests never reach port 8775
themselves: their request for 169.254.169.254 is taken by the metadata
proxy in their network's ``qdhcp-`` namespace and passed on by the network
service's metadata agent (docs/networking.md, "The metadata proxy").

Which instance is asking, two ways as in Nova:

* ``[neutron] service_metadata_proxy = True`` (what the quickstart sets):
  the metadata agent found the port that holds the guest's address and
  names its server in ``X-Instance-ID`` and its project in
  ``X-Tenant-ID``, with ``X-Instance-ID-Signature``, the HMAC-SHA256 of
  the instance id keyed with ``[neutron] metadata_proxy_shared_secret``.
  A missing header is a 400, a wrong signature a 403 (someone who does not
  know the secret must not read another guest's keys and user data), an
  instance not found or of another project a 404.
* off (Nova's default): the request's own source address is looked up in
  the network service (the port holding it, its server). Only useful
  where guests can reach this port directly.

The answer is the instance's file at that path (``InstanceMetadata.lookup``:
``/openstack``, ``/openstack/latest``, ``/openstack/latest/meta_data.json``,
...), the same bytes as on its config drive; any other path is a 404.
Every request is logged as the compute API's are:
``<ip> "GET /openstack/latest/meta_data.json" status: 200 len: 1227 time: 0.0051234``.

Left out: the EC2 tree and ``/``'s list of its versions, the cache of
instances (``[api] metadata_cache_expiration``: every request reads the
instance, so a change shows at once), the load-balancer variant
(``X-Metadata-Provider``), vendordata providers, the password POST.
"""

import hashlib
import hmac
import time

from flask import Flask, Response, g, request
from oslo_log import log as logging

from mininova import context as mn_context
from mininova import exception
from mininova.api.metadata import base
from mininova.conf import CONF
from mininova.db import api as db
from mininova.network import neutron

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("mininova.api.metadata.requestlog")

UNKNOWN_ERROR = "An unknown error has occurred. Please try your request again."


class MetadataError(Exception):
    """An answer other than the file: its status and its explanation."""

    def __init__(self, status, explanation=""):
        super().__init__(explanation)
        self.status = status
        self.explanation = explanation


def create_app():
    app = Flask("mininova-metadata")
    app.add_url_rule("/", "metadata", _serve, defaults={"path": ""}, methods=["GET", "HEAD"])
    app.add_url_rule("/<path:path>", "metadata", _serve, methods=["GET", "HEAD"])
    app.before_request(_start_request)
    app.after_request(_log_request)
    app.teardown_request(lambda _exc: mn_context.clear_current())
    return app


def _start_request():
    g.started = time.monotonic()
    # The metadata API has no user: it reads as the admin, and the log
    # lines of this request carry the context's request id.
    g.context = mn_context.get_admin_context()
    g.context.update_store()


def _serve(path):
    try:
        metadata = _metadata_of_requester()
        if metadata is None:
            raise MetadataError(404)
        try:
            body, content_type = metadata.lookup(request.path)
        except base.InvalidMetadataPath:
            raise MetadataError(404) from None
    except MetadataError as error:
        return _error_response(error)
    return Response(body, content_type=content_type)


def _metadata_of_requester():
    if CONF.neutron.service_metadata_proxy:
        return _by_instance_id(request.headers)
    if request.headers.get("X-Instance-ID"):
        LOG.warning("X-Instance-ID present in request headers. The "
                    "'service_metadata_proxy' option must be enabled to process "
                    "this header.")
    return _by_remote_address(request.remote_addr)


# --- the instance named by the metadata proxy -------------------------------------

def _by_instance_id(headers):
    instance_id = headers.get("X-Instance-ID")
    tenant_id = headers.get("X-Tenant-ID")
    signature = headers.get("X-Instance-ID-Signature")
    remote_address = headers.get("X-Forwarded-For")
    missing = next((name for name, value in (("X-Instance-ID", instance_id),
                                             ("X-Instance-ID-Signature", signature),
                                             ("X-Tenant-ID", tenant_id)) if value is None),
                   None)
    if missing:
        raise MetadataError(400, f"{missing} header is missing from request.")
    for name in ("X-Instance-ID", "X-Tenant-ID"):
        if len(headers.getlist(name)) > 1:
            raise MetadataError(400, f"Multiple {name} headers found within request.")
    _validate_shared_secret(instance_id, signature, remote_address)
    instance = _instance_or_none(instance_id)
    if instance is None:
        return None
    if instance["project_id"] != tenant_id:
        LOG.warning("Tenant_id %(tenant_id)s does not match tenant_id of instance "
                    "%(instance_id)s.", {"tenant_id": tenant_id, "instance_id": instance_id})
        return None
    return base.InstanceMetadata(instance, instance.get("network_info"))


def _validate_shared_secret(instance_id, signature, remote_address):
    expected = sign(instance_id)
    # compare_digest: how long the comparison takes says nothing of the secret.
    if not signature or not hmac.compare_digest(expected, signature):
        LOG.warning("X-Instance-ID-Signature: %(signature)s does not match the expected "
                    "signature for id: %(instance_id)s. Request From: %(address)s",
                    {"signature": signature, "instance_id": instance_id,
                     "address": remote_address})
        raise MetadataError(403, "Invalid proxy request signature.")


def sign(instance_id):
    """The signature the metadata proxy sends with ``instance_id``."""
    return hmac.new(CONF.neutron.metadata_proxy_shared_secret.encode(),
                    instance_id.encode(), hashlib.sha256).hexdigest()


def _instance_or_none(instance_id):
    try:
        return db.instance_get_by_uuid(g.context, instance_id)
    except exception.InstanceNotFound:
        LOG.error("Failed to get metadata for instance id: %s", instance_id)
        return None
    except Exception:
        LOG.exception("Failed to get metadata for instance id: %s", instance_id)
        raise MetadataError(500, UNKNOWN_ERROR) from None


# --- the instance found by the request's address ------------------------------------

def _by_remote_address(address):
    context = g.context
    try:
        if not CONF.neutron.enabled:
            raise exception.FixedIpNotFoundForAddress(address=address)
        fixed_ip = neutron.API().get_fixed_ip_by_address(context, address)
        LOG.info("Fixed IP %(ip)s translates to instance UUID %(uuid)s",
                 {"ip": address, "uuid": fixed_ip["instance_uuid"]})
        instance = db.instance_get_by_uuid(context, fixed_ip["instance_uuid"])
    except exception.NotFound:
        LOG.error("Failed to get metadata for IP %s: no metadata", address)
        return None
    except Exception:
        LOG.exception("Failed to get metadata for IP %s", address)
        raise MetadataError(500, UNKNOWN_ERROR) from None
    return base.InstanceMetadata(instance, instance.get("network_info"))


# --- answers -----------------------------------------------------------------------------

REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           500: "Internal Server Error"}


def _error_response(error):
    """Plain text, as webob's error pages that Nova answers with."""
    reason = REASONS.get(error.status, "Error")
    text = f"{error.status} {reason}\n\n{error.explanation or 'The resource could not be found.'}"
    return Response(text + "\n", status=error.status, content_type=base.MIME_TYPE_TEXT_PLAIN)


def _log_request(response):
    ACCESS_LOG.info(
        '%(address)s "%(method)s %(uri)s" status: %(status)s len: %(len)s time: %(time).7f',
        {"address": request.headers.get("X-Forwarded-For") or request.remote_addr,
         "method": request.method, "uri": request.full_path.rstrip("?"),
         "status": response.status_code,
         "len": response.calculate_content_length() or 0,
         "time": time.monotonic() - g.get("started", time.monotonic())})
    return response
