"""Names of the actions recorded in os-instance-actions (mirrors
``nova/compute/instance_actions.py``)."""

CREATE = "create"
DELETE = "delete"
STOP = "stop"
START = "start"
REBOOT = "reboot"
PAUSE = "pause"
UNPAUSE = "unpause"
SUSPEND = "suspend"
RESUME = "resume"
