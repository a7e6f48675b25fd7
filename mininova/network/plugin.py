"""The core plugin: what creating, changing and deleting networks, subnets
and ports means (mirrors ``neutron/db/db_base_plugin_v2.py`` and
``neutron/plugins/ml2/plugin.py`` with the linux bridge mechanism driver,
``neutron/plugins/ml2/drivers/linuxbridge/mech_driver/mech_linuxbridge.py``).

As Neutron's core plugin is, :class:`Ml2Plugin` is made of mixins, each
concept in a file of its own:

- the addresses: a subnet's gateway and pools, a port's fixed IPs
  (:mod:`mininova.network.ipam_backend`; Neutron's
  ``ipam_backend_mixin.py`` and ``ipam_pluggable_backend.py``);
- security groups, each project's ``default`` one and a port's
  (:mod:`mininova.network.securitygroups_db`; ``securitygroups_db.py``);
- what the agents ask through :mod:`mininova.network.plugin_rpc`: device
  details and status, the DHCP port, tunnel endpoints
  (:mod:`mininova.network.plugin_agents`).

This file keeps networks, subnets and ports themselves, a port's MAC and
its binding. An operation whose transaction lost a race runs again
(:func:`mininova.network.db.retry_db_errors`).

The REST controllers (:mod:`mininova.network.api`) have already checked the
request's shape and the caller's rights; this module keeps the rules of
the resources themselves (an address is given once, a network with
servers' ports cannot go, a bound port is a ``bridge`` VIF...) in one
database transaction per operation, and *after* the transaction tells
the others what changed:

- the DHCP agents (``dhcp_agent`` fanout: ``port_create_end``...), which
  rewrite dnsmasq's hosts file;
- the L2 agents (``q-agent-notifier`` fanout: ``network_delete``,
  ``port_update``, ``port_delete``), which tidy their bridges;
- Nova (:mod:`mininova.network.notifiers.nova`): ``network-vif-plugged`` when
  an agent reports a server's port up, ``network-changed`` when a server's
  port is updated, ``network-vif-deleted`` when it is deleted.

Binding (ML2 with only the linux bridge mechanism driver): setting
``binding:host_id`` binds the port at once to that host as ``binding:vif_type
= bridge`` with ``binding:vif_details = {"port_filter": true,
"connectivity": "l2", "bridge_name": "brq<network id[:11]>"}``. Neutron
binds only when a live linux bridge agent reported from that host (else
``binding_failed``); mininova keeps no agents table and binds any host.
Neutron puts ``bridge_name`` in vif_details only for mapped physical
networks; mininova always does, so Nova's side never computes it.

``port_filter: true`` tells Nova (and os-vif) that the network service
owns the port's traffic filtering, so os-vif installs no iptables rules of
its own for the bridge. mininova does not filter by security group: the
rules are stored and listed, **not enforced**. What it does enforce is on
the host: no forwarding from its bridges to anywhere else
(:mod:`mininova.network.linux.isolation`).

A port's status: ``DOWN`` when created; ``BUILD`` once the L2 agent of its
host asked for its details (it found the tap); ``ACTIVE`` once that agent
reported the device up; ``DOWN`` again when the tap goes away or the port
is bound elsewhere.

Segments (ML2's type drivers, :mod:`mininova.network.type_vxlan`): with
``[ml2_type_vxlan] vni_ranges`` set, each new network is ``vxlan`` with its
own VNI (``provider:network_type``, ``provider:segmentation_id``, shown to
admins), and the L2 agents' ``tunnel_sync`` tells them each other's tunnel
addresses; otherwise ``local``.

Left out: bulk creates, IPv6, subnet pools, several segments per network,
provider networks chosen by an admin (``provider:*`` in a POST), routers
and floating IPs, allowed address pairs, extra DHCP options, port
security, quotas, agent scheduling (every DHCP agent serves every
network).
"""

import ipaddress
import uuid

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from mininova.network import (
    constants,
    db,
    exceptions,
    ipam,
    ipam_backend,
    plugin_agents,
    securitygroups_db,
    type_vxlan,
    utils,
)
from mininova.network import models as m

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Ports the network itself owns: deleted with their network or subnet
# instead of keeping it "in use" (Neutron's AUTO_DELETE_PORT_OWNERS).
AUTO_DELETE_PORT_OWNERS = (constants.DEVICE_OWNER_DHCP,)


class NullNotifier:
    """Where notifications go when nobody listens (and in unit tests)."""

    def __getattr__(self, _name):
        return lambda *args, **kwargs: None


class Ml2Plugin(ipam_backend.IpamBackendMixin, securitygroups_db.SecurityGroupDbMixin,
                plugin_agents.AgentRequestsMixin):
    def __init__(self, engine, nova_notifier=None, agent_notifier=None, dhcp_notifier=None):
        # A wrong range stops the service at start, not at the first network.
        type_vxlan.parse_vni_ranges(CONF.ml2_type_vxlan.vni_ranges)
        self.engine = engine
        self.nova = nova_notifier or NullNotifier()
        self.agents = agent_notifier or NullNotifier()
        self.dhcp = dhcp_notifier or NullNotifier()

    def _session(self, writer=False):
        return m.session(self.engine, writer=writer)

    # --- networks ---------------------------------------------------------------

    @db.retry_db_errors
    def create_network(self, context, network):
        with self._session(writer=True) as session:
            network_id = str(uuid.uuid4())
            segment = type_vxlan.allocate_segment(session, network_id)
            network_type = segment.network_type if segment else constants.NETWORK_TYPE_LOCAL
            row = m.Network(
                id=network_id, project_id=network["project_id"],
                name=network.get("name", ""), description=network.get("description", ""),
                admin_state_up=network.get("admin_state_up", True),
                shared=network.get("shared", False),
                external=network.get("router:external", False),
                status=constants.NET_STATUS_ACTIVE, mtu=type_vxlan.network_mtu(network_type))
            session.add(row)
            session.flush()
            result = db.make_network_dicts(session, [row])[0]
        self.dhcp.network_create_end(context, result["id"])
        return result

    def get_network(self, context, network_id, fields=None):
        """The network; with ``fields``, only those attributes (Neutron's
        ``fields`` argument, with which its policy engine reads a port's or
        subnet's network for the owner check). When none of them is the
        subnets or the segment, their tables are not read: the API's policy
        target of every port request needs only the network's own row."""
        with self._session() as session:
            row = db.get_network_row(session, network_id)
            if fields is not None and not set(fields) & db.NETWORK_JOINED_FIELDS:
                network = db.network_row_dict(row)
            else:
                network = db.make_network_dicts(session, [row])[0]
        return network if fields is None else {name: network[name] for name in fields}

    def get_networks(self, context, filters=None):
        with self._session() as session:
            return db.make_network_dicts(session, db.network_rows(session, filters))

    def update_network(self, context, network_id, changes):
        with self._session(writer=True) as session:
            row = db.get_network_row(session, network_id)
            if changes.get("shared") is False and row.shared:
                self._check_unshare(session, row)
            for key, column in (("name", "name"), ("description", "description"),
                                ("admin_state_up", "admin_state_up"), ("shared", "shared"),
                                ("router:external", "external")):
                if key in changes:
                    setattr(row, column, changes[key])
            row.revision_number += 1
            session.flush()
            result = db.make_network_dicts(session, [row])[0]
        self.dhcp.network_update_end(context, network_id)
        return result

    def _check_unshare(self, session, network):
        others = sa.select(m.Port.id).where(m.Port.network_id == network.id,
                                            m.Port.project_id != network.project_id)
        if session.scalars(others).first():
            raise exceptions.InvalidSharedSetting(network=network.id)

    def delete_network(self, context, network_id):
        with self._session(writer=True) as session:
            network = db.get_network_row(session, network_id)
            ports = db.port_rows(session, {"network_id": [network_id]})
            if any(p.device_owner not in AUTO_DELETE_PORT_OWNERS for p in ports):
                raise exceptions.NetworkInUse(net_id=network_id)
            # The DHCP ports, subnets, pools and allocations go with it
            # (ON DELETE CASCADE).
            session.delete(network)
        LOG.info("Deleted network %s", network_id)
        self.dhcp.network_delete_end(context, network_id)
        self.agents.network_delete(context, network_id)

    # --- subnets ----------------------------------------------------------------

    def create_subnet(self, context, subnet):
        cidr = ipam.parse_cidr(subnet["cidr"])
        if subnet.get("ip_version", 4) != 4 or cidr.version != 4:
            raise exceptions.InvalidInput(
                error_message="mininova-network supports IPv4 subnets only")
        gateway, pools = self._subnet_addresses(cidr, subnet)
        with self._session(writer=True) as session:
            network = db.get_network_row(session, subnet["network_id"])
            self._check_no_overlap(session, network, cidr)
            row = m.Subnet(
                id=str(uuid.uuid4()), project_id=subnet["project_id"],
                network_id=network.id, name=subnet.get("name", ""),
                description=subnet.get("description", ""), ip_version=4,
                cidr=str(cidr), gateway_ip=str(gateway) if gateway else None,
                enable_dhcp=subnet.get("enable_dhcp", True),
                dns_nameservers=subnet.get("dns_nameservers") or [],
                host_routes=subnet.get("host_routes") or [])
            session.add(row)
            session.flush()
            self._store_pools(session, row.id, pools)
            result = db.make_subnet_dicts(session, [row])[0]
        LOG.info("Created subnet %s (%s) on network %s", result["id"], result["cidr"],
                 result["network_id"])
        self.dhcp.subnet_create_end(context, result["network_id"])
        return result

    def get_subnet(self, context, subnet_id):
        with self._session() as session:
            return db.make_subnet_dicts(session, [db.get_subnet_row(session, subnet_id)])[0]

    def get_subnets(self, context, filters=None):
        with self._session() as session:
            return db.make_subnet_dicts(session, db.subnet_rows(session, filters))

    def update_subnet(self, context, subnet_id, changes):
        with self._session(writer=True) as session:
            row = db.get_subnet_row(session, subnet_id)
            cidr = ipaddress.ip_network(row.cidr)
            if "gateway_ip" in changes or "allocation_pools" in changes:
                self._update_addresses(session, row, cidr, changes)
            for key in ("name", "description", "enable_dhcp", "dns_nameservers",
                        "host_routes"):
                if key in changes:
                    setattr(row, key, changes[key])
            row.revision_number += 1
            session.flush()
            result = db.make_subnet_dicts(session, [row])[0]
        self.dhcp.subnet_update_end(context, result["network_id"])
        return result

    def delete_subnet(self, context, subnet_id):
        with self._session(writer=True) as session:
            subnet = db.get_subnet_row(session, subnet_id)
            users = db.port_rows(session, fixed_ips=[{"subnet_id": subnet_id}])
            if any(p.device_owner not in AUTO_DELETE_PORT_OWNERS for p in users):
                raise exceptions.SubnetInUse(subnet_id=subnet_id)
            network_id = subnet.network_id
            session.delete(subnet)
        LOG.info("Deleted subnet %s of network %s", subnet_id, network_id)
        self.dhcp.subnet_delete_end(context, network_id)

    # --- ports --------------------------------------------------------------------

    @db.retry_db_errors
    def create_port(self, context, port):
        with self._session(writer=True) as session:
            network = db.get_network_row(session, port["network_id"])
            row = m.Port(
                id=str(uuid.uuid4()), project_id=port["project_id"], network_id=network.id,
                name=port.get("name", ""), description=port.get("description", ""),
                admin_state_up=port.get("admin_state_up", True),
                status=constants.PORT_STATUS_DOWN,
                device_id=port.get("device_id", ""), device_owner=port.get("device_owner", ""),
                dns_name=port.get("dns_name", ""),
                mac_address=self._mac_for(session, network.id, port.get("mac_address")))
            session.add(row)
            session.flush()
            self._allocate_fixed_ips(session, network, row, port.get("fixed_ips"))
            self._bind(session, row, port.get("binding:host_id", ""),
                       port.get("binding:profile"), port.get("binding:vnic_type"))
            self._set_security_groups(session, row, port.get("security_groups"))
            result = db.make_port_dicts(session, [row])[0]
        LOG.info("Created port %s (%s %s) on network %s", result["id"], result["mac_address"],
                 _addresses(result), result["network_id"])
        self.dhcp.port_create_end(context, result["network_id"], result["id"])
        return result

    def _mac_for(self, session, network_id, requested):
        if requested:
            mac = requested.lower()
            if db.mac_in_use(session, network_id, mac):
                raise exceptions.MacAddressInUse(net_id=network_id, mac=mac)
            return mac
        for _attempt in range(CONF.network.mac_generation_retries):
            mac = utils.get_random_mac(CONF.network.base_mac)
            if not db.mac_in_use(session, network_id, mac):
                return mac
        raise exceptions.MacAddressGenerationFailure(net_id=network_id)

    def _bind(self, session, port, host, profile=None, vnic_type=None):
        """Bind ``port`` to ``host`` (unbind when empty): ML2 asks its
        mechanism drivers in turn; the linux bridge one accepts any host."""
        binding = session.get(m.PortBinding, port.id)
        if binding is None:
            binding = m.PortBinding(port_id=port.id, host="", vif_type=constants.VIF_TYPE_UNBOUND,
                                    vnic_type=constants.VNIC_NORMAL, vif_details={}, profile={})
            session.add(binding)
        if profile is not None:
            binding.profile = profile
        if vnic_type is not None:
            binding.vnic_type = vnic_type
        host = host or ""
        if host == binding.host and binding.vif_type != constants.VIF_TYPE_UNBOUND:
            return False
        binding.host = host
        if host:
            binding.vif_type = constants.VIF_TYPE_BRIDGE
            binding.vif_details = {constants.CAP_PORT_FILTER: True,
                                   constants.VIF_DETAILS_CONNECTIVITY: constants.CONNECTIVITY_L2,
                                   constants.VIF_DETAILS_BRIDGE_NAME:
                                       utils.bridge_name(port.network_id)}
            LOG.info("Bound port %s to host %s as a %s VIF on %s", port.id, host,
                     binding.vif_type, binding.vif_details[constants.VIF_DETAILS_BRIDGE_NAME])
        else:
            binding.vif_type = constants.VIF_TYPE_UNBOUND
            binding.vif_details = {}
        return True

    def get_port(self, context, port_id):
        with self._session() as session:
            return db.make_port_dicts(session, [db.get_port_row(session, port_id)])[0]

    def get_ports(self, context, filters=None, fixed_ips=None):
        with self._session() as session:
            return db.make_port_dicts(session, db.port_rows(session, filters, fixed_ips))

    @db.retry_db_errors
    def update_port(self, context, port_id, changes):
        with self._session(writer=True) as session:
            row = db.get_port_row(session, port_id)
            original = db.make_port_dicts(session, [row])[0]
            self._check_device_id(row, changes)
            if "mac_address" in changes:
                self._change_mac(session, row, original, changes["mac_address"])
            for key in ("name", "description", "admin_state_up", "device_id", "device_owner",
                        "dns_name"):
                if key in changes:
                    setattr(row, key, changes[key])
            if "fixed_ips" in changes:
                session.execute(sa.delete(m.IPAllocation)
                                .where(m.IPAllocation.port_id == row.id))
                session.flush()
                self._allocate_fixed_ips(session, db.get_network_row(session, row.network_id),
                                         row, changes["fixed_ips"])
            if "security_groups" in changes:
                self._set_security_groups(session, row, changes["security_groups"])
            self._update_binding(session, row, changes)
            row.revision_number += 1
            session.flush()
            result = db.make_port_dicts(session, [row])[0]
        self._after_port_update(context, original, result)
        return result

    @staticmethod
    def _check_device_id(row, changes):
        """A port in use by one device (a server) cannot be given to another
        without being released first (device_id set to ""): Nova relies on
        it, and reports the same PortInUse when asked to attach such a port."""
        new = changes.get("device_id")
        if new and row.device_id and new != row.device_id:
            raise exceptions.PortInUse(port_id=row.id, net_id=row.network_id,
                                       device_id=row.device_id)

    @staticmethod
    def _change_mac(session, row, original, mac):
        mac = mac.lower()
        if mac == row.mac_address:
            return
        if original["binding:vif_type"] != constants.VIF_TYPE_UNBOUND:
            raise exceptions.PortBound(port_id=row.id, vif_type=original["binding:vif_type"],
                                       old_mac=row.mac_address, new_mac=mac)
        if db.mac_in_use(session, row.network_id, mac):
            raise exceptions.MacAddressInUse(net_id=row.network_id, mac=mac)
        row.mac_address = mac

    def _update_binding(self, session, row, changes):
        keys = ("binding:host_id", "binding:profile", "binding:vnic_type")
        if not any(key in changes for key in keys):
            return
        binding = session.get(m.PortBinding, row.id)
        host = changes.get("binding:host_id", binding.host if binding else "")
        if self._bind(session, row, host, changes.get("binding:profile"),
                      changes.get("binding:vnic_type")):
            # Bound elsewhere (or unbound): whatever was plugged is not
            # this binding's; the new host's agent will report it up.
            row.status = constants.PORT_STATUS_DOWN

    def _after_port_update(self, context, original, port):
        if original["status"] != port["status"]:
            self.nova.record_port_status_changed(port, original["status"], port["status"])
        self.nova.send_network_change("update_port", original, port)
        self.dhcp.port_update_end(context, port["network_id"], port["id"])
        self.agents.port_update(context, port)

    def delete_port(self, context, port_id):
        with self._session(writer=True) as session:
            row = db.get_port_row(session, port_id)
            port = db.make_port_dicts(session, [row])[0]
            session.delete(row)
        LOG.info("Deleted port %s (%s %s)", port_id, port["mac_address"], _addresses(port))
        self.nova.send_network_change("delete_port", port, port)
        self.dhcp.port_delete_end(context, port["network_id"], port_id)
        self.agents.port_delete(context, port_id, port["network_id"])



def _addresses(port):
    return ", ".join(ip["ip_address"] for ip in port["fixed_ips"]) or "no address"
