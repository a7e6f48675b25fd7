"""The lifecycle server actions on ``POST /servers/{id}/action`` (mirrors
the action handlers of ``nova/api/openstack/compute/servers.py`` and of
``pause_server.py``, ``suspend_server.py``, ``migrate_server.py``).

Each one validates its body, hands the instance to the compute API, which
checks its state (409 when the action does not fit), and answers 202: the
work itself runs later, on the compute host.

Left out: rescue, shelve, lock, live migration (``os-migrateLive``), the
admin password.
"""

import contextlib

from flask import jsonify

from mininova import exception
from mininova.api.openstack import common
from mininova.api.openstack.compute import servers
from mininova.api.openstack.compute.schemas import servers as schema
from mininova.api.openstack.compute.views import servers as views


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


@servers.register_action("migrate", schema.migrate,
                         "os_compute_api:os-migrate-server:migrate")
def migrate(context, instance, body):
    """Cold migration: the same flavor on another host (admin only in Nova)."""
    common.compute_api().resize(context, instance, flavor_id=None)
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
    """202 with the new image's URL in ``Location`` (v2.1 has no body)."""
    image = common.compute_api().snapshot(context, instance, body["createImage"]["name"],
                                       body["createImage"].get("metadata"))
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
                                         metadata=request.get("metadata"))
    return jsonify({"server": views.detail(instance, None, context.is_admin)}), 202
