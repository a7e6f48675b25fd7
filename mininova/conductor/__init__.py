"""The conductor service (mirrors ``nova/conductor/``)."""
