"""Hypervisor drivers (mirrors ``nova/virt/``)."""
