"""Names of the actions recorded in os-instance-actions (mirrors
``nova/compute/instance_actions.py``): one row per user request, written
by the API (or the conductor, for a create) before the work starts."""

CREATE = "create"
DELETE = "delete"
STOP = "stop"
START = "start"
REBOOT = "reboot"
PAUSE = "pause"
UNPAUSE = "unpause"
SUSPEND = "suspend"
RESUME = "resume"
REBUILD = "rebuild"
RESIZE = "resize"
CONFIRM_RESIZE = "confirmResize"
REVERT_RESIZE = "revertResize"
MIGRATE = "migrate"
CREATE_IMAGE = "createImage"
