"""Telling Nova about ports (mirrors ``neutron/notifiers/``)."""
