"""Options of mininova-network, the Neutron-like network service.

Neutron spreads them over ``neutron.conf`` (the server), ``dhcp_agent.ini``
and ``linuxbridge_agent.ini``; mininova keeps one file with a group per
part, named as the Neutron file's section or option where there is one:

- ``[network]``: the server (Neutron's ``[DEFAULT]`` of neutron.conf) and
  which agents run inside the mininova-network process;
- ``[dhcp]``: the DHCP agent (``dhcp_agent.ini``);
- ``[agent]``: the linux bridge L2 agent (``linuxbridge_agent.ini``'s
  ``[agent]``);
- ``[vxlan]``: the L2 agent's tunnels (``linuxbridge_agent.ini``'s
  ``[vxlan]``): its ``local_ip``;
- ``[ml2_type_vxlan]``: the server's VXLAN type driver (``ml2_conf.ini``'s
  section): the VNIs it may give networks;
- ``[metadata_agent]``: the metadata agent (``metadata_agent.ini``'s
  ``[DEFAULT]``): where Nova's metadata API is, the secret it signs with,
  the unix socket the namespaces' proxies reach it on;
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
               help="MTU of the physical network under the guests. A local "
               "network gets this MTU; a vxlan network 50 bytes less (the "
               "VXLAN, UDP, IPv4 and Ethernet headers of IPv4 tunnels), as "
               "Neutron's type drivers compute it."),
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
    cfg.BoolOpt(
        "run_metadata_agent",
        default=True,
        help="Run the metadata agent inside mininova-network: it answers the "
        "metadata proxies of the qdhcp- namespaces on [metadata_agent] "
        "metadata_proxy_socket and passes their guests' requests on to Nova's "
        "metadata API, signed. Only used with [dhcp] enable_isolated_metadata.",
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
        help="Serve Nova's metadata (http://169.254.169.254/openstack/...) to "
        "the guests of networks with DHCP, as Neutron's isolated metadata: the "
        "DHCP port's device gets 169.254.169.254/32, guests a route to it "
        "through the DHCP port's address (DHCP option 121), and a metadata "
        "proxy listens on 169.254.169.254:80 in the qdhcp- namespace, passing "
        "requests to the metadata agent ([network] run_metadata_agent).",
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

vxlan_group = cfg.OptGroup("vxlan", title="The L2 agent's VXLAN tunnels "
                                          "(linuxbridge_agent.ini's [vxlan])")

vxlan_opts = [
    cfg.IPOpt(
        "local_ip",
        version=4,
        help="This host's address on the network between the hosts (the "
        "tunnel endpoint). Set: the L2 agent reports it to the server and "
        "joins each vxlan network's bridge to a vxlan-<VNI> device that "
        "reaches every other agent's address. Unset (the default): no "
        "tunnels, every network stays on this host, as on a single host.",
    ),
    cfg.PortOpt("udp_dstport", default=4789,
                help="UDP port of the VXLAN tunnels (IANA's 4789; every host "
                "must use the same)."),
    cfg.IntOpt("ttl", default=None, min=1, max=255,
               help="TTL of the tunnels' packets (unset: the kernel's)."),
]

ml2_type_vxlan_group = cfg.OptGroup(
    "ml2_type_vxlan", title="The server's VXLAN type driver (ml2_conf.ini's [ml2_type_vxlan])")

ml2_type_vxlan_opts = [
    cfg.ListOpt(
        "vni_ranges",
        default=[],
        help="Comma-separated <first>:<last> ranges of VXLAN network "
        "identifiers (VNIs) given to new networks, e.g. 1:1000 (devstack's). "
        "Set: every network created gets provider:network_type vxlan and the "
        "lowest free VNI, and its MTU is global_physnet_mtu - 50. Empty (the "
        "default): networks are 'local', as on a single host.",
    ),
]

metadata_agent_group = cfg.OptGroup(
    "metadata_agent", title="The metadata agent (Neutron's metadata_agent.ini)")

metadata_agent_opts = [
    cfg.HostAddressOpt("nova_metadata_host", default="127.0.0.1",
                       help="Host of Nova's metadata API (Neutron's default)."),
    cfg.PortOpt("nova_metadata_port", default=8775,
                help="Port of Nova's metadata API (Neutron's and Nova's 8775)."),
    cfg.StrOpt("nova_metadata_protocol", default="http", choices=["http"],
               help="Protocol of Nova's metadata API. Neutron also speaks https "
               "(with its CA and client certificate options); mininova only http."),
    cfg.StrOpt(
        "metadata_proxy_shared_secret",
        default="",
        secret=True,
        help="The secret the agent signs each request's instance id with "
        "(X-Instance-ID-Signature, an HMAC-SHA256): Nova's [neutron] "
        "metadata_proxy_shared_secret must be the same, or Nova answers 403.",
    ),
    cfg.StrOpt("metadata_proxy_socket", default="$state_path/metadata_proxy",
               help="Unix socket the metadata agent listens on, and the "
               "metadata proxies in the qdhcp- namespaces send to."),
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
                        (agent_group, agent_opts), (vxlan_group, vxlan_opts),
                        (ml2_type_vxlan_group, ml2_type_vxlan_opts),
                        (metadata_agent_group, metadata_agent_opts),
                        (nova_group, nova_opts)):
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
        vxlan_group.name: vxlan_opts,
        ml2_type_vxlan_group.name: ml2_type_vxlan_opts,
        metadata_agent_group.name: metadata_agent_opts,
        nova_group.name: (nova_opts
                          + ks_loading.get_session_conf_options()
                          + ks_loading.get_auth_common_conf_options()
                          + ks_loading.get_auth_plugin_conf_options("password")
                          + ks_loading.get_adapter_conf_options()),
    }
