"""Options of mininova-network, the Neutron-like network service.

Neutron spreads them over ``neutron.conf`` (the server), ``dhcp_agent.ini``
and ``linuxbridge_agent.ini``; mininova keeps one file with a group per
part, named as the Neutron file's section or option where there is one:

- ``[network]``: the server (Neutron's ``[DEFAULT]`` of neutron.conf) and
  which agents run inside the mininova-network process;
- ``[dhcp]``: the DHCP agent (``dhcp_agent.ini``);
- ``[agent]``: the linux bridge L2 agent (``linuxbridge_agent.ini``'s
  ``[agent]``);
- ``[nova]``: how the server reaches Nova to send it external events
  (neutron.conf's ``[nova]``: keystoneauth options of a service user).
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

network_group = cfg.OptGroup(
    "network", title="mininova-network (the Neutron-like service) options")

network_opts = [
    cfg.StrOpt("bind_host", default="0.0.0.0",
               help="IP address mininova-network listens on."),
    cfg.PortOpt("bind_port", default=9696,
                help="Port mininova-network listens on (Neutron's 9696)."),
    cfg.IntOpt("api_workers", default=8, min=1,
               help="Threads of its WSGI server."),
    cfg.StrOpt(
        "connection",
        default="sqlite:///$state_path/network.sqlite",
        secret=True,
        help="SQLAlchemy URL of the network service's own database: like "
        "Neutron, it does not share Nova's.",
    ),
    cfg.StrOpt(
        "base_mac",
        default="fa:16:3e:00:00:00",
        help="The first three octets are kept in every MAC address the "
        "service makes up for a port (Neutron's base_mac); the other three "
        "are random.",
    ),
    cfg.IntOpt("mac_generation_retries", default=16, min=1,
               help="How many random MACs are tried before a port create fails "
               "because each one was taken on the network."),
    cfg.StrOpt(
        "dns_domain",
        default="openstacklocal",
        help="Domain of the host names the DHCP server gives "
        "(``host-10-0-0-5.openstacklocal``), as Neutron's dns_domain.",
    ),
    cfg.IntOpt("global_physnet_mtu", default=1500, min=68,
               help="MTU of every network (no tunnels yet, so no overhead to "
               "take off)."),
    cfg.BoolOpt(
        "notify_nova_on_port_status_changes",
        default=True,
        help="Send Nova network-vif-plugged when a port goes ACTIVE and "
        "network-vif-unplugged when it goes DOWN again.",
    ),
    cfg.BoolOpt(
        "notify_nova_on_port_data_changes",
        default=True,
        help="Send Nova network-changed when a server's port is updated "
        "through the API and network-vif-deleted when it is deleted.",
    ),
    cfg.FloatOpt(
        "send_events_interval",
        default=0.2,
        min=0,
        help="After sending Nova a batch of events, wait this many seconds "
        "and send what came meanwhile as the next batch (the first event "
        "goes at once). Neutron's default is 2: mininova's boots take "
        "seconds, and the network-changed of Nova's own binding update would "
        "hold the network-vif-plugged a booting guest waits for that long.",
    ),
    cfg.BoolOpt(
        "run_dhcp_agent",
        default=True,
        help="Run the DHCP agent inside mininova-network: dnsmasq per network "
        "in a qdhcp- namespace, and each subnet's gateway address on the "
        "network's bridge so that this host reaches the guests. Needs root.",
    ),
    cfg.BoolOpt(
        "run_l2_agent",
        default=True,
        help="Run the linux bridge L2 agent inside mininova-network (what "
        "mininova-network-agent runs alone on another compute host): it "
        "notices tap devices and reports their ports up. Needs root.",
    ),
]

# Neutron's [QUOTAS] options, kept in [network] here; -1 is no limit.
quota_opts = [
    cfg.IntOpt("quota_network", default=100, min=-1, help="Networks a project may have."),
    cfg.IntOpt("quota_subnet", default=100, min=-1, help="Subnets a project may have."),
    cfg.IntOpt("quota_port", default=500, min=-1, help="Ports a project may have."),
    cfg.IntOpt("quota_security_group", default=10, min=-1,
               help="Security groups a project may have."),
    cfg.IntOpt("quota_security_group_rule", default=100, min=-1,
               help="Security group rules a project may have."),
]
network_opts += quota_opts

dhcp_group = cfg.OptGroup("dhcp", title="The DHCP agent (Neutron's dhcp_agent.ini)")

dhcp_opts = [
    cfg.StrOpt("dhcp_confs", default="$state_path/dhcp",
               help="Directory of dnsmasq's files, one directory per network."),
    cfg.IntOpt("dhcp_lease_duration", default=86400, min=-1,
               help="DHCP lease time in seconds; -1: infinite."),
    cfg.ListOpt("dnsmasq_dns_servers", default=[],
                help="Upstream DNS servers dnsmasq forwards to. Empty (the "
                "default): dnsmasq answers only the network's own names and "
                "forwards nothing, so no query leaves the host."),
    cfg.BoolOpt(
        "enable_isolated_metadata",
        default=False,
        help="Give guests a route to 169.254.169.254 through the DHCP port's "
        "address (DHCP option 121), for a metadata proxy in the qdhcp- "
        "namespace. mininova runs no such proxy yet: leave it off.",
    ),
    cfg.IntOpt("resync_interval", default=5, min=1,
               help="Seconds between two tries to bring a network's DHCP in "
               "line after a failure, and between full checks."),
]

agent_group = cfg.OptGroup("agent", title="The linux bridge L2 agent "
                                          "(linuxbridge_agent.ini's [agent])")

agent_opts = [
    cfg.FloatOpt("polling_interval", default=2.0, min=0.1,
                 help="Seconds between two scans of the host's tap devices "
                 "(Neutron's default)."),
    cfg.BoolOpt(
        "watch_netlink",
        default=True,
        help="Also scan at once when the kernel announces a link change "
        "(``ip monitor link``), instead of waiting for the next poll: a "
        "booting guest waits for its port to go ACTIVE.",
    ),
]

nova_group = cfg.OptGroup("nova", title="How mininova-network reaches Nova "
                                        "(neutron.conf's [nova])")

nova_opts = [
    cfg.StrOpt(
        "noauth_token",
        default="neutron:service",
        help="With [api] auth_strategy = noauth2: the token sent to Nova "
        "(user:project), with the role 'service' in X-Roles, which the compute "
        "API's os-server-external-events policy (service_or_admin) accepts.",
    ),
]


def register_opts(conf):
    for group, opts in ((network_group, network_opts), (dhcp_group, dhcp_opts),
                        (agent_group, agent_opts), (nova_group, nova_opts)):
        conf.register_group(group)
        conf.register_opts(opts, group=group)
    # The service user and the compute endpoint, keystoneauth's way:
    # auth_type/auth_url/username/... plus endpoint_override, region_name,
    # valid_interfaces. Unset endpoint_override: the Keystone catalog's
    # 'compute' endpoint (noauth2 has no catalog: see notifiers/nova.py).
    ks_loading.register_session_conf_options(conf, nova_group.name)
    ks_loading.register_auth_conf_options(conf, nova_group.name)
    ks_loading.register_adapter_conf_options(conf, nova_group.name)


def list_opts():
    return {
        network_group.name: network_opts,
        dhcp_group.name: dhcp_opts,
        agent_group.name: agent_opts,
        nova_group.name: (nova_opts
                          + ks_loading.get_session_conf_options()
                          + ks_loading.get_auth_common_conf_options()
                          + ks_loading.get_auth_plugin_conf_options("password")
                          + ks_loading.get_adapter_conf_options()),
    }
