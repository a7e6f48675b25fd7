"""Helpers every controller of the Block Storage API uses (mirrors
``cinder/api/common.py`` and the request-body part of
``cinder/api/openstack/wsgi.py``): the request's context and version,
reading a JSON body, boolean parameters, links and pagination.
"""

import json

from flask import g, request
from oslo_utils import strutils

from mininova.volume.service import exception

# Cinder's limit for a request body (osapi_max_request_body_size is 114688).
MAX_JSON_BODY_BYTES = 112 * 1024
MAX_NAME_LENGTH = 255
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def context():
    return g.context


def version():
    return g.api_version


def services():
    """The API and the view of this process (set by :func:`.app.create_app`)."""
    from flask import current_app

    return current_app.extensions["mininova-volume"]


# --- request bodies -------------------------------------------------------------------

def json_body():
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BODY_BYTES:
        raise exception.RequestTooLarge(limit=MAX_JSON_BODY_BYTES)
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        raise exception.MalformedRequestBody() from exc
    if not isinstance(body, dict):
        raise exception.MalformedRequestBody()
    return body


def entity(body, name):
    """``body[name]``, a JSON object (Cinder's ``assert_valid_body``)."""
    value = body.get(name)
    if not isinstance(value, dict):
        raise exception.Invalid(
            message=f"Missing required element '{name}' in request body.")
    return value


def string_field(values, key, max_length=MAX_NAME_LENGTH, allow_none=True):
    value = values.get(key)
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise exception.InvalidInput(
            reason=f"{key} must be a string of at most {max_length} characters.")
    return value.strip()


def metadata_field(values, key="metadata"):
    """A metadata dict: strings to strings, as Cinder's schema wants."""
    metadata = values.get(key) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= 255 and len(v) <= 255
            for k, v in metadata.items()):
        raise exception.InvalidInput(
            reason="Invalid metadata: keys and values must be strings of at most 255 "
                   "characters.")
    return metadata


def bool_param(value, name):
    """A boolean in a body or query (``true``, ``1``, ``yes``...), strictly."""
    if isinstance(value, bool):
        return value
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError as exc:
        raise exception.InvalidInput(
            reason=f"Invalid value '{value}' for {name}: it must be a boolean.") from exc


def query_bool(name, default=False):
    value = request.args.get(name)
    return default if value is None else bool_param(value, name)


# --- views ---------------------------------------------------------------------------

def timestamp(value):
    """Cinder's time format, microseconds included; None stays None."""
    return value.strftime(TIME_FORMAT) if value is not None else None


def links(collection, resource_id):
    """The ``self`` and ``bookmark`` links of a resource, as Cinder gives them."""
    base = request.host_url.rstrip("/")
    project_id = context().project_id
    return [
        {"href": f"{base}/v3/{project_id}/{collection}/{resource_id}", "rel": "self"},
        {"href": f"{base}/{project_id}/{collection}/{resource_id}", "rel": "bookmark"},
    ]


def paginate(items, collection):
    """``limit`` and ``marker`` (the last id the client saw) over ``items``;
    returns the page and the ``next`` links (empty on the last page)."""
    marker = request.args.get("marker")
    if marker is not None:
        ids = [item["id"] for item in items]
        if marker not in ids:
            raise exception.Invalid(message=f"Marker {marker} could not be found.")
        items = items[ids.index(marker) + 1:]
    limit = request.args.get("limit")
    if limit is None:
        return items, []
    if not strutils.is_int_like(limit) or int(limit) < 0:
        raise exception.Invalid(message="limit param must be an integer")
    limit = int(limit)
    page = items[:limit]
    if len(items) <= limit or not page:
        return page, []
    base = request.host_url.rstrip("/")
    href = (f"{base}/v3/{context().project_id}/{collection}?limit={limit}"
            f"&marker={page[-1]['id']}")
    return page, [{"href": href, "rel": "next"}]
