"""Entry points of the daemons and tools (mirrors ``nova/cmd/``)."""
