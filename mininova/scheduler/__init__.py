"""The scheduler service (mirrors ``nova/scheduler/``)."""
