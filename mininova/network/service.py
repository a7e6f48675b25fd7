"""The mininova-network process: the server and the agents it runs
(stands for ``neutron-server`` with ML2, plus, on this one host,
``neutron-dhcp-agent``, ``neutron-linuxbridge-agent`` and
``neutron-metadata-agent``).

What runs, and how the parts talk::

    clients, Nova ──HTTP :9696──► API (api/app.py) ──► Ml2Plugin (plugin.py) ──► its database
                                                          │  ▲
                   RPC (exchange "neutron")    casts:     │  │ calls: q-plugin
                   dhcp_agent, q-agent-notifier (fanout)  ▼  │ (plugin_rpc.py)
                                              DHCP agent, L2 agent, metadata agent (agent/)
                                                          │
                   Ml2Plugin ──HTTP──► Nova's os-server-external-events
                   metadata agent ──HTTP──► Nova's metadata API (:8775)

The agents run in this process when ``[network] run_dhcp_agent``,
``run_l2_agent`` and ``run_metadata_agent`` say so (the default: one host,
one process); they use the same RPC as when they run elsewhere, so
``mininova-network-agent`` can run the L2 agent alone on another compute
host.
"""

from mininova import service
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.network import agent_rpc, constants, models, plugin, plugin_rpc
from mininova.network.agent import dhcp, linuxbridge, metadata
from mininova.network.api import app
from mininova.network.notifiers import nova


class NetworkService:
    def __init__(self, port=None, connection=None, agents=None):
        """``agents``: None for what the configuration says, or a list."""
        engine = db_api.get_engine(connection or CONF.network.connection)
        models.create_tables(engine)
        self.plugin = plugin.Ml2Plugin(engine, nova.NovaNotifier(),
                                       agent_rpc.AgentNotifierApi(),
                                       agent_rpc.DhcpAgentNotifyApi())
        self.wsgi = service.WSGIService(
            "mininova-network", app.create_app(self.plugin), CONF.network.bind_host,
            CONF.network.bind_port if port is None else port, CONF.network.api_workers)
        self.port = self.wsgi.port
        self.rpc_server = agent_rpc.rpc_server(constants.TOPIC_PLUGIN, CONF.host,
                                               [plugin_rpc.PluginRpcCallbacks(self.plugin)])
        if agents is None:
            agents = []
            if CONF.network.run_l2_agent:
                agents.append(linuxbridge.LinuxBridgeAgent())
            if CONF.network.run_metadata_agent:
                # Before the DHCP agent, whose proxies send to it.
                agents.append(metadata.MetadataAgent())
            if CONF.network.run_dhcp_agent:
                agents.append(dhcp.DhcpAgent())
        self.agents = agents

    def start(self):
        # The server answers its agents before they ask anything.
        self.rpc_server.start()
        self.wsgi.start()
        for agent in self.agents:
            agent.start()
        return self

    def stop(self):
        for agent in reversed(self.agents):
            agent.stop()
        self.wsgi.stop()
        self.rpc_server.stop()
