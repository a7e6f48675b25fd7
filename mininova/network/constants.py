"""The network service's vocabulary (mirrors ``neutron_lib/constants.py`` and
``neutron_lib/api/definitions/portbindings.py``).

These strings are what a student sees in the API and on the host, so they
are Neutron's exactly.
"""

# A port's status: DOWN until the L2 agent of its host reports its device up.
PORT_STATUS_ACTIVE = "ACTIVE"
PORT_STATUS_DOWN = "DOWN"
PORT_STATUS_BUILD = "BUILD"
PORT_STATUS_ERROR = "ERROR"
# A network's status never changes here: there is nothing to build.
NET_STATUS_ACTIVE = "ACTIVE"

# Who uses a port. Nova sets "compute:<availability zone>"; the DHCP agent
# makes its own port "network:dhcp".
DEVICE_OWNER_COMPUTE_PREFIX = "compute:"
DEVICE_OWNER_NETWORK_PREFIX = "network:"
DEVICE_OWNER_DHCP = "network:dhcp"

# Port binding (the "binding" extension): the host a port is bound to and
# what its VIF is. "unbound" before a host is set; "bridge" once bound by
# the linux bridge mechanism driver; "binding_failed" when no mechanism
# driver could bind it (never here: every host can bind a bridge port).
VIF_TYPE_UNBOUND = "unbound"
VIF_TYPE_BRIDGE = "bridge"
VIF_TYPE_BINDING_FAILED = "binding_failed"
VNIC_NORMAL = "normal"
# Keys of binding:vif_details.
CAP_PORT_FILTER = "port_filter"
VIF_DETAILS_CONNECTIVITY = "connectivity"
VIF_DETAILS_BRIDGE_NAME = "bridge_name"
CONNECTIVITY_L2 = "l2"

# Device names on the host. Linux allows 15 characters, so Neutron keeps
# the first 11 characters of the UUID after a 3-character prefix (14 in all).
DEVICE_NAME_MAX_LEN = 15
RESOURCE_ID_LENGTH = 11
TAP_DEVICE_PREFIX = "tap"      # a VIF's tap, and the root end of a DHCP veth
BRIDGE_NAME_PREFIX = "brq"     # one bridge per network
DHCP_NS_DEVICE_PREFIX = "ns-"  # the namespace end of the DHCP veth
DHCP_NAMESPACE_PREFIX = "qdhcp-"

# DHCP, as Neutron's dnsmasq driver writes it.
HOSTNAME_PREFIX = "host-"
METADATA_CIDR = "169.254.169.254/32"

IP_VERSION_4 = 4
NETWORK_TYPE_LOCAL = "local"     # one host's bridge only
NETWORK_TYPE_VXLAN = "vxlan"     # the bridges of every host, joined by VXLAN
VXLAN_DEVICE_PREFIX = "vxlan-"   # vxlan-<VNI>, the linux bridge agent's name
TUNNEL_TYPE_VXLAN = "vxlan"

# RPC between the server and its agents (Neutron's topics, on Neutron's
# exchange, apart from Nova's messages).
CONTROL_EXCHANGE = "neutron"
TOPIC_PLUGIN = "q-plugin"                    # agents -> server (calls)
TOPIC_AGENT_NOTIFIER = "q-agent-notifier"    # server -> L2 agents (fanout)
TOPIC_DHCP_AGENT = "dhcp_agent"              # server -> DHCP agents (fanout)
TOPIC_TUNNEL_UPDATE = "q-agent-notifier-tunnel-update"   # server -> L2 agents (fanout)

# Events Nova accepts at os-server-external-events.
VIF_PLUGGED = "network-vif-plugged"
VIF_UNPLUGGED = "network-vif-unplugged"
VIF_DELETED = "network-vif-deleted"
NETWORK_CHANGED = "network-changed"
