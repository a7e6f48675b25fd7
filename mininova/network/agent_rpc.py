"""The messages between the server and its agents, over mininova's RPC on
Neutron's exchange (``neutron``) and topics (mirrors ``neutron/agent/rpc.py``,
the ``AgentNotifierApi`` of ``neutron/plugins/ml2/rpc.py`` and
``neutron/api/rpc/agentnotifiers/dhcp_rpc_agent_api.py``).

Why RPC, as Neutron, rather than the REST API: an agent is part of the
service, not a client. It needs things no API user may do (set a port's
status, find a port from a device name, see every port of a network), it
must work without a Keystone token of its own, and on another host (issue
15) it gets the broker URL and never the database's.

Three directions, three topics:

``q-plugin`` (agents call the server; :mod:`mininova.network.plugin_rpc`):
    ``get_devices_details_list(devices, agent_id, host)``,
    ``update_device_up(device, agent_id, host)``,
    ``update_device_down(device, agent_id, host)``,
    ``count_ports_bound_to_host(network_id, host)``,
    ``tunnel_sync(tunnel_ip, host, udp_port)`` (an agent's VXLAN address; the
    answer: every agent's);
    for the DHCP agent: ``get_active_networks(host)``,
    ``get_network_info(network_id, host)``, ``setup_dhcp_port(network_id, host)``,
    ``release_dhcp_port(network_id, device_id)``;
    for the metadata agent: ``get_ports(filters)`` (Neutron's
    ``MetadataPluginAPI``), e.g. the port holding a guest's address.

``q-agent-notifier`` (server casts to every L2 agent, fanout):
    ``network_delete(network_id)``, ``port_update(port)``,
    ``port_delete(port_id, network_id)``.

``q-agent-notifier-tunnel-update`` (server casts to every L2 agent, fanout):
    ``tunnel_update(tunnel_ip, tunnel_type, host, replaced)``: another
    agent's tunnel address (and the one it replaces).

``dhcp_agent`` (server casts to every DHCP agent, fanout):
    ``network_create_end``, ``network_update_end``, ``network_delete_end``,
    ``subnet_create_end``, ``subnet_update_end``, ``subnet_delete_end``,
    ``port_create_end``, ``port_update_end``, ``port_delete_end``; each
    names the network (and port), and the agent fetches the network again.
"""

from mininova import context as mn_context
from mininova import rpc
from mininova.network import constants


def _transport():
    return rpc.get_transport(exchange=constants.CONTROL_EXCHANGE)


class PluginApi:
    """What an agent asks the server (Neutron's ``PluginApi``)."""

    def __init__(self, timeout=None):
        self.client = rpc.RPCClient(constants.TOPIC_PLUGIN, timeout=timeout,
                                    transport=_transport())

    def get_devices_details_list(self, context, devices, agent_id, host):
        return self.client.call(context, "get_devices_details_list", devices=list(devices),
                                agent_id=agent_id, host=host)

    def update_device_up(self, context, device, agent_id, host):
        return self.client.call(context, "update_device_up", device=device,
                                agent_id=agent_id, host=host)

    def update_device_down(self, context, device, agent_id, host):
        return self.client.call(context, "update_device_down", device=device,
                                agent_id=agent_id, host=host)

    def count_ports_bound_to_host(self, context, network_id, host):
        return self.client.call(context, "count_ports_bound_to_host",
                                network_id=network_id, host=host)

    def tunnel_sync(self, context, tunnel_ip, host, udp_port):
        return self.client.call(context, "tunnel_sync", tunnel_ip=tunnel_ip, host=host,
                                udp_port=udp_port)

    # The DHCP agent's (Neutron's DhcpPluginApi).

    def get_active_networks(self, context, host):
        return self.client.call(context, "get_active_networks", host=host)

    def get_network_info(self, context, network_id, host):
        return self.client.call(context, "get_network_info", network_id=network_id, host=host)

    def setup_dhcp_port(self, context, network_id, host):
        return self.client.call(context, "setup_dhcp_port", network_id=network_id, host=host)

    def release_dhcp_port(self, context, network_id, device_id):
        return self.client.call(context, "release_dhcp_port", network_id=network_id,
                                device_id=device_id)

    # The metadata agent's (Neutron's MetadataPluginAPI).

    def get_ports(self, context, filters):
        """Ports matching ``filters``: ``{column: [values]}``, and
        ``"fixed_ips": {"ip_address": [ip]}`` as Neutron's agent sends it."""
        return self.client.call(context, "get_ports", filters=filters)


class AgentNotifierApi:
    """What the server tells every L2 agent (fanout casts)."""

    def __init__(self):
        self.client = rpc.RPCClient(constants.TOPIC_AGENT_NOTIFIER, fanout=True,
                                    transport=_transport())
        # Neutron's topic for it (q-agent-notifier-tunnel-update): an agent
        # without tunnels does not listen to it.
        self._tunnel_client = rpc.RPCClient(constants.TOPIC_TUNNEL_UPDATE, fanout=True,
                                            transport=_transport())

    def network_delete(self, context, network_id):
        self.client.cast(context, "network_delete", network_id=network_id)

    def port_update(self, context, port):
        self.client.cast(context, "port_update", port=port)

    def port_delete(self, context, port_id, network_id):
        self.client.cast(context, "port_delete", port_id=port_id, network_id=network_id)

    def tunnel_update(self, context, tunnel_ip, tunnel_type, host, replaced=None):
        self._tunnel_client.cast(context or mn_context.get_admin_context(), "tunnel_update",
                                 tunnel_ip=tunnel_ip, tunnel_type=tunnel_type, host=host,
                                 replaced=replaced)


class DhcpAgentNotifyApi:
    """What the server tells every DHCP agent (fanout casts). Neutron casts
    to the agents its scheduler gave the network to; mininova has no DHCP
    scheduler, so every DHCP agent serves every network."""

    def __init__(self):
        self.client = rpc.RPCClient(constants.TOPIC_DHCP_AGENT, fanout=True,
                                    transport=_transport())

    def _notify(self, context, method, network_id, **kwargs):
        self.client.cast(context, method, network_id=network_id, **kwargs)

    def network_create_end(self, context, network_id):
        self._notify(context, "network_create_end", network_id)

    def network_update_end(self, context, network_id):
        self._notify(context, "network_update_end", network_id)

    def network_delete_end(self, context, network_id):
        self._notify(context, "network_delete_end", network_id)

    def subnet_create_end(self, context, network_id):
        self._notify(context, "subnet_create_end", network_id)

    def subnet_update_end(self, context, network_id):
        self._notify(context, "subnet_update_end", network_id)

    def subnet_delete_end(self, context, network_id):
        self._notify(context, "subnet_delete_end", network_id)

    def port_create_end(self, context, network_id, port_id):
        self._notify(context, "port_create_end", network_id, port_id=port_id)

    def port_update_end(self, context, network_id, port_id):
        self._notify(context, "port_update_end", network_id, port_id=port_id)

    def port_delete_end(self, context, network_id, port_id):
        self._notify(context, "port_delete_end", network_id, port_id=port_id)


def rpc_server(topic, host, endpoints):
    """An RPC server on Neutron's exchange (``topic``, ``topic.host``, fanout)."""
    return rpc.RPCServer(topic, host, endpoints, transport=_transport())
