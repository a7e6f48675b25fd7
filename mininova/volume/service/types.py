"""``/v3/{project_id}/types``: the volume types (mirrors
``cinder/api/v3/types.py`` for reading and
``cinder/api/contrib/types_manage.py`` for the admin's create and delete).

::

    GET    /types              every public type (the admin: private ones too)
    GET    /types/default      the type a volume gets when it names none
    GET    /types/{id}
    POST   /types              {"volume_type": {"name", "description",
                                "os-volume-type-access:is_public", "extra_specs"}}
    DELETE /types/{id}         202; 400 while a volume has the type

Left out: extra specs sub-resources, type access lists, encryption types,
updates of a type, per-project default types.
"""

from flask import Response, jsonify

from mininova.volume.service import common, exception, views


class VolumeTypeController:
    def index(self, project_id):
        types = common.services().api.get_all_volume_types(common.context())
        return jsonify({"volume_types": [views.volume_type(t) for t in types]})

    def show(self, project_id, type_id):
        volume_type = common.services().api.get_volume_type(common.context(), type_id)
        return jsonify({"volume_type": views.volume_type(volume_type)})

    def create(self, project_id):
        body = common.entity(common.json_body(), "volume_type")
        name = common.string_field(body, "name", allow_none=False)
        if not name:
            raise exception.Invalid(message="Volume type name can not be empty.")
        is_public = common.bool_param(
            body.get("os-volume-type-access:is_public", body.get("is_public", True)),
            "is_public")
        extra_specs = body.get("extra_specs") or {}
        if not isinstance(extra_specs, dict):
            raise exception.InvalidInput(reason="extra_specs must be an object.")
        volume_type = common.services().api.create_volume_type(
            common.context(), name, common.string_field(body, "description"), is_public,
            {str(k): str(v) for k, v in extra_specs.items()})
        return jsonify({"volume_type": views.volume_type(volume_type)})

    def delete(self, project_id, type_id):
        common.services().api.delete_volume_type(common.context(), type_id)
        return Response(status=202)
