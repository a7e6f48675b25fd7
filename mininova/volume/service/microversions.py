"""The Block Storage API's microversions (mirrors
``cinder/api/openstack/api_version_request.py``, ``cinder/api/microversions.py``
and the version part of ``cinder/api/openstack/wsgi.py``).

A request asks for a version with ``OpenStack-API-Version: volume 3.44``
(or ``latest``); without the header it gets 3.0, so a client written for
3.0 never sees a body change. A version outside 3.0..:data:`MAX_VERSION`
gets 406, a malformed one 400, and every answer says the version it was
given in ``OpenStack-API-Version`` with ``Vary: OpenStack-API-Version``.
An API a version does not have (attachments before 3.27) answers 404, as
if it did not exist.

Why 3.48: Nova's attach flow needs 3.44 (``os-complete`` of an
attachment), ``nova-status upgrade check`` refuses less, and Nova's compute
asks for 3.48 first to read ``shared_targets``. Between 3.0 and 3.48 each
version is either reproduced or a feature left out (docs/volumes.md lists
them): what matters to the clients is

====== ===========================================================================
3.13   ``group_id`` in a volume's detail (always null: no groups)
3.21   ``provider_id`` in a volume's detail, for the admin (null)
3.27   the attachments API: create, show, list, update, delete
3.41   ``user_id`` in a snapshot's detail
3.44   ``POST /attachments/{id}/action`` ``{"os-complete": null}``
3.45   ``?with_count=true`` adds ``count`` to volume and snapshot lists
3.48   ``shared_targets`` (false: one export per attachment) and
       ``service_uuid`` in a volume's detail
====== ===========================================================================

Left out: 3.42 (extending an in-use volume: still 400), 3.46 (Nova's
volume-backed image snapshots), 3.47 (volumes from backups), and the
versions past 3.48 (3.54's attachment ``mode``, 3.63's volume type id,
3.66's snapshots of in-use volumes without ``force``...).
"""

from mininova.api.openstack.api_version_request import APIVersionRequest
from mininova.volume.service import exception

MIN_VERSION = "3.0"
MAX_VERSION = "3.48"
# When 3.0's API was last changed, as the version document says (Cinder's
# UPDATED of the release we follow).
UPDATED = "2018-02-28T00:00:00Z"

SERVICE_TYPE = "volume"
HEADER = "OpenStack-API-Version"

GROUP_VOLUME = "3.13"
VOLUME_DETAIL_PROVIDER_ID = "3.21"
NEW_ATTACH = "3.27"
SNAPSHOT_LIST_USER_ID = "3.41"
NEW_ATTACH_COMPLETION = "3.44"
SUPPORT_COUNT_INFO = "3.45"
VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS = "3.48"


def from_headers(headers):
    """The version a request asks for (3.0 without the header), checked
    against the range. Raises InvalidGlobalAPIVersion (406) or
    InvalidAPIVersionString (400)."""
    requested = None
    for part in headers.get(HEADER, "").split(","):
        service, _sep, version = part.strip().partition(" ")
        if service.lower() == SERVICE_TYPE and version.strip():
            requested = version.strip()
    if requested is None:
        return APIVersionRequest(MIN_VERSION)
    if requested.lower() == "latest":
        return APIVersionRequest(MAX_VERSION)
    try:
        version = APIVersionRequest(requested)
    except Exception as exc:
        raise exception.InvalidAPIVersionString(version=requested) from exc
    if not APIVersionRequest(MIN_VERSION) <= version <= APIVersionRequest(MAX_VERSION):
        raise exception.InvalidGlobalAPIVersion(req_ver=requested, min_ver=MIN_VERSION,
                                                max_ver=MAX_VERSION)
    return version


def response_headers(version):
    return {HEADER: f"{SERVICE_TYPE} {version}", "Vary": HEADER}


def matches(version, minimum):
    """Whether the request's ``version`` has what ``minimum`` brought."""
    return version >= APIVersionRequest(minimum)
