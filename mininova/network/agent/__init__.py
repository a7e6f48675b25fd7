"""The agents: what runs on the hosts (mirrors ``neutron/agent/`` and the linux bridge agent)."""
