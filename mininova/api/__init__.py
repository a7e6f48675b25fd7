"""The REST API service (mirrors ``nova/api/``)."""
