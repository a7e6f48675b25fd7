"""Request body schemas, one module per resource (mirrors
``nova/api/openstack/compute/schemas/``)."""
