"""The server's answers to its agents on the ``q-plugin`` topic (mirrors the
``RpcCallbacks`` of ``neutron/plugins/ml2/rpc.py`` and
``neutron/api/rpc/handlers/dhcp_rpc.py``).

Each method is a thin door into :class:`mininova.network.plugin.Ml2Plugin`
(its methods for the agents are in :mod:`mininova.network.plugin_agents`):
the plugin does the work, so that what an agent causes (a port going
ACTIVE, Nova's ``network-vif-plugged``) follows the same code as what the
API causes. See :mod:`mininova.network.agent_rpc` for the message list.

Neutron lets a DHCP agent create and update its port with several calls
(``create_dhcp_port``, ``update_dhcp_port``) and decides on the agent which
addresses it needs; here one call, ``setup_dhcp_port``, does it on the
server.

``get_ports`` (the metadata agent's) takes Neutron's filters, with
``fixed_ips`` as ``{"ip_address": [ip], "subnet_id": [id]}``; each list may
hold one value (all the agent sends), as the plugin matches every key of
an entry against one address.
"""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class PluginRpcCallbacks:
    NOT_RPC = frozenset()

    def __init__(self, plugin):
        self._plugin = plugin

    # --- the L2 agents ------------------------------------------------------------

    def get_devices_details_list(self, context, devices, agent_id, host):
        return [self._plugin.get_device_details(device, host) for device in devices]

    def update_device_up(self, context, device, agent_id, host):
        LOG.debug("Device %s up at agent %s", device, agent_id)
        return {"device": device,
                "exists": self._plugin.update_device_status(device, host, up=True)}

    def update_device_down(self, context, device, agent_id, host):
        LOG.debug("Device %s no longer exists at agent %s", device, agent_id)
        return {"device": device,
                "exists": self._plugin.update_device_status(device, host, up=False)}

    def count_ports_bound_to_host(self, context, network_id, host):
        return self._plugin.count_ports_bound_to_host(network_id, host)

    def tunnel_sync(self, context, tunnel_ip, host, udp_port):
        LOG.debug("Tunnel endpoint %s of host %s (UDP port %s)", tunnel_ip, host, udp_port)
        return {"tunnels": self._plugin.tunnel_sync(tunnel_ip, host, udp_port)}

    # --- the DHCP agents ----------------------------------------------------------

    def get_active_networks(self, context, host):
        return self._plugin.get_network_ids_with_subnets()

    def get_network_info(self, context, network_id, host):
        return self._plugin.get_network_info(network_id)

    def setup_dhcp_port(self, context, network_id, host):
        return self._plugin.setup_dhcp_port(network_id, host)

    def release_dhcp_port(self, context, network_id, device_id):
        self._plugin.release_dhcp_port(network_id, device_id)

    # --- the metadata agents ------------------------------------------------------

    def get_ports(self, context, filters):
        filters = dict(filters)
        fixed_ips = _one_address_filter(filters.pop("fixed_ips", {}))
        return self._plugin.get_ports(context, filters, fixed_ips=fixed_ips)


def _one_address_filter(wanted):
    """Neutron's ``{"ip_address": [ip]}`` as the plugin's ``[{"ip_address": ip}]``."""
    if not wanted:
        return None
    entry = {}
    for key, values in wanted.items():
        if len(values) != 1:
            raise ValueError(f"fixed_ips filter {key}: one value expected, got {values}")
        entry[key] = values[0]
    return [entry]
