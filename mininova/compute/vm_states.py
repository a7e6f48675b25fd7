"""What an instance *is* (mirrors ``nova/compute/vm_states.py``).

vm_state is the stable state; task_state (task_states.py) is what is being
done to it right now. The API's ``status`` is derived from the two
(``mininova/api/openstack/common.py``).
"""

ACTIVE = "active"        # running, or at least powered on
BUILDING = "building"    # not yet booted for the first time
PAUSED = "paused"        # vCPUs stopped, memory kept in RAM
SUSPENDED = "suspended"  # memory saved to disk, guest stopped
STOPPED = "stopped"      # powered off, disks kept
RESCUED = "rescued"
RESIZED = "resized"      # resized, waiting for confirm or revert
DELETED = "deleted"
ERROR = "error"
