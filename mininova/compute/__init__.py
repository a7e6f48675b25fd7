"""The compute service (mirrors ``nova/compute/``)."""
