"""The lifecycle server actions on ``POST /servers/{id}/action`` (mirrors
the action handlers of ``nova/api/openstack/compute/servers.py``, including
``_action_trigger_crash_dump``, and of ``pause_server.py``,
``suspend_server.py``, ``migrate_server.py``).

Each one validates its body, hands the instance to the compute API, which
checks its lock (409 for a non-admin on a locked server) and its state (409
when the action does not fit), and answers 202: the work itself runs
later, on the compute host.

What the microversions changed here: ``trigger_crash_dump`` exists from
2.17; createImage's metadata counts against the metadata quota until 2.39,
and createImage answers ``{"image_id"}`` instead of a ``Location`` from
2.45; ``migrate`` takes a ``host`` from 2.56 (admins); rebuild takes a
``description`` (2.19), a ``key_name`` (2.54) and ``user_data`` (2.57), and
answers the shorter body until 2.75 (with ``key_name`` from 2.54,
``user_data`` from 2.57, ``server_groups`` from 2.71).

Left out: rescue, shelve, live migration (``os-migrateLive``), evacuate,
the admin password.
"""

import contextlib

from flask import jsonify

from mininova import exception
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute import servers
from mininova.api.openstack.compute.schemas import servers as schema
from mininova.api.openstack.compute.views import servers as views
from mininova.conf import CONF


def _accepted():
    return "", 202


# The actions whose body carries nothing: the body's key → the compute API
# method (and body schema) of the same name.
BODILESS_ACTIONS = {
    "os-stop": ("stop", "os_compute_api:servers:stop"),
    "os-start": ("start", "os_compute_api:servers:start"),
    "pause": ("pause", "os_compute_api:os-pause-server:pause"),
    "unpause": ("unpause", "os_compute_api:os-pause-server:unpause"),
    "suspend": ("suspend", "os_compute_api:os-suspend-server:suspend"),
    "resume": ("resume", "os_compute_api:os-suspend-server:resume"),
}


def _register_bodiless(action, method_name, rule):
    def handler(context, instance, body):
        getattr(common.compute_api(), method_name)(context, instance)
        return _accepted()
    servers.register_action(action, getattr(schema, method_name), rule)(handler)


for _action, (_method_name, _rule) in BODILESS_ACTIONS.items():
    _register_bodiless(_action, _method_name, _rule)


@servers.register_action("reboot", schema.reboot,
                         "os_compute_api:servers:reboot")
def reboot(context, instance, body):
    common.compute_api().reboot(context, instance, body["reboot"]["type"].upper())
    return _accepted()


@servers.register_action("resize", schema.resize,
                         "os_compute_api:servers:resize")
def resize(context, instance, body):
    common.compute_api().resize(context, instance, str(body["resize"]["flavorRef"]))
    return _accepted()


def _migrate_rule(body):
    """Naming the destination is a rule of its own (admins, 2.56)."""
    if (body["migrate"] or {}).get("host"):
        return "os_compute_api:os-migrate-server:migrate:host"
    return "os_compute_api:os-migrate-server:migrate"


@servers.register_action("migrate", schema.migrate, _migrate_rule)
def migrate(context, instance, body):
    """Cold migration: the same flavor on another host (admin only in Nova)."""
    host = (body["migrate"] or {}).get("host") if api_version_request.is_supported(
        "2.56") else None
    common.compute_api().resize(context, instance, flavor_id=None, host_name=host)
    return _accepted()


@servers.register_action("trigger_crash_dump", schema.trigger_crash_dump,
                         "os_compute_api:servers:trigger_crash_dump")
def trigger_crash_dump(context, instance, body):
    common.compute_api().trigger_crash_dump(context, instance)
    return _accepted()


@servers.register_action("confirmResize", schema.confirm_resize,
                         "os_compute_api:servers:confirm_resize")
def confirm_resize(context, instance, body):
    with _resize_to_settle():
        common.compute_api().confirm_resize(context, instance)
    return "", 204


@servers.register_action("revertResize", schema.revert_resize,
                         "os_compute_api:servers:revert_resize")
def revert_resize(context, instance, body):
    with _resize_to_settle():
        common.compute_api().revert_resize(context, instance)
    return _accepted()


@contextlib.contextmanager
def _resize_to_settle():
    """No finished migration to confirm or revert (one was confirmed a
    moment ago, or none ever finished): Nova's 400."""
    try:
        yield
    except exception.MigrationNotFoundByStatus as exc:
        raise exception.Invalid("Instance has not been resized.") from exc


@servers.register_action("createImage", schema.create_image,
                         "os_compute_api:servers:create_image")
def create_image(context, instance, body):
    """202 with the new image's URL in ``Location`` (no body), or from 2.45
    with ``{"image_id"}`` (and no Location)."""
    metadata = body["createImage"].get("metadata") or {}
    allowed = CONF.quota.metadata_items
    if not api_version_request.is_supported("2.39") and 0 <= allowed < len(metadata):
        # Until 2.39 the image's properties counted against the metadata
        # quota; from 2.39 that is the image service's business.
        raise exception.Forbidden("Image metadata limit exceeded")
    image = common.compute_api().snapshot(context, instance, body["createImage"]["name"],
                                       body["createImage"].get("metadata"))
    if api_version_request.is_supported("2.45"):
        return jsonify({"image_id": image["id"]}), 202
    response = jsonify({})
    response.status_code = 202
    # Nova points at the image in Glance; ours at its page in this API,
    # which shows the same image (status SAVING until the upload ends).
    response.headers["Location"] = common.links("images", image["id"])[0]["href"]
    return response


@servers.register_action("rebuild", schema.rebuild,
                         "os_compute_api:servers:rebuild")
def rebuild(context, instance, body):
    request = body["rebuild"]
    instance = common.compute_api().rebuild(context, instance, request["imageRef"],
                                         name=request.get("name"),
                                         metadata=request.get("metadata"),
                                         **_rebuild_changes(request))
    server = views.show(context, instance, full=api_version_request.is_supported("2.75"),
                        show_server_groups=api_version_request.is_supported("2.71"),
                        show_key_name=api_version_request.is_supported("2.54"),
                        show_user_data=False)
    # As create, no password is set in the guest; Nova's shape has one.
    server["adminPass"] = ""
    if api_version_request.is_supported("2.57"):
        server["user_data"] = instance["user_data"]
    return jsonify({"server": server}), 202


def _rebuild_changes(request):
    """The columns a rebuild sets besides the image, name and metadata (the
    schema of the request's version lets only its own fields through)."""
    changes = {}
    for field, column in (("description", "display_description"),
                          ("key_name", "key_name"), ("user_data", "user_data")):
        if field in request:
            changes[column] = request[field]
    return changes
