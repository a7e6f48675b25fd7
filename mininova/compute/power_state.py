"""The hypervisor's view of a guest (mirrors ``nova/compute/power_state.py``).

The numbers are Nova's, shown as ``OS-EXT-STS:power_state`` in the API.
"""

NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7

STATE_MAP = {
    NOSTATE: "pending",
    RUNNING: "running",
    PAUSED: "paused",
    SHUTDOWN: "shutdown",
    CRASHED: "crashed",
    SUSPENDED: "suspended",
}
