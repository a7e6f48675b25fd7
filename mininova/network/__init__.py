"""mininova-network: a small network service standing for Neutron with the
ML2 plugin and the linux bridge mechanism. docs/networking.md has the whole
picture and the contract with Nova's side. Each module, and the Neutron
module it mirrors:

The server (``neutron-server``):

- ``api/app.py``: routes, versions, extensions, error bodies
  (``neutron/api/v2/router.py``, ``neutron/api/api_common.py``);
- ``api/base.py``: the generic controller: bodies, policy, views
  (``neutron/api/v2/base.py``);
- ``api/attributes.py``: each resource's attributes and validators
  (``neutron_lib/api/definitions/``, ``neutron_lib/api/validators``);
- ``policy.py``: who may do what, per action and per attribute
  (``neutron/policy.py``, ``neutron/conf/policies/``);
- ``plugin.py``: networks, subnets, ports, binding, port status
  (``neutron/db/db_base_plugin_v2.py``, ``neutron/plugins/ml2/plugin.py``),
  with its mixins:

  - ``ipam_backend.py``: a subnet's pools, a port's fixed IPs
    (``neutron/db/ipam_backend_mixin.py``, ``ipam_pluggable_backend.py``);
  - ``securitygroups_db.py``: security groups, stored and listed
    (``neutron/db/securitygroups_db.py``);
  - ``plugin_agents.py``: what the agents ask of the plugin (the work
    behind ``neutron/plugins/ml2/rpc.py`` and ``dhcp_rpc.py``);
- ``ipam.py``: which addresses a port may get (``neutron/ipam/``);
- ``type_vxlan.py``: a network's VNI and the agents' tunnel endpoints
  (``neutron/plugins/ml2/drivers/type_vxlan.py``, ``type_tunnel.py``);
- ``models.py``, ``db.py``: the tables and their dicts
  (``neutron/db/models_v2.py``, ``db_base_plugin_common.py``);
- ``notifiers/nova.py``: external events to Nova (``neutron/notifiers/nova.py``);
- ``plugin_rpc.py``: the server's answers to its agents
  (``neutron/plugins/ml2/rpc.py``, ``neutron/api/rpc/handlers/dhcp_rpc.py``).

Between them, ``agent_rpc.py``: the messages, topics and exchange
(``neutron/agent/rpc.py``, the agent notifiers).

The agents (``neutron-linuxbridge-agent``, ``neutron-dhcp-agent``,
``neutron-metadata-agent``):

- ``agent/linuxbridge.py``: taps, bridges, ports up and down, VXLAN
  devices and their peers (``linuxbridge_neutron_agent.py``,
  ``_common_agent.py``);
- ``agent/dhcp.py``: the DHCP agent (``neutron/agent/dhcp/agent.py``);
- ``linux/dhcp.py``: dnsmasq and the qdhcp- namespace
  (``neutron/agent/linux/dhcp.py``);
- ``agent/metadata_driver.py``: starting and stopping a network's
  metadata proxy (``neutron/agent/metadata/driver.py``);
- ``agent/metadata_proxy.py``: the proxy process in a qdhcp- namespace,
  on 169.254.169.254:80 (the pre-Pike
  ``neutron/agent/metadata/namespace_proxy.py``);
- ``agent/metadata.py``: the metadata agent on its unix socket: the
  guest's port, the signed request to Nova's metadata API
  (``neutron/agent/metadata/agent.py``);
- ``agent/host_gateway.py``: the gateway address on the host (stands for a
  router's ``qr-`` port);
- ``linux/isolation.py``: the forwarding-drop rules (stands for having no
  router: nothing is routed);
- ``linux/ip_lib.py``, ``linux/bridge_lib.py``: ``ip`` commands
  (``neutron/agent/linux/ip_lib.py``, ``bridge_lib.py``).

``service.py`` puts the server and, on one host, its agents in one process.
"""
