"""``/servers/{id}/os-volume_attachments`` (mirrors
``nova/api/openstack/compute/volume_attachments.py``): a server's volumes,
and attaching or detaching one while the server is active, paused,
stopped or resized. The attachment's id is the volume's id, as in Nova.

Attach answers 200 with the attachment (its device name already chosen by
the compute, which then attaches in the background); detach answers 202.
The body shows ``tag`` from 2.70 and ``delete_on_termination`` from 2.79
(both accepted in the attach body from 2.49 and 2.79).

Errors, as Nova's: an unknown volume is a 404 (it is in the URL or the
body of a request about the server's volumes), a volume not attached to the
server 404 ``Instance <uuid> is not attached to volume <id>``, a volume in
use or already attached 400, a locked server or one in the wrong state
409, the boot volume 400 ``Cannot detach a root device volume``.

Left out: ``PUT`` (swap a volume for another, which Cinder's migrations
call; and 2.85's update of ``delete_on_termination``): the route has no
PUT, so it answers 405 ``badMethod``. Paging (``limit``/``offset``) too:
a server has a handful of volumes.
"""

from flask import Blueprint, jsonify

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.openstack.compute.schemas import volume_attachments as schema
from mininova.api.validation import parameter_types
from mininova.db import block_devices as bdm_db

blueprint = Blueprint("volume_attachments", __name__)

POLICY = "os_compute_api:os-volumes-attachments:%s"


def _view(bdm):
    view = {"id": bdm["volume_id"], "volumeId": bdm["volume_id"],
            "serverId": bdm["instance_uuid"]}
    if bdm["device_name"]:
        view["device"] = bdm["device_name"]
    if api_version_request.is_supported("2.70"):
        view["tag"] = bdm["tag"]
    if api_version_request.is_supported("2.79"):
        view["delete_on_termination"] = bool(bdm["delete_on_termination"])
    return view


def _server(server_id, action):
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can(POLICY % action, common.owned_by(instance))
    return context, instance


def _not_attached(server_id, volume_id):
    return exception.NotFound(f"Instance {server_id} is not attached to volume {volume_id}")


@blueprint.get("/servers/<server_id>/os-volume_attachments")
def index(server_id):
    context, instance = _server(server_id, "index")
    bdms = bdm_db.bdm_get_all_by_instance(context, instance["uuid"])
    return jsonify({"volumeAttachments": [_view(bdm) for bdm in bdms if bdm["volume_id"]]})


@blueprint.get("/servers/<server_id>/os-volume_attachments/<volume_id>")
def show(server_id, volume_id):
    context, instance = _server(server_id, "show")
    try:
        bdm = bdm_db.bdm_get_by_volume_and_instance(context, volume_id, instance["uuid"])
    except exception.VolumeBDMNotFound:
        raise _not_attached(server_id, volume_id) from None
    return jsonify({"volumeAttachment": _view(bdm)})


@blueprint.post("/servers/<server_id>/os-volume_attachments")
@validation.schema(schema.create)
def create(server_id, body):
    context, instance = _server(server_id, "create")
    request = body["volumeAttachment"]
    volume_id = request["volumeId"]
    delete_on_termination = parameter_types.is_true(
        request.get("delete_on_termination", False))
    device = common.compute_api().attach_volume(
        context, instance, volume_id, device=request.get("device"), tag=request.get("tag"),
        delete_on_termination=delete_on_termination)
    attachment = {"id": volume_id, "serverId": instance["uuid"], "volumeId": volume_id,
                  "device": device}
    if api_version_request.is_supported("2.70"):
        attachment["tag"] = request.get("tag")
    if api_version_request.is_supported("2.79"):
        attachment["delete_on_termination"] = delete_on_termination
    return jsonify({"volumeAttachment": attachment})


@blueprint.delete("/servers/<server_id>/os-volume_attachments/<volume_id>")
def delete(server_id, volume_id):
    context, instance = _server(server_id, "delete")
    common.compute_api().detach_volume(context, instance, volume_id)
    return "", 202
