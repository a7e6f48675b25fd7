"""The lifecycle server actions on ``POST /servers/{id}/action`` (mirrors
the action handlers of ``nova/api/openstack/compute/servers.py`` and of
``pause_server.py``, ``suspend_server.py``, ``migrate_server.py``).

Each one validates its body, hands the instance to the compute API, which
checks its state (409 when the action does not fit), and answers 202: the
work itself runs later, on the compute host.

Left out: rescue, shelve, lock, live migration (``os-migrateLive``), the
admin password.
"""

from flask import jsonify

from mininova import context as mn_context
from mininova.api.openstack import common
from mininova.api.openstack.compute import servers
from mininova.api.openstack.compute.schemas import servers as schema
from mininova.api.openstack.compute.views import servers as views


def _accepted():
    return "", 202


@servers.register_action("os-stop", schema.stop)
def stop(context, instance, body):
    servers.compute().stop(context, instance)
    return _accepted()


@servers.register_action("os-start", schema.start)
def start(context, instance, body):
    servers.compute().start(context, instance)
    return _accepted()


@servers.register_action("reboot", schema.reboot)
def reboot(context, instance, body):
    servers.compute().reboot(context, instance, body["reboot"]["type"].upper())
    return _accepted()


@servers.register_action("pause", schema.pause)
def pause(context, instance, body):
    servers.compute().pause(context, instance)
    return _accepted()


@servers.register_action("unpause", schema.unpause)
def unpause(context, instance, body):
    servers.compute().unpause(context, instance)
    return _accepted()


@servers.register_action("suspend", schema.suspend)
def suspend(context, instance, body):
    servers.compute().suspend(context, instance)
    return _accepted()


@servers.register_action("resume", schema.resume)
def resume(context, instance, body):
    servers.compute().resume(context, instance)
    return _accepted()


@servers.register_action("resize", schema.resize)
def resize(context, instance, body):
    servers.compute().resize(context, instance, str(body["resize"]["flavorRef"]))
    return _accepted()


@servers.register_action("migrate", schema.migrate)
def migrate(context, instance, body):
    """Cold migration: the same flavor on another host (admin only in Nova)."""
    mn_context.require_admin(context, "os_compute_api:os-migrate-server:migrate")
    servers.compute().resize(context, instance, flavor_id=None)
    return _accepted()


@servers.register_action("confirmResize", schema.confirm_resize)
def confirm_resize(context, instance, body):
    servers.compute().confirm_resize(context, instance)
    return "", 204


@servers.register_action("revertResize", schema.revert_resize)
def revert_resize(context, instance, body):
    servers.compute().revert_resize(context, instance)
    return _accepted()


@servers.register_action("createImage", schema.create_image)
def create_image(context, instance, body):
    """202 with the new image's URL in ``Location`` (v2.1 has no body)."""
    image = servers.compute().snapshot(context, instance, body["createImage"]["name"],
                                       body["createImage"].get("metadata"))
    response = jsonify({})
    response.status_code = 202
    # Nova points at the image in Glance; ours at its page in this API,
    # which shows the same image (status SAVING until the upload ends).
    response.headers["Location"] = common.links("images", image["id"])[0]["href"]
    return response


@servers.register_action("rebuild", schema.rebuild)
def rebuild(context, instance, body):
    request = body["rebuild"]
    instance = servers.compute().rebuild(context, instance, request["imageRef"],
                                         name=request.get("name"),
                                         metadata=request.get("metadata"))
    return jsonify({"server": views.detail(instance, None, context.is_admin)}), 202
