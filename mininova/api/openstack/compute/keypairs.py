"""``/os-keypairs`` (mirrors ``nova/api/openstack/compute/keypairs.py``,
``views/keypairs.py`` and the ``KeypairAPI`` of ``nova/compute/api.py``).

A key pair belongs to a **user** (not a project), by name. Create it
without ``public_key`` and mininova generates one and returns its
``private_key`` in that one answer (it is never stored, so never shown
again); give a ``public_key`` and it is imported. Booting with
``key_name`` copies the public key onto the server (Nova's ``key_data``),
for the config drive to hand to the guest.

The body says ``name``, ``public_key``, ``fingerprint`` and ``user_id``
(the list only the first three; show also ``id``, ``created_at`` and the
soft-delete fields Nova still shows, always unset). Key pairs count against
the ``key_pairs`` quota (100 per user by default): counted before, and
again after the new one is stored (``mininova/quota.py``).

Microversions: 2.2 adds ``type`` (``ssh``, the default, or ``x509``, a
certificate for Windows guests) and answers create with 201 and delete
with 204 (200 and 202 before); 2.10 lets an admin act on another user's
key pairs with ``user_id`` (in the body of create, in the query
otherwise); 2.35 pages the list with ``limit`` and ``marker`` (a
``keypairs_links`` "next" link when a page is full); 2.75 refuses unknown
query parameters.

Left out: the notifications Nova sends, and the changes of microversions
after 2.79 (2.92 makes ``public_key`` required: no more generated keys).
"""

from flask import Blueprint, jsonify, request

from mininova import crypto, exception, quota
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.schemas import keypairs as schema
from mininova.db import keypairs as keypairs_db

blueprint = Blueprint("keypairs", __name__)

SSH = "ssh"
X509 = "x509"


# --- views --------------------------------------------------------------------------

def _with_type(body, key_pair):
    if api_version_request.is_supported("2.2"):
        body["type"] = key_pair["type"]
    return body


def _index_view(key_pair):
    return _with_type({"name": key_pair["name"], "public_key": key_pair["public_key"],
                       "fingerprint": key_pair["fingerprint"]}, key_pair)


def _create_view(key_pair, private_key=None):
    body = {"name": key_pair["name"], "public_key": key_pair["public_key"],
            "fingerprint": key_pair["fingerprint"], "user_id": key_pair["user_id"]}
    if private_key is not None:
        body["private_key"] = private_key
    return _with_type(body, key_pair)


def _show_view(key_pair):
    body = _create_view(key_pair)
    body.update({"id": key_pair["id"], "created_at": _timestamp(key_pair["created_at"]),
                 "updated_at": None, "deleted": False, "deleted_at": None})
    return body


def _timestamp(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


# --- whose key pairs --------------------------------------------------------------------

def _user_id(context, asked=None):
    """The user the request is about: from 2.10 an admin may name another."""
    if asked is not None and api_version_request.is_supported("2.10"):
        return asked
    return context.user_id


def _queried_user(context):
    return _user_id(context, request.args.get("user_id"))


def _query_params(*extra):
    allowed = ("user_id", *extra) if api_version_request.is_supported("2.10") else extra
    common.check_query_params(allowed)


# --- the handlers -------------------------------------------------------------------------

@blueprint.get("/os-keypairs")
def index():
    context = common.context()
    paged = api_version_request.is_supported("2.35")
    _query_params(*(("limit", "marker") if paged else ()))
    user_id = _queried_user(context)
    context.can("os_compute_api:os-keypairs:index", {"user_id": user_id})
    limit, marker = common.pagination_params() if paged else (None, None)
    try:
        key_pairs = keypairs_db.key_pair_get_all_by_user(context, user_id, limit=limit,
                                                         marker=marker)
    except exception.MarkerNotFound as exc:
        raise exception.Invalid(exc.format_message()) from exc
    body = {"keypairs": [{"keypair": _index_view(key_pair)} for key_pair in key_pairs]}
    links = common.collection_links(key_pairs, "os-keypairs", "name") if paged else []
    if links:
        body["keypairs_links"] = links
    return jsonify(body)


@blueprint.get("/os-keypairs/<name>")
def show(name):
    context = common.context()
    _query_params()
    user_id = _queried_user(context)
    context.can("os_compute_api:os-keypairs:show", {"user_id": user_id})
    return jsonify({"keypair": _show_view(keypairs_db.key_pair_get(context, user_id, name))})


@blueprint.delete("/os-keypairs/<name>")
def delete(name):
    context = common.context()
    _query_params()
    user_id = _queried_user(context)
    context.can("os_compute_api:os-keypairs:delete", {"user_id": user_id})
    keypairs_db.key_pair_destroy(context, user_id, name)
    return "", 204 if api_version_request.is_supported("2.2") else 202


@blueprint.post("/os-keypairs")
def create():
    context = common.context()
    body = validation.validated_body(_create_schema())["keypair"]
    user_id = _user_id(context, body.get("user_id"))
    context.can("os_compute_api:os-keypairs:create", {"user_id": user_id})
    key_type = body.get("type", SSH)
    if "public_key" in body:
        key_pair, private_key = _import(context, user_id, body["name"], body["public_key"],
                                        key_type), None
    else:
        key_pair, private_key = _generate(context, user_id, body["name"], key_type)
    answer = jsonify({"keypair": _create_view(key_pair, private_key)})
    return answer, 201 if api_version_request.is_supported("2.2") else 200


def _create_schema():
    if api_version_request.is_supported("2.10"):
        return schema.create_v210
    if api_version_request.is_supported("2.2"):
        return schema.create_v22
    return schema.create


def _import(context, user_id, name, public_key, key_type):
    quota.check_key_pairs(context, user_id)
    fingerprint = (crypto.generate_x509_fingerprint(public_key) if key_type == X509
                   else crypto.generate_fingerprint(public_key))
    return _store(context, user_id, name, public_key, fingerprint, key_type)


def _generate(context, user_id, name, key_type):
    quota.check_key_pairs(context, user_id)
    if key_type == X509:
        private_key, public_key, fingerprint = crypto.generate_winrm_x509_cert(user_id)
    else:
        private_key, public_key, fingerprint = crypto.generate_key_pair()
    return _store(context, user_id, name, public_key, fingerprint, key_type), private_key


def _store(context, user_id, name, public_key, fingerprint, key_type):
    """Write the key pair, then count again (two racing creates may both
    have passed the first count) and take it back if over quota."""
    key_pair = keypairs_db.key_pair_create(context, {
        "user_id": user_id, "name": name, "public_key": public_key,
        "fingerprint": fingerprint, "type": key_type})
    quota.recheck(lambda: quota.check_key_pairs(context, user_id, delta=0),
                  lambda: keypairs_db.key_pair_destroy(context, user_id, name))
    return key_pair
