"""``/v3/{project_id}/snapshots``: create, list, show, delete (mirrors
``cinder/api/v3/snapshots.py``).

Create (202, the snapshot ``creating``)::

    {"snapshot": {"volume_id": "<id>", "name": "s1", "description": "...",
                  "force": false, "metadata": {}}}

The volume must be ``available``; ``force: true`` also takes an ``in-use``
one (its copy is then only crash-consistent, see :mod:`.driver`). A
snapshot holds its volume: the volume cannot be deleted before it.

Left out: snapshot update and metadata APIs, ``os-reset_status`` of a
snapshot, group snapshots, manage/unmanage.
"""

from flask import Response, jsonify, request

from mininova.volume.service import common, exception, views
from mininova.volume.service import microversions as mv

LIST_FILTERS = ("name", "status", "volume_id")


class SnapshotController:
    def create(self, project_id):
        context = common.context()
        body = common.entity(common.json_body(), "snapshot")
        api = common.services().api
        if not body.get("volume_id"):
            raise exception.Invalid(message="'volume_id' must be specified")
        volume = api.get(context, body["volume_id"])
        force = common.bool_param(body.get("force", False), "force")
        snapshot = api.create_snapshot(
            context, volume,
            common.string_field(body, "name") or common.string_field(body, "display_name"),
            common.string_field(body, "description"), force=force,
            metadata=common.metadata_field(body))
        return jsonify({"snapshot": views.snapshot_detail(snapshot)}), 202

    def index(self, project_id):
        return self._list("snapshots")

    def detail(self, project_id):
        return self._list("snapshots/detail")

    def _list(self, collection):
        context = common.context()
        filters = {("display_name" if key == "name" else key): request.args[key]
                   for key in LIST_FILTERS if key in request.args}
        snapshots = common.services().api.get_all_snapshots(
            context, filters, all_tenants=common.query_bool("all_tenants"))
        page, next_links = common.paginate(snapshots, collection)
        body = {"snapshots": [views.snapshot_detail(snapshot) for snapshot in page]}
        if next_links:
            body["snapshots_links"] = next_links
        if mv.matches(common.version(), mv.SUPPORT_COUNT_INFO) and common.query_bool(
                "with_count"):
            body["count"] = len(snapshots)
        return jsonify(body)

    def show(self, project_id, snapshot_id):
        snapshot = common.services().api.get_snapshot(common.context(), snapshot_id)
        return jsonify({"snapshot": views.snapshot_detail(snapshot)})

    def delete(self, project_id, snapshot_id):
        context = common.context()
        api = common.services().api
        api.delete_snapshot(context, api.get_snapshot(context, snapshot_id))
        return Response(status=202)
