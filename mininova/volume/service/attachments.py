"""``/v3/{project_id}/attachments``: the attach API Nova uses since Queens
(mirrors ``cinder/api/v3/attachments.py``; microversion 3.27, and 3.44
for ``os-complete``: at 3.0 these URLs answer 404, as in Cinder).

An attach, as Nova's compute does it (docs/volumes.md has the bodies)::

    POST   /attachments   {"attachment": {"volume_uuid", "instance_uuid"}}
                          200: attachment "reserved", volume "reserved"
    PUT    /attachments/{id}  {"attachment": {"connector": {"host", "ip", ...}}}
                          200: the export is open; attachment and volume
                          "attaching"; the answer has the connection_info
    POST   /attachments/{id}/action  {"os-complete": null}
                          204: attachment "attached", volume "in-use"
    DELETE /attachments/{id}
                          200: export closed; attachment gone; volume
                          "available" (answer: the volume's other attachments)

A ``connector`` in the POST does the PUT's work at once. A volume that is
not available (in-use by another server: no multiattach) is a 400.

Left out: ``mode`` (3.54, read-only attachments), attachment filters other
than ``volume_id``, ``instance_id`` and ``status``, and Cinder's check that
only Nova (a service token) deletes an attachment still connected to a
server (Cinder's bug #2004555, 2023).
"""

from flask import Response, jsonify, request

from mininova.volume.service import common, exception, views
from mininova.volume.service import microversions as mv

FILTERS = {"volume_id": "volume_id", "instance_id": "instance_uuid",
           "status": "attach_status", "attach_status": "attach_status"}


def _require(version):
    """An API the request's microversion does not have is a 404, with no
    more said, as Cinder answers (the method "does not exist" at that
    version)."""
    if not mv.matches(common.version(), version):
        raise exception.NotFound()


class AttachmentController:
    def create(self, project_id):
        _require(mv.NEW_ATTACH)
        context = common.context()
        body = common.entity(common.json_body(), "attachment")
        volume_uuid = body.get("volume_uuid")
        if not volume_uuid:
            raise exception.Invalid(message="'volume_uuid' is a required property")
        connector = _connector(body.get("connector"), required=False)
        api = common.services().api
        volume = api.get(context, volume_uuid)
        attachment = api.attachment_create(context, volume, body.get("instance_uuid"),
                                           connector)
        return jsonify({"attachment": views.attachment_detail(attachment)})

    def index(self, project_id):
        _require(mv.NEW_ATTACH)
        return jsonify({"attachments": [views.attachment_summary(a) for a in self._items()]})

    def detail(self, project_id):
        _require(mv.NEW_ATTACH)
        return jsonify({"attachments": [views.attachment_detail(a) for a in self._items()]})

    def _items(self):
        filters = {column: request.args[key] for key, column in FILTERS.items()
                   if key in request.args}
        return common.services().api.attachment_get_all(
            common.context(), filters, all_tenants=common.query_bool("all_tenants"))

    def show(self, project_id, attachment_id):
        _require(mv.NEW_ATTACH)
        attachment = common.services().api.attachment_get(common.context(), attachment_id)
        return jsonify({"attachment": views.attachment_detail(attachment)})

    def update(self, project_id, attachment_id):
        _require(mv.NEW_ATTACH)
        context = common.context()
        body = common.entity(common.json_body(), "attachment")
        connector = _connector(body.get("connector"), required=True)
        api = common.services().api
        attachment = api.attachment_update(context, api.attachment_get(context, attachment_id),
                                           connector)
        return jsonify({"attachment": views.attachment_detail(attachment)})

    def delete(self, project_id, attachment_id):
        _require(mv.NEW_ATTACH)
        context = common.context()
        api = common.services().api
        remaining = api.attachment_delete(context, api.attachment_get(context, attachment_id))
        return jsonify({"attachments": [views.attachment_summary(a) for a in remaining]})

    def action(self, project_id, attachment_id):
        _require(mv.NEW_ATTACH_COMPLETION)
        body = common.json_body()
        if list(body) != ["os-complete"]:
            raise exception.Invalid(
                message=f"There is no such action: {', '.join(body) or '(none)'}. Verify the "
                        f"request body and Content-Type header and try again.")
        context = common.context()
        api = common.services().api
        api.attachment_complete(context, api.attachment_get(context, attachment_id))
        return Response(status=204)


def _connector(connector, required):
    """The compute's description of itself: its ``host`` at least."""
    if connector is None and not required:
        return None
    if not isinstance(connector, dict) or not connector:
        raise exception.Invalid(message="'connector' is a required property" if required
                                else "connector must be an object")
    if not isinstance(connector.get("host", ""), str):
        raise exception.InvalidInput(reason="connector host must be a string")
    return connector
