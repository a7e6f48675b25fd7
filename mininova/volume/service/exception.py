"""The volume service's errors (mirrors the part of ``cinder/exception.py``
its API answers with).

Each has Cinder's message template and HTTP code; :mod:`.app` turns one
raised anywhere in a request into Cinder's fault body, named after the
code: ``{"badRequest": {"code": 400, "message": "Invalid volume: ..."}}``,
``itemNotFound`` for 404, ``forbidden``, ``conflictingRequest``, ...
"""

from mininova.exception import MininovaException


class VolumeServiceError(MininovaException):
    """An error the API answers with its code and message."""

    safe = True


# --- 400 -----------------------------------------------------------------------------

class Invalid(VolumeServiceError):
    msg_fmt = "Unacceptable parameters."
    code = 400


class InvalidInput(Invalid):
    msg_fmt = "Invalid input received: %(reason)s"


class InvalidVolume(Invalid):
    msg_fmt = "Invalid volume: %(reason)s"


class InvalidSnapshot(Invalid):
    msg_fmt = "Invalid snapshot: %(reason)s"


class InvalidVolumeType(Invalid):
    msg_fmt = "Invalid volume type: %(reason)s"


class ImageUnacceptable(Invalid):
    msg_fmt = "Image %(image_id)s is unacceptable: %(reason)s"


class InvalidAPIVersionString(Invalid):
    msg_fmt = ("API Version String %(version)s is of invalid format. Must be of format "
               "MajorNum.MinorNum.")


class MalformedRequestBody(Invalid):
    msg_fmt = "Malformed request body"


# --- 403, 404, 406, 409 ------------------------------------------------------------------

class PolicyNotAuthorized(VolumeServiceError):
    msg_fmt = "Policy doesn't allow %(action)s to be performed."
    code = 403


class NotFound(VolumeServiceError):
    msg_fmt = "The resource could not be found."
    code = 404


class VolumeNotFound(NotFound):
    msg_fmt = "Volume %(volume_id)s could not be found."


class SnapshotNotFound(NotFound):
    msg_fmt = "Snapshot %(snapshot_id)s could not be found."


class VolumeAttachmentNotFound(NotFound):
    msg_fmt = "Volume attachment could not be found with filter: %(filter)s."


class VolumeTypeNotFound(NotFound):
    msg_fmt = "Volume type %(volume_type_id)s could not be found."


class VolumeTypeNotFoundByName(VolumeTypeNotFound):
    msg_fmt = "Volume type with name %(volume_type_name)s could not be found."


class InvalidGlobalAPIVersion(VolumeServiceError):
    msg_fmt = ("Version %(req_ver)s is not supported by the API. Minimum is %(min_ver)s "
               "and maximum is %(max_ver)s.")
    code = 406


class RequestTooLarge(VolumeServiceError):
    msg_fmt = "Request is too large: more than %(limit)s bytes."
    code = 413


class QuotaError(VolumeServiceError):
    """Cinder answers an exceeded quota with 413 and ``Retry-After: 0``."""
    msg_fmt = "Quota exceeded: code=%(code)s"
    code = 413


class VolumeSizeExceedsAvailableQuota(QuotaError):
    msg_fmt = ("Requested volume or snapshot exceeds allowed %(name)s quota. Requested "
               "%(requested)sG, quota is %(quota)sG and %(consumed)sG has been consumed.")


class VolumeSizeExceedsLimit(QuotaError):
    msg_fmt = "Requested volume size %(size)dG is larger than maximum allowed limit %(limit)dG."


class VolumeLimitExceeded(QuotaError):
    msg_fmt = "Maximum number of volumes allowed (%(allowed)d) exceeded for quota '%(name)s'."


class SnapshotLimitExceeded(QuotaError):
    msg_fmt = "Maximum number of snapshots allowed (%(allowed)d) exceeded"


class UnexpectedOverQuota(QuotaError):
    msg_fmt = "Unexpected over quota on %(name)s."


class Conflict(VolumeServiceError):
    msg_fmt = "Conflict: %(reason)s"
    code = 409


class VolumeTypeExists(Conflict):
    msg_fmt = "Volume Type %(id)s already exists."


# --- 500: the backend failed ----------------------------------------------------------------

class VolumeBackendAPIException(VolumeServiceError):
    msg_fmt = "Bad or unexpected response from the storage volume backend API: %(data)s"
    code = 500


class ExportFailure(VolumeBackendAPIException):
    # volume_id: the export's name, volume-<id>.
    msg_fmt = "Failed to export volume %(volume_id)s: %(reason)s"


class AttachmentCreateFailed(VolumeServiceError):
    msg_fmt = "Unable to create attachment for volume (%(reason)s)."
    code = 500


class AttachmentUpdateFailed(VolumeServiceError):
    msg_fmt = "Unable to update attachment (%(reason)s)."
    code = 500


class ImageDownloadFailed(VolumeServiceError):
    # Cinder's; not an API answer (the create is asynchronous): the reason
    # a volume made from an image ended in ``error``.
    msg_fmt = "Failed to download image %(image_href)s, reason: %(reason)s"
