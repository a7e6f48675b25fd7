"""The Networking API v2.0 (mirrors ``neutron/api/``)."""
