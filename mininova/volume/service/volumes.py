"""``/v3/{project_id}/volumes``: create, list, show, update, delete (mirrors
``cinder/api/v3/volumes.py``; the actions on one volume are in
:mod:`.volume_actions`).

Create (202, the volume ``creating``) takes Cinder's body::

    {"volume": {"size": 1, "name": "v1", "description": "...",
                "volume_type": "__DEFAULT__",        # name or id
                "imageRef": "<image id or name>",     # or image_id
                "snapshot_id": "<id>", "source_volid": "<id>",
                "metadata": {"k": "v"}, "availability_zone": "nova"}}

``size`` may be left out with a snapshot or a source volume (theirs is
used). The answers to bad requests are Cinder's: an unknown snapshot or
source volume is 404, an unknown image 400 ("Invalid image identifier or
unable to access requested image."), a size smaller than the image's
virtual size or the source's 400.

Lists: ``GET /volumes`` (id, name, links) and ``GET /volumes/detail``, the
caller's project's (the admin's ``?all_tenants=1``: everyone's), newest
first, filtered by ``name``, ``status``, ``bootable``,
``availability_zone``; ``limit``/``marker`` pages; ``with_count=true``
(3.45) adds ``count``.

Delete (202): refused with 400 unless the volume is available or in an
error state, has no attachment and no snapshot.

Left out: ``multiattach`` (400, as Cinder answers since it moved to
volume types), groups and backups as sources (400), scheduler hints, the
volume summary, the 3.60 time filters, sorting other than newest first.
"""

from flask import Response, g, jsonify, request

from mininova.volume.service import common, db, exception, views
from mininova.volume.service import microversions as mv

LEFT_OUT_SOURCES = ("consistencygroup_id", "group_id", "backup_id")
LIST_FILTERS = ("name", "status", "bootable", "availability_zone")


class VolumeController:
    def create(self, project_id):
        context = common.context()
        body = common.entity(common.json_body(), "volume")
        api = common.services().api
        for key in LEFT_OUT_SOURCES:
            if body.get(key):
                raise exception.InvalidInput(
                    reason=f"{key} is not supported: mininova-volume leaves groups and "
                           f"backups out.")
        if body.get("multiattach") and common.bool_param(body["multiattach"], "multiattach"):
            raise exception.Invalid(
                message="multiattach parameter has been removed. The default behavior is to "
                        "use multiattach enabled volume types. Contact your administrator "
                        "to create a multiattach enabled volume type and use it to create "
                        "multiattach volumes.")
        snapshot = (api.get_snapshot(context, body["snapshot_id"])
                    if body.get("snapshot_id") else None)
        source = api.get(context, body["source_volid"]) if body.get("source_volid") else None
        image_ref = body.get("imageRef") or body.get("image_id")
        # The image's record, read once: the lookup that resolves the
        # reference already holds what the create checks.
        image = api.find_image(context, image_ref) if image_ref else None
        volume = api.create(
            context, body.get("size"),
            name=common.string_field(body, "name") or common.string_field(body, "display_name"),
            description=(common.string_field(body, "description")
                         or common.string_field(body, "display_description")),
            volume_type=body.get("volume_type"), snapshot=snapshot, source_volume=source,
            image=image, metadata=common.metadata_field(body),
            availability_zone=body.get("availability_zone"))
        return jsonify({"volume": _detail(volume)}), 202

    def index(self, project_id):
        return self._list(views.volume_summary, "volumes")

    def detail(self, project_id):
        return self._list(_detail, "volumes/detail")

    def _list(self, view, collection):
        context = common.context()
        volumes = common.services().api.get_all(
            context, _list_filters(), all_tenants=common.query_bool("all_tenants"))
        page, next_links = common.paginate(volumes, collection)
        body = {"volumes": [view(volume) for volume in page]}
        if next_links:
            body["volumes_links"] = next_links
        if mv.matches(common.version(), mv.SUPPORT_COUNT_INFO) and common.query_bool(
                "with_count"):
            body["count"] = len(volumes)
        return jsonify(body)

    def show(self, project_id, volume_id):
        volume = common.services().api.get(common.context(), volume_id)
        return jsonify({"volume": _detail(volume)})

    def update(self, project_id, volume_id):
        context = common.context()
        body = common.entity(common.json_body(), "volume")
        api = common.services().api
        volume = api.get(context, volume_id)
        values = {}
        for key, column in (("name", "display_name"), ("display_name", "display_name"),
                            ("description", "display_description"),
                            ("display_description", "display_description")):
            if key in body:
                values[column] = common.string_field(body, key)
        if "metadata" in body:
            values["metadata"] = common.metadata_field(body)
        if values:
            volume = api.update(context, volume, values)
        # Nothing to change is no error before 3.53, as in Cinder.
        return jsonify({"volume": _detail(volume)})

    def delete(self, project_id, volume_id):
        context = common.context()
        api = common.services().api
        if common.query_bool("cascade") or common.query_bool("force"):
            raise exception.InvalidInput(reason="cascade and force deletes are not supported")
        api.delete(context, api.get(context, volume_id))
        return Response(status=202)


def _detail(volume):
    known = volume.get("volume_type")  # read with the volume (db.volume_get)
    name = known["name"] if known else _type_name(volume["volume_type_id"])
    return views.volume_detail(volume, name)


def _type_name(volume_type_id):
    """The type's name, as the view shows it; looked up once per request."""
    names = g.setdefault("volume_type_names", {})
    if volume_type_id not in names:
        volume_type = db.volume_type_get(common.services().engine, volume_type_id)
        names[volume_type_id] = volume_type["name"] if volume_type else volume_type_id
    return names[volume_type_id]


def _list_filters():
    filters = {}
    for key in LIST_FILTERS:
        value = request.args.get(key)
        if value is None:
            continue
        if key == "name":
            filters["display_name"] = value
        elif key == "bootable":
            filters[key] = common.bool_param(value, key)
        else:
            filters[key] = value
    return filters
