"""The ``mininova`` command (mirrors python-novaclient)."""
