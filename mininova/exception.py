"""mininova's exceptions (mirrors ``nova/exception.py``).

Each exception has a message template ``msg_fmt`` filled with keyword
arguments, and an HTTP ``code``: the API turns an exception raised anywhere
(even in another service, across RPC) into the error body Nova would send,
and the compute manager stores the same message as the instance fault.
"""


class MininovaException(Exception):
    msg_fmt = "An unknown exception occurred."
    code = 500
    # Safe to show to a non-admin user as the fault message.
    safe = False

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError):
                # A template and its arguments that do not match must not
                # hide the error that was being reported.
                message = self.msg_fmt
        self.message = str(message)
        super().__init__(self.message)

    def format_message(self):
        return self.message


# --- 4xx: the caller can fix it ------------------------------------------

class Invalid(MininovaException):
    msg_fmt = "Bad Request - Invalid Parameters"
    code = 400
    safe = True


class ValidationError(Invalid):
    msg_fmt = "%(detail)s"


class InvalidInput(Invalid):
    msg_fmt = "Invalid input received: %(reason)s"


class InvalidKeypair(Invalid):
    msg_fmt = "Keypair data is invalid: %(reason)s"


class NotAuthenticated(MininovaException):
    msg_fmt = "The request you have made requires authentication."
    code = 401
    safe = True


class Forbidden(MininovaException):
    msg_fmt = "Forbidden"
    code = 403
    safe = True


class PolicyNotAuthorized(Forbidden):
    msg_fmt = "Policy doesn't allow %(action)s to be performed."


# --- quotas (nova/quota.py): refusals the user sees as 403 ----------------

class OverQuota(Forbidden):
    """A quota refused the request. Nova's OverQuota carries 413 and each
    API handler turns it into a 403; here the 403 is carried directly."""

    msg_fmt = "Quota exceeded for resources: %(overs)s"


class TooManyInstances(OverQuota):
    msg_fmt = ("Quota exceeded for %(overs)s: Requested %(req)s, but already used "
               "%(used)s of %(allowed)s %(overs)s")


class MetadataLimitExceeded(OverQuota):
    msg_fmt = "Maximum number of metadata items exceeds %(allowed)d"


class KeypairLimitExceeded(OverQuota):
    msg_fmt = "Quota exceeded, too many key pairs."


class ServerGroupLimitExceeded(OverQuota):
    msg_fmt = "Quota exceeded, too many server groups."


class GroupMemberLimitExceeded(OverQuota):
    msg_fmt = "Quota exceeded, too many servers in group"


class DBNotAllowed(Forbidden):
    msg_fmt = "%(binary)s attempted direct database access which is not allowed by policy"


class NotFound(MininovaException):
    msg_fmt = "Resource could not be found."
    code = 404
    safe = True


class FixedIpNotFoundForAddress(NotFound):
    msg_fmt = "Fixed IP not found for address %(address)s."


class FixedIpAssociatedWithMultipleInstances(NotFound):
    msg_fmt = "More than one instance is associated with fixed IP address '%(address)s'."


class InstanceNotFound(NotFound):
    msg_fmt = "Instance %(instance_id)s could not be found."


class PortNotFound(NotFound):
    msg_fmt = "Port id %(port_id)s could not be found."


class NetworkNotFound(NotFound):
    msg_fmt = "Network %(network_id)s could not be found."


class VersionNotFoundForAPIMethod(NotFound):
    # What Nova answers for an API its requested microversion does not have
    # (``GET /servers/<id>/tags`` at 2.25): a plain 404.
    msg_fmt = "The resource could not be found."


class MarkerNotFound(NotFound):
    msg_fmt = "Marker %(marker)s could not be found."


class InstanceTagNotFound(NotFound):
    msg_fmt = "Instance %(instance_id)s has no tag '%(tag)s'"


class MigrationNotFound(NotFound):
    msg_fmt = "Migration %(migration_id)s could not be found."


class MigrationNotFoundByStatus(NotFound):
    msg_fmt = "Migration not found for instance %(instance_id)s with status %(status)s."


class FlavorNotFound(NotFound):
    msg_fmt = "Flavor %(flavor_id)s could not be found."


class ImageNotFound(NotFound):
    msg_fmt = "Image %(image_id)s could not be found."


class VolumeNotFound(NotFound):
    msg_fmt = "Volume %(volume_id)s could not be found."


class SnapshotNotFound(NotFound):
    msg_fmt = "Snapshot %(snapshot_id)s could not be found."


class VolumeAttachmentNotFound(NotFound):
    msg_fmt = "Volume attachment %(attachment_id)s could not be found."


class ServiceNotFound(NotFound):
    msg_fmt = "Service %(service_id)s could not be found."


class HostBinaryNotFound(NotFound):
    msg_fmt = "Could not find binary %(binary)s on host %(host)s."


class ComputeHostNotFound(NotFound):
    msg_fmt = "Compute host %(host)s could not be found."


class HypervisorNotFound(NotFound):
    msg_fmt = "Hypervisor with ID '%(hypervisor_id)s' could not be found."


class FlavorAccessNotFound(NotFound):
    msg_fmt = "Flavor access not found for %(flavor_id)s / %(project_id)s combination."


class KeypairNotFound(NotFound):
    msg_fmt = "Keypair %(name)s not found for user %(user_id)s"


class FlavorExtraSpecsNotFound(NotFound):
    msg_fmt = "Flavor %(flavor_id)s has no extra specs with key %(extra_specs_key)s."


class AggregateNotFound(NotFound):
    msg_fmt = "Aggregate %(aggregate_id)s could not be found."


class AggregateHostNotFound(NotFound):
    msg_fmt = "Aggregate %(aggregate_id)s has no host %(host)s."


class InstanceGroupNotFound(NotFound):
    msg_fmt = "Instance group %(group_uuid)s could not be found."


class AvailabilityZoneNotFound(NotFound):
    msg_fmt = "Availability zone %(zone)s could not be found."


class Conflict(MininovaException):
    msg_fmt = "Conflict"
    code = 409
    safe = True


class InstanceInvalidState(Conflict):
    msg_fmt = ("Cannot '%(action)s' instance %(server_id)s while it is in "
               "%(attr)s %(state)s")


class ServiceUnavailable(Conflict):
    # Nova's is an Invalid that its APIs answer with 409.
    msg_fmt = "Service is unavailable at this time."


class InstanceIsLocked(Conflict):
    msg_fmt = "Instance %(instance_uuid)s is locked"


class InstanceNotReady(Conflict):
    msg_fmt = "Instance %(instance_id)s is not ready"


class InstanceUpdateConflict(Conflict):
    """A compare-and-swap update found other states than it expected;
    ``expected`` and ``actual`` name only the fields that differ."""

    msg_fmt = ("Conflict updating instance %(instance_uuid)s. "
               "Expected: %(expected)s. Actual: %(actual)s")


class UnexpectedTaskStateError(InstanceUpdateConflict):
    """The conflict is in the task_state: another action got there first."""


class UnexpectedDeletingTaskStateError(UnexpectedTaskStateError):
    pass


class FlavorExists(Conflict):
    msg_fmt = "Flavor with name %(name)s already exists."


class FlavorIdExists(Conflict):
    msg_fmt = "Flavor with ID %(flavor_id)s already exists."


class FlavorAccessExists(Conflict):
    msg_fmt = ("Flavor access already exists for flavor %(flavor_id)s and project "
               "%(project_id)s combination.")


class KeyPairExists(Conflict):
    msg_fmt = "Key pair '%(key_name)s' already exists."


class AggregateNameExists(Conflict):
    msg_fmt = "Aggregate %(aggregate_name)s already exists."


class AggregateHostExists(Conflict):
    msg_fmt = "Aggregate %(aggregate_id)s already has host %(host)s."


class InvalidAggregateAction(Invalid):
    msg_fmt = ("Unacceptable parameters: Cannot %(action)s aggregate %(aggregate_id)s. "
               "Reason: %(reason)s.")


class InvalidAggregateActionAdd(InvalidAggregateAction):
    msg_fmt = "Cannot add host to aggregate %(aggregate_id)s. Reason: %(reason)s."
    # Nova's add_host answers 409 for it (the other aggregate actions, 400).
    code = 409


class InvalidAggregateActionUpdate(InvalidAggregateAction):
    msg_fmt = "Cannot update aggregate %(aggregate_id)s. Reason: %(reason)s."


class InvalidAggregateActionUpdateMeta(InvalidAggregateAction):
    msg_fmt = "Cannot update metadata of aggregate %(aggregate_id)s. Reason: %(reason)s."


class TooManyTags(Invalid):
    msg_fmt = "The number of tags exceeded the per-server limit %(max_count)d"


class RequestTooLarge(MininovaException):
    msg_fmt = "Request is too large."
    code = 413
    safe = True


class FlavorDiskSmallerThanImage(Invalid):
    msg_fmt = ("Flavor's disk is too small for requested image. Flavor disk "
               "is %(flavor_size)i bytes, image is %(image_size)i bytes.")


class FlavorDiskSmallerThanMinDisk(Invalid):
    msg_fmt = ("Flavor's disk is smaller than the minimum size specified in "
               "image metadata. Flavor disk is %(flavor_size)i bytes, minimum "
               "size is %(image_min_disk)i bytes.")


class CannotResizeToSameFlavor(Invalid):
    msg_fmt = "When resizing, instances must change flavor!"


class CannotResizeDisk(Invalid):
    msg_fmt = "Server disk was unable to be resized because: %(reason)s"


class ResizeError(MininovaException):
    msg_fmt = "Resize error: %(reason)s"


class FlavorMemoryTooSmall(Invalid):
    msg_fmt = "Flavor's memory is too small for requested image."


class ImageNotActive(Invalid):
    msg_fmt = "Image %(image_id)s is not active."


class ImageUnacceptable(Invalid):
    msg_fmt = "Image %(image_id)s is unacceptable: %(reason)s"


class InvalidVolume(Invalid):
    msg_fmt = "Invalid volume: %(reason)s"


# --- block device mappings (nova/exception.py's InvalidBDM family) ---------

class BDMNotFound(NotFound):
    msg_fmt = "No Block Device Mapping with id %(id)s."


class VolumeBDMNotFound(NotFound):
    msg_fmt = "No volume Block Device Mapping with id %(volume_id)s."


class InvalidBDM(Invalid):
    msg_fmt = "Block Device Mapping is Invalid."


class InvalidBDMSnapshot(InvalidBDM):
    msg_fmt = "Block Device Mapping is Invalid: failed to get snapshot %(id)s."


class InvalidBDMVolume(InvalidBDM):
    msg_fmt = "Block Device Mapping is Invalid: failed to get volume %(id)s."


class InvalidBDMImage(InvalidBDM):
    msg_fmt = "Block Device Mapping is Invalid: failed to get image %(id)s."


class InvalidBDMBootSequence(InvalidBDM):
    msg_fmt = ("Block Device Mapping is Invalid: Boot sequence for the instance "
               "and image/block device mapping combination is not valid.")


class InvalidBDMLocalsLimit(InvalidBDM):
    msg_fmt = ("Block Device Mapping is Invalid: You specified more local devices "
               "than the limit allows")


class InvalidBDMEphemeralSize(InvalidBDM):
    msg_fmt = ("Ephemeral disks requested are larger than the instance type allows. "
               "If no size is given in one block device mapping, flavor ephemeral "
               "size will be used.")


class InvalidBDMSwapSize(InvalidBDM):
    msg_fmt = "Swap drive requested is larger than instance type allows."


class InvalidBDMFormat(InvalidBDM):
    msg_fmt = "Block Device Mapping is Invalid: %(details)s"


class InvalidBDMVolumeNotBootable(InvalidBDM):
    msg_fmt = "Block Device %(id)s is not bootable."


class VolumeSmallerThanMinDisk(Invalid):
    msg_fmt = ("Volume is smaller than the minimum size specified in image metadata. "
               "Volume size is %(volume_size)i bytes, minimum size is "
               "%(image_min_disk)i bytes.")


class InvalidDevicePath(Invalid):
    msg_fmt = "The supplied device path (%(path)s) is invalid."


class DevicePathInUse(Conflict):
    msg_fmt = "The supplied device path (%(path)s) is in use."


class VolumeTypeNotFound(NotFound):
    msg_fmt = "Volume type %(id_or_name)s could not be found."


class InvalidDiskInfo(Invalid):
    msg_fmt = "Disk info file is invalid: %(reason)s"


# --- scheduling and building ---------------------------------------------

class NoValidHost(MininovaException):
    msg_fmt = "No valid host was found. %(reason)s"
    safe = True


class MaxRetriesExceeded(NoValidHost):
    msg_fmt = "Exceeded maximum number of retries. %(reason)s"


class InterfaceAttachFailed(MininovaException):
    msg_fmt = "Failed to attach network adapter device to %(instance_uuid)s"
    safe = True


class VirtualInterfaceCreateException(MininovaException):
    msg_fmt = "Virtual Interface creation failed"
    safe = True


class ComputeResourcesUnavailable(MininovaException):
    msg_fmt = "Insufficient compute resources: %(reason)s."
    safe = True


class RescheduledException(MininovaException):
    msg_fmt = "Build of instance %(instance_uuid)s was re-scheduled: %(reason)s"
    safe = True


class BuildAbortException(MininovaException):
    msg_fmt = "Build of instance %(instance_uuid)s aborted: %(reason)s"
    safe = True


class ImageDownloadFailed(MininovaException):
    """This host could not get the image (service unreachable, connection
    cut, disk full): another host may well succeed."""

    msg_fmt = "Failed to download image %(image_id)s: %(reason)s"
    safe = True


class ImageDataInvalid(ImageDownloadFailed):
    """The image service's data itself cannot be used (checksum mismatch,
    no data at all): every host would download the same."""


class ImageServiceUnavailable(MininovaException):
    msg_fmt = "The image service at %(url)s is unavailable: %(reason)s"
    code = 503
    safe = True


class CinderConnectionFailed(MininovaException):
    msg_fmt = "Connection to cinder host failed: %(reason)s"
    code = 503
    safe = True


class CinderAPIVersionNotAvailable(MininovaException):
    msg_fmt = "Cinder API version %(version)s is not available."


class InstanceNotRunning(MininovaException):
    msg_fmt = "Instance %(instance_id)s is not running."
    code = 409
    safe = True


class HypervisorUnavailable(MininovaException):
    msg_fmt = "Connection to the hypervisor is broken on host: %(host)s"


class InternalError(MininovaException):
    msg_fmt = "%(err)s"


class ProcessExecutionFailed(MininovaException):
    msg_fmt = "%(cmd)s failed: %(reason)s"
    safe = True


class ProcessTimeout(ProcessExecutionFailed):
    msg_fmt = "%(cmd)s timed out after %(timeout)s s and was killed"


class ProcessLimitExceeded(ProcessExecutionFailed):
    msg_fmt = "%(cmd)s was stopped by its %(limit)s"


class ProcessKilled(ProcessExecutionFailed):
    msg_fmt = ("%(cmd)s was killed by %(signal)s from outside mininova (an operator, "
               "the kernel's OOM killer), after %(cpu_seconds)s s of CPU")


def by_name(name):
    """The exception class called ``name``, to rebuild one that crossed RPC."""
    cls = globals().get(name)
    if isinstance(cls, type) and issubclass(cls, MininovaException):
        return cls
    return None


# --- block devices (the compute's side) ------------------------------------

class VolumeNotCreated(MininovaException):
    msg_fmt = ("Volume %(volume_id)s did not finish being created even after we "
               "waited %(seconds)s seconds or %(attempts)s attempts. And its "
               "status is %(volume_status)s.")
    safe = True


class DeviceDetachFailed(MininovaException):
    msg_fmt = "Device detach failed for %(device)s: %(reason)s"
