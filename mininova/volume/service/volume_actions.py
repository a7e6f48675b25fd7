"""``POST /v3/{project_id}/volumes/{id}/action``: what can be done to one
volume (mirrors ``cinder/api/contrib/volume_actions.py`` and
``admin_actions.py``). The body names one action::

    {"os-extend": {"new_size": 2}}                  202; available volumes only
    {"os-reset_status": {"status": "available",     202; the admin's, to unstick
                         "attach_status": "detached"}}    a volume (detached also
                                                          deletes its attachments)
    {"os-begin_detaching": null}                    202; in-use → detaching
    {"os-roll_detaching": null}                     202; detaching → in-use
    {"os-reserve": null}                            202; available → attaching
    {"os-unreserve": null}                          202; attaching → available

Nova calls the two ``detaching`` ones around a detach even with the
attachments API; ``os-reserve``/``os-unreserve`` belong to the attach flow
before attachments and are kept because they cost nothing.

Left out: ``os-attach``, ``os-detach``, ``os-initialize_connection`` and
``os-terminate_connection`` (the pre-Queens attach flow: Nova uses the
attachments API), ``os-volume_upload_image``, ``os-retype``,
``os-migrate_volume``, ``os-set_bootable``, ``os-update_readonly_flag``,
``revert``, ``os-force_delete``, ``os-force_detach``.
"""

from flask import Response

from mininova.volume.service import common, exception


class VolumeActionsController:
    def action(self, project_id, volume_id):
        body = common.json_body()
        if len(body) != 1:
            raise exception.Invalid(message="There is no such action: " + ", ".join(body))
        name, args = next(iter(body.items()))
        handler = _ACTIONS.get(name)
        if handler is None:
            raise exception.Invalid(
                message=f"There is no such action: {name}. Verify the request body and "
                        f"Content-Type header and try again.")
        context = common.context()
        api = common.services().api
        handler(api, context, api.get(context, volume_id), args)
        return Response(status=202)


def _extend(api, context, volume, args):
    if not isinstance(args, dict) or "new_size" not in args:
        raise exception.Invalid(message="Invalid request body: os-extend needs new_size.")
    api.extend(context, volume, args["new_size"])


def _reset_status(api, context, volume, args):
    if not isinstance(args, dict):
        raise exception.Invalid(message="Invalid request body: os-reset_status takes an object.")
    api.reset_status(context, volume, args.get("status"), args.get("attach_status"))


_ACTIONS = {
    "os-extend": _extend,
    "os-reset_status": _reset_status,
    "os-reserve": lambda api, context, volume, _args: api.reserve_volume(context, volume),
    "os-unreserve": lambda api, context, volume, _args: api.unreserve_volume(context, volume),
    "os-begin_detaching": lambda api, context, volume, _args: api.begin_detaching(context,
                                                                                  volume),
    "os-roll_detaching": lambda api, context, volume, _args: api.roll_detaching(context,
                                                                                volume),
}
