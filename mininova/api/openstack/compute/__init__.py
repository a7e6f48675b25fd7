"""The compute API's resources, one blueprint per module (mirrors
``nova/api/openstack/compute/``)."""
