"""The volume service's client, for Nova's services (mirrors
``nova/volume/cinder.py``).

What mininova-api (to check a volume before an attach, to create the
volumes a boot asks for) and mininova-compute (to attach and detach) use
to talk to mininova-volume, over HTTP with ``requests``, where Nova uses
python-cinderclient. Its methods have the names and return the shapes of
Nova's ``nova.volume.cinder.API``, so that code written against Nova's
reads the same here:

- volumes come back "untranslated" into Nova's internal dict
  (:func:`_untranslate_volume_summary_view`): ``display_name``,
  ``attach_status``, ``attachments`` keyed by server id, ``bootable`` a
  bool, ``volume_image_metadata``, ``shared_targets``...;
- attachments come back with their ``connection_info`` nested again
  (:func:`_translate_attachment_ref`): Cinder's API answers it flat, Nova
  stores ``{"driver_volume_type": "nbd", "data": {...}, ...}`` in the
  block device mapping and gives that to the virt driver.

The endpoint is ``[cinder] endpoint_template`` with the request's project
(Nova's option; Nova would otherwise read the Keystone catalog). Identity:
the user's token, or the service user's for work no user asked for, or the
``user:project`` token with noauth2 (:func:`mininova.service_auth.identity_headers`);
the request id travels in ``X-OpenStack-Request-ID``. The attachments API
is called at microversion 3.44, as Nova does.

Errors are Nova's: a 404 becomes VolumeNotFound, SnapshotNotFound or
VolumeAttachmentNotFound; a 400 InvalidInput (with Cinder's message); a
403 Forbidden; a 406 to a microversion CinderAPIVersionNotAvailable; no
answer CinderConnectionFailed. Only reads are retried on another try of
the connection: a create or an attach must not be done twice.

Left out: the legacy attach calls (``os-attach``, ``os-initialize_connection``,
... Nova uses attachments), volume encryption metadata, ``reimage``,
multiattach checks, ``[cinder] cross_az_attach``.
"""

import threading
import urllib.parse

import requests
from oslo_log import log as logging
from oslo_utils import strutils

from mininova import exception, service_auth
from mininova.conf import CONF

LOG = logging.getLogger(__name__)

# The attach flow needs attachment-complete, 3.44; Nova asks for it on
# every attachment call.
ATTACHMENT_MICROVERSION = "3.44"


class API:
    """Calls to mininova-volume on behalf of a request context."""

    def __init__(self):
        self._local = threading.local()

    # --- volumes -----------------------------------------------------------------------

    def get(self, context, volume_id, microversion=None):
        """The volume, in Nova's internal shape; ``microversion`` "3.48"
        adds ``shared_targets`` and ``service_uuid``."""
        body = self._call(context, "GET", f"/volumes/{_quote(volume_id)}",
                          not_found=exception.VolumeNotFound(volume_id=volume_id),
                          microversion=microversion)
        return _untranslate_volume_summary_view(body["volume"])

    def get_all(self, context, search_opts=None):
        body = self._call(context, "GET", "/volumes/detail", params=search_opts or {})
        return [_untranslate_volume_summary_view(v) for v in body["volumes"]]

    def create(self, context, size, name, description, snapshot=None, image_id=None,
               volume_type=None, metadata=None, availability_zone=None):
        """A new volume (``creating``): blank, from a snapshot (a dict with
        its ``id``) or from an image; poll :meth:`get` until ``available``."""
        volume = {"size": size, "name": name, "description": description,
                  "snapshot_id": snapshot["id"] if snapshot else None,
                  "imageRef": image_id, "volume_type": volume_type,
                  "metadata": metadata or {}, "availability_zone": availability_zone}
        body = self._call(context, "POST", "/volumes",
                          json={"volume": {k: v for k, v in volume.items() if v is not None}})
        return _untranslate_volume_summary_view(body["volume"])

    def delete(self, context, volume_id):
        self._call(context, "DELETE", f"/volumes/{_quote(volume_id)}",
                   not_found=exception.VolumeNotFound(volume_id=volume_id))

    def extend_volume(self, context, volume_id, new_size):
        self._volume_action(context, volume_id, "os-extend", {"new_size": new_size})

    def begin_detaching(self, context, volume_id):
        """in-use → detaching, before the compute detaches (Nova's API does it)."""
        self._volume_action(context, volume_id, "os-begin_detaching", None)

    def roll_detaching(self, context, volume_id):
        """detaching → in-use, when the detach failed."""
        self._volume_action(context, volume_id, "os-roll_detaching", None)

    def reserve_volume(self, context, volume_id):
        self._volume_action(context, volume_id, "os-reserve", None)

    def unreserve_volume(self, context, volume_id):
        self._volume_action(context, volume_id, "os-unreserve", None)

    def _volume_action(self, context, volume_id, action, args):
        self._call(context, "POST", f"/volumes/{_quote(volume_id)}/action",
                   json={action: args},
                   not_found=exception.VolumeNotFound(volume_id=volume_id))

    def get_all_volume_types(self, context):
        """Every volume type, ``[{"id", "name", ...}]`` (the API checks a
        mapping's ``volume_type`` against them, by id or by name)."""
        return self._call(context, "GET", "/types")["volume_types"]

    # --- snapshots -----------------------------------------------------------------------

    def get_snapshot(self, context, snapshot_id):
        body = self._call(context, "GET", f"/snapshots/{_quote(snapshot_id)}",
                          not_found=exception.SnapshotNotFound(snapshot_id=snapshot_id))
        return _untranslate_snapshot_summary_view(body["snapshot"])

    def create_snapshot(self, context, volume_id, name, description):
        return self._create_snapshot(context, volume_id, name, description, False)

    def create_snapshot_force(self, context, volume_id, name, description):
        return self._create_snapshot(context, volume_id, name, description, True)

    def _create_snapshot(self, context, volume_id, name, description, force):
        body = self._call(context, "POST", "/snapshots", json={"snapshot": {
            "volume_id": volume_id, "name": name, "description": description,
            "force": force}}, not_found=exception.VolumeNotFound(volume_id=volume_id))
        return _untranslate_snapshot_summary_view(body["snapshot"])

    def delete_snapshot(self, context, snapshot_id):
        self._call(context, "DELETE", f"/snapshots/{_quote(snapshot_id)}",
                   not_found=exception.SnapshotNotFound(snapshot_id=snapshot_id))

    # --- attachments ----------------------------------------------------------------------

    def attachment_create(self, context, volume_id, instance_id, connector=None,
                          mountpoint=None):
        """Reserve the volume for the instance (``reserved``); with a
        connector, also open the export and get the connection_info."""
        attachment = {"volume_uuid": volume_id, "instance_uuid": instance_id}
        if connector:
            attachment["connector"] = _with_mountpoint(connector, mountpoint)
        body = self._call(context, "POST", "/attachments", json={"attachment": attachment},
                          not_found=exception.VolumeNotFound(volume_id=volume_id),
                          microversion=ATTACHMENT_MICROVERSION)
        return _translate_attachment_ref(body["attachment"])

    def attachment_get(self, context, attachment_id):
        body = self._call(context, "GET", f"/attachments/{_quote(attachment_id)}",
                          not_found=_attachment_not_found(attachment_id),
                          microversion=ATTACHMENT_MICROVERSION)
        return _translate_attachment_ref(body["attachment"])

    def attachment_get_all(self, context, instance_id=None, volume_id=None):
        params = {k: v for k, v in (("instance_id", instance_id), ("volume_id", volume_id))
                  if v}
        body = self._call(context, "GET", "/attachments/detail", params=params,
                          microversion=ATTACHMENT_MICROVERSION)
        return [_translate_attachment_ref(a) for a in body["attachments"]]

    def attachment_update(self, context, attachment_id, connector, mountpoint=None):
        """Give the attachment the compute's connector: the export opens,
        and the answer carries its ``connection_info``."""
        body = self._call(context, "PUT", f"/attachments/{_quote(attachment_id)}",
                          json={"attachment": {
                              "connector": _with_mountpoint(connector, mountpoint)}},
                          not_found=_attachment_not_found(attachment_id),
                          microversion=ATTACHMENT_MICROVERSION)
        return _translate_attachment_ref(body["attachment"])

    def attachment_complete(self, context, attachment_id):
        """The guest has the disk: attachment attached, volume in-use."""
        self._call(context, "POST", f"/attachments/{_quote(attachment_id)}/action",
                   json={"os-complete": None},
                   not_found=_attachment_not_found(attachment_id),
                   microversion=ATTACHMENT_MICROVERSION)

    def attachment_delete(self, context, attachment_id):
        """Close the export and delete the attachment (the volume becomes
        available); an attachment already gone is not an error, as in Nova."""
        try:
            self._call(context, "DELETE", f"/attachments/{_quote(attachment_id)}",
                       not_found=_attachment_not_found(attachment_id),
                       microversion=ATTACHMENT_MICROVERSION)
        except exception.VolumeAttachmentNotFound:
            LOG.info("Attachment %s was already deleted", attachment_id)

    # --- HTTP ---------------------------------------------------------------------------

    def _call(self, context, method, path, not_found=None, microversion=None, **kwargs):
        headers = service_auth.identity_headers(context)
        if microversion:
            headers["OpenStack-API-Version"] = f"volume {microversion}"
        url = _endpoint(context) + path
        attempts = 2 if method == "GET" else 1
        for attempt in range(attempts):
            try:
                response = self._session().request(method, url, headers=headers,
                                                   timeout=CONF.cinder.timeout, **kwargs)
                break
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 == attempts:
                    raise exception.CinderConnectionFailed(reason=str(exc)) from exc
        _raise_for_status(response, not_found, microversion)
        return response.json() if response.content else {}

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session


def _endpoint(context):
    project_id = context.project_id or "admin"
    return CONF.cinder.endpoint_template.rstrip("/") % {"project_id": project_id}


def _quote(value):
    return urllib.parse.quote(str(value), safe="")


def _with_mountpoint(connector, mountpoint):
    connector = dict(connector)
    if mountpoint:
        connector["mountpoint"] = mountpoint
    return connector


def _attachment_not_found(attachment_id):
    return exception.VolumeAttachmentNotFound(attachment_id=attachment_id)


def _raise_for_status(response, not_found, microversion):
    code = response.status_code
    if code < 400:
        return
    message = _fault_message(response)
    if code == 404 and not_found is not None:
        raise not_found
    if code == 406 and microversion:
        raise exception.CinderAPIVersionNotAvailable(version=microversion)
    if code == 400:
        raise exception.InvalidInput(reason=message)
    if code == 401:
        raise exception.NotAuthenticated()
    if code == 403:
        raise exception.Forbidden(message)
    if code == 404:
        raise exception.NotFound(message)
    if code == 409:
        raise exception.Conflict(message)
    raise exception.CinderConnectionFailed(reason=f"HTTP {code}: {message}")


def _fault_message(response):
    """The message of Cinder's fault body, ``{"badRequest": {"message": ...}}``."""
    try:
        (fault,) = response.json().values()
        return fault["message"]
    except (ValueError, TypeError, KeyError, AttributeError):
        return response.text[:200] or response.reason


# --- Nova's shapes ------------------------------------------------------------------------

def _untranslate_volume_summary_view(vol):
    """A volume as Nova's code reads it (``nova/volume/cinder.py``'s function
    of the same name)."""
    view = {
        "id": vol["id"],
        "status": vol["status"],
        "size": vol["size"],
        "availability_zone": vol.get("availability_zone"),
        "created_at": vol.get("created_at"),
        "attach_time": "",
        "mountpoint": "",
        "multiattach": vol.get("multiattach", False),
        "display_name": vol.get("name"),
        "display_description": vol.get("description"),
        "volume_type_id": vol.get("volume_type"),
        "snapshot_id": vol.get("snapshot_id"),
        "bootable": strutils.bool_from_string(vol.get("bootable", "false")),
        "volume_metadata": dict(vol.get("metadata") or {}),
        "attachments": {},
        "attach_status": "attached" if vol.get("attachments") else "detached",
    }
    for attachment in vol.get("attachments") or []:
        view["attachments"][attachment["server_id"]] = {
            "attachment_id": attachment.get("attachment_id"),
            "mountpoint": attachment.get("device")}
    if "volume_image_metadata" in vol:
        view["volume_image_metadata"] = dict(vol["volume_image_metadata"])
    if "shared_targets" in vol:
        view["shared_targets"] = vol["shared_targets"]
        view["service_uuid"] = vol.get("service_uuid")
    return view


def _untranslate_snapshot_summary_view(snapshot):
    return {
        "id": snapshot["id"],
        "status": snapshot["status"],
        "progress": snapshot.get("os-extended-snapshot-attributes:progress"),
        "size": snapshot["size"],
        "created_at": snapshot.get("created_at"),
        "display_name": snapshot.get("name"),
        "display_description": snapshot.get("description"),
        "volume_id": snapshot["volume_id"],
        "project_id": snapshot.get("os-extended-snapshot-attributes:project_id"),
        "volume_size": snapshot["size"],
    }


def _translate_attachment_ref(attachment_ref):
    """An attachment with its ``connection_info`` nested as Nova keeps it
    (``nova/volume/cinder.py``'s function of the same name): the driver's
    keys back under ``data``, ``driver_volume_type`` at the top, and the
    attachment's own fields (status, instance, times, volume_id) next to
    them. The result is what goes into ``block_device_mapping.connection_info``."""
    attachment_ref = dict(attachment_ref)
    connection_info = dict(attachment_ref.pop("connection_info", None) or {})
    translated = {}
    if connection_info:
        connection_info.pop("attachment_id", None)
        translated["driver_volume_type"] = connection_info.pop("driver_volume_type", None)
        translated["data"] = connection_info
        for key in ("status", "instance", "attached_at", "detached_at"):
            translated[key] = attachment_ref.pop(key, None)
        for key, value in attachment_ref.items():
            if key not in ("id", "attach_mode"):
                translated[key] = value
    attachment_ref["connection_info"] = translated
    return attachment_ref
