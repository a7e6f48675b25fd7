"""The host's network devices, bridges, dnsmasq and iptables (mirrors ``neutron/agent/linux/``)."""
