"""View builders: database rows to API bodies (mirrors
``nova/api/openstack/compute/views/``)."""
