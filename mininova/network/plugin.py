"""The core plugin: what creating, changing and deleting networks, subnets
and ports means (mirrors ``neutron/db/db_base_plugin_v2.py``,
``neutron/db/ipam_pluggable_backend.py`` and ``neutron/plugins/ml2/plugin.py``
with the linux bridge mechanism driver,
``neutron/plugins/ml2/drivers/linuxbridge/mech_driver/mech_linuxbridge.py``).

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

import functools
import ipaddress
import uuid

import sqlalchemy as sa
from oslo_config import cfg
from oslo_log import log as logging

from mininova.network import constants, db, exceptions, ipam, type_vxlan, utils
from mininova.network import models as m

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Ports the network itself owns: deleted with their network or subnet
# instead of keeping it "in use" (Neutron's AUTO_DELETE_PORT_OWNERS).
AUTO_DELETE_PORT_OWNERS = (constants.DEVICE_OWNER_DHCP,)
DB_RETRIES = 10


def retry_db_errors(function):
    """Run the operation again when its transaction lost a race.

    Two ports created at once may pick the same random address or MAC; the
    database refuses the second insert (primary key of ``ipallocations``,
    unique MAC per network). Starting over sees the first one's row and
    picks another; an address the request asked for by name is then
    reported as ``IpAddressAlreadyAllocated`` by the checks themselves.
    Neutron does the same with its ``retry_db_errors`` decorator.
    """
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        for attempt in range(DB_RETRIES):
            try:
                return function(*args, **kwargs)
            except sa.exc.IntegrityError:
                if attempt == DB_RETRIES - 1:
                    raise
                LOG.debug("%s lost a race in the database; trying again", function.__name__)
    return wrapper


class NullNotifier:
    """Where notifications go when nobody listens (and in unit tests)."""

    def __getattr__(self, _name):
        return lambda *args, **kwargs: None


class Ml2Plugin:
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

    @retry_db_errors
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

    def get_network(self, context, network_id):
        with self._session() as session:
            return db.make_network_dicts(session, [db.get_network_row(session, network_id)])[0]

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

    @staticmethod
    def _subnet_addresses(cidr, subnet):
        """The gateway (None: no gateway) and allocation pools of a new subnet."""
        if "gateway_ip" not in subnet:
            gateway = ipam.default_gateway(cidr)
        elif subnet["gateway_ip"] is None:
            gateway = None
        else:
            gateway = ipam.parse_ip(subnet["gateway_ip"])
        if subnet.get("allocation_pools"):
            pools = [(ipam.parse_ip(p["start"]), ipam.parse_ip(p["end"]))
                     for p in subnet["allocation_pools"]]
            ipam.validate_pools(cidr, pools)
        else:
            pools = ipam.default_pools(cidr, gateway)
        if gateway is not None:
            ipam.validate_gateway(cidr, gateway, pools)
        return gateway, pools

    @staticmethod
    def _check_no_overlap(session, network, cidr):
        others = [ipaddress.ip_network(s.cidr)
                  for s in db.subnet_rows(session, {"network_id": [network.id]})]
        if ipam.overlapping(cidr, others):
            raise exceptions.InvalidInput(error_message=(
                f"Requested subnet with cidr: {cidr} for network: {network.id} "
                "overlaps with another subnet"))

    @staticmethod
    def _store_pools(session, subnet_id, pools):
        session.execute(sa.delete(m.IPAllocationPool)
                        .where(m.IPAllocationPool.subnet_id == subnet_id))
        for first, last in pools:
            session.add(m.IPAllocationPool(subnet_id=subnet_id, first_ip=str(first),
                                           last_ip=str(last)))

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

    def _update_addresses(self, session, row, cidr, changes):
        """A new gateway and/or new pools, checked together. Addresses already
        given to ports stay theirs, as in Neutron, even outside new pools."""
        current = {"gateway_ip": row.gateway_ip,
                   "allocation_pools": [{"start": first, "end": last} for first, last
                                        in db.pools_of(session, [row.id])[row.id]]}
        current.update({k: v for k, v in changes.items()
                        if k in ("gateway_ip", "allocation_pools")})
        gateway, pools = self._subnet_addresses(cidr, current)
        if gateway is not None and str(gateway) != row.gateway_ip and str(gateway) in \
                db.allocated_addresses(session, row.id):
            raise exceptions.IpAddressAlreadyAllocated(ip=str(gateway), subnet_id=row.id)
        row.gateway_ip = str(gateway) if gateway else None
        self._store_pools(session, row.id, pools)

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

    @retry_db_errors
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

    def _allocate_fixed_ips(self, session, network, port, requested):
        """Give ``port`` its addresses: those ``requested`` (``[{"subnet_id",
        "ip_address"}]``, either key optional), or, when nothing is asked,
        one from the first subnet of the network that has one free."""
        subnets = db.subnet_rows(session, {"network_id": [network.id]})
        prefer_first = port.device_owner == constants.DEVICE_OWNER_DHCP
        if requested is None:
            if not subnets:
                return
            for subnet in subnets:
                address = self._choose_address(session, subnet, prefer_first)
                if address:
                    self._store_allocation(session, port, subnet, address)
                    return
            raise exceptions.IpAddressGenerationFailure(net_id=network.id)
        for wanted in requested:
            subnet = self._subnet_for(session, network, subnets, wanted)
            if wanted.get("ip_address"):
                address = self._check_requested_address(session, subnet, wanted["ip_address"])
            else:
                address = self._choose_address(session, subnet, prefer_first)
                if address is None:
                    raise exceptions.IpAddressGenerationFailure(net_id=network.id)
            self._store_allocation(session, port, subnet, address)

    @staticmethod
    def _subnet_for(session, network, subnets, wanted):
        if wanted.get("subnet_id"):
            subnet = db.get_subnet_row(session, wanted["subnet_id"])
            if subnet.network_id != network.id:
                raise exceptions.InvalidInput(error_message=(
                    f"Failed to create port on network {network.id}, because fixed_ips "
                    f"included invalid subnet {subnet.id}"))
            return subnet
        address = ipam.parse_ip(wanted["ip_address"])
        for subnet in subnets:
            if address in ipaddress.ip_network(subnet.cidr):
                return subnet
        raise exceptions.InvalidIpForNetwork(ip_address=wanted["ip_address"])

    @staticmethod
    def _check_requested_address(session, subnet, value):
        address = ipam.parse_ip(value)
        if not ipam.check_fixed_ip(ipaddress.ip_network(subnet.cidr), address):
            raise exceptions.InvalidIpForSubnet(ip_address=value)
        # The gateway is the host's own address on the bridge (mininova's
        # rule: Neutron lets a router port, or any port, take it).
        if str(address) == subnet.gateway_ip or \
                str(address) in db.allocated_addresses(session, subnet.id):
            raise exceptions.IpAddressAlreadyAllocated(ip=str(address), subnet_id=subnet.id)
        return address

    @staticmethod
    def _choose_address(session, subnet, prefer_first):
        pools = [(ipaddress.ip_address(first), ipaddress.ip_address(last))
                 for first, last in db.pools_of(session, [subnet.id])[subnet.id]]
        allocated = {ipaddress.ip_address(a) for a in db.allocated_addresses(session, subnet.id)}
        return ipam.choose_address(pools, allocated, prefer_first=prefer_first)

    @staticmethod
    def _store_allocation(session, port, subnet, address):
        session.add(m.IPAllocation(ip_address=str(address), subnet_id=subnet.id,
                                   port_id=port.id, network_id=port.network_id))
        # Flushed now: a second request of the same address in one body
        # finds it, and a race with another transaction fails here.
        session.flush()

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

    def _set_security_groups(self, session, port, group_ids):
        """The port's groups: those given (the port's project's, or 404), or
        the project's ``default`` group; none for the network's own ports."""
        session.execute(sa.delete(m.SecurityGroupPortBinding)
                        .where(m.SecurityGroupPortBinding.port_id == port.id))
        if group_ids is None:
            if port.device_owner.startswith(constants.DEVICE_OWNER_NETWORK_PREFIX):
                return
            group_ids = [self._default_security_group(session, port.project_id)]
        for group_id in dict.fromkeys(group_ids):
            group = session.get(m.SecurityGroup, group_id)
            if group is None or group.project_id != port.project_id:
                raise exceptions.SecurityGroupNotFound(id=group_id)
            session.add(m.SecurityGroupPortBinding(port_id=port.id, security_group_id=group_id))

    def get_port(self, context, port_id):
        with self._session() as session:
            return db.make_port_dicts(session, [db.get_port_row(session, port_id)])[0]

    def get_ports(self, context, filters=None, fixed_ips=None):
        with self._session() as session:
            return db.make_port_dicts(session, db.port_rows(session, filters, fixed_ips))

    @retry_db_errors
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

    # --- security groups (listed, not enforced) ---------------------------------

    def ensure_default_security_group(self, project_id):
        """The project's ``default`` group, made the first time it is needed
        (as Neutron does on a project's first network API call)."""
        for _attempt in range(DB_RETRIES):
            try:
                with self._session(writer=True) as session:
                    return self._default_security_group(session, project_id)
            except sa.exc.IntegrityError:
                continue  # another request made it meanwhile: read it
        raise RuntimeError(f"cannot make the default security group of {project_id}")

    def _default_security_group(self, session, project_id):
        existing = db.default_security_group_id(session, project_id)
        if existing:
            return existing
        group = m.SecurityGroup(id=str(uuid.uuid4()), project_id=project_id, name="default",
                                description="Default security group")
        session.add(group)
        session.flush()
        session.add(m.DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
        # Neutron's default rules: anything out; in, only from members of
        # the same group. Stored and shown; no host enforces them.
        for direction, ethertype in (("egress", "IPv4"), ("egress", "IPv6"),
                                     ("ingress", "IPv4"), ("ingress", "IPv6")):
            session.add(m.SecurityGroupRule(
                id=str(uuid.uuid4()), project_id=project_id, security_group_id=group.id,
                direction=direction, ethertype=ethertype,
                remote_group_id=group.id if direction == "ingress" else None))
        session.flush()
        return group.id

    def get_security_groups(self, context, filters=None):
        with self._session() as session:
            return db.make_security_group_dicts(session, db.security_group_rows(session, filters))

    def get_security_group(self, context, group_id):
        groups = self.get_security_groups(context, {"id": [group_id]})
        if not groups:
            raise exceptions.SecurityGroupNotFound(id=group_id)
        return groups[0]

    def get_security_group_rules(self, context, filters=None):
        with self._session() as session:
            return [db.make_security_group_rule_dict(row)
                    for row in db.security_group_rule_rows(session, filters)]

    def get_security_group_rule(self, context, rule_id):
        rules = self.get_security_group_rules(context, {"id": [rule_id]})
        if not rules:
            raise exceptions.SecurityGroupRuleNotFound(id=rule_id)
        return rules[0]

    # --- what the agents ask (see plugin_rpc.py) ------------------------------

    def get_device_details(self, device, host):
        """What the L2 agent of ``host`` needs to plug ``device`` (a tap),
        or just ``{"device"}`` when no port bound to ``host`` owns it.

        Asking is the agent's sign that the tap exists: the port goes
        ``BUILD`` (Neutron's ML2 does the same), and ``ACTIVE`` when the
        agent reports it up.
        """
        with self._session(writer=True) as session:
            row = db.find_port_by_device(session, device)
            if row is None:
                return {"device": device}
            port = db.make_port_dicts(session, [row])[0]
            if port["binding:host_id"] != host:
                LOG.debug("Device %s requested by the agent on %s is bound to %r", device,
                          host, port["binding:host_id"])
                return {"device": device, "no_active_binding": True}
            if row.status == constants.PORT_STATUS_DOWN and row.admin_state_up:
                row.status = constants.PORT_STATUS_BUILD
            network = db.get_network_row(session, row.network_id)
            network_type, segmentation_id = type_vxlan.segments_of(
                session, [row.network_id])[row.network_id]
        return {"device": device, "port_id": port["id"], "network_id": port["network_id"],
                "mac_address": port["mac_address"], "admin_state_up": port["admin_state_up"],
                "device_owner": port["device_owner"], "fixed_ips": port["fixed_ips"],
                "network_type": network_type, "physical_network": None,
                "segmentation_id": segmentation_id, "mtu": network.mtu,
                "bridge_name": utils.bridge_name(port["network_id"])}

    def update_device_status(self, device, host, up):
        """The L2 agent of ``host`` says ``device`` is plugged (``up``) or
        gone. Returns whether a port owns the device. A port bound to
        another host is left alone: that agent's word counts, not this one's."""
        with self._session(writer=True) as session:
            row = db.find_port_by_device(session, device)
            if row is None:
                return False
            port = db.make_port_dicts(session, [row])[0]
            if port["binding:host_id"] != host:
                LOG.debug("Device %s reported by the agent on %s is bound to %r; ignored",
                          device, host, port["binding:host_id"])
                return True
            new = constants.PORT_STATUS_ACTIVE if up else constants.PORT_STATUS_DOWN
            old = row.status
            if old == new:
                return True
            row.status = new
            row.revision_number += 1
            port["status"] = new
        LOG.info("Port %s is %s (device %s on %s)", port["id"], new, device, host)
        self.nova.record_port_status_changed(port, old, new)
        return True

    def get_network_info(self, network_id):
        """A network with its subnets and ports in full, for the DHCP agent
        (None when it is gone)."""
        with self._session() as session:
            row = session.get(m.Network, network_id)
            if row is None:
                return None
            info = db.make_network_dicts(session, [row])[0]
            info["subnets"] = db.make_subnet_dicts(
                session, db.subnet_rows(session, {"network_id": [network_id]}))
            info["ports"] = db.make_port_dicts(
                session, db.port_rows(session, {"network_id": [network_id]}))
        return info

    def get_network_ids_with_subnets(self):
        """Networks a network node has something to do for."""
        with self._session() as session:
            return sorted(set(session.scalars(sa.select(m.Subnet.network_id))))

    @retry_db_errors
    def setup_dhcp_port(self, network_id, host):
        """The DHCP port of ``host``'s DHCP agent on the network: made if
        missing, with one address in each DHCP-enabled subnet (the first
        free one) and none elsewhere, bound to ``host``. None when the
        network has no DHCP-enabled subnet (any such port is released)."""
        device_id = utils.dhcp_device_id(network_id, host)
        with self._session(writer=True) as session:
            network = db.get_network_row(session, network_id)
            dhcp_subnets = [s for s in db.subnet_rows(session, {"network_id": [network_id]})
                            if s.enable_dhcp]
            ports = db.port_rows(session, {"network_id": [network_id], "device_id": [device_id]})
            row = ports[0] if ports else None
            if not dhcp_subnets:
                if row is not None:
                    session.delete(row)
                return None
            if row is None:
                row = m.Port(id=str(uuid.uuid4()), project_id=network.project_id,
                             network_id=network_id, name="", status=constants.PORT_STATUS_DOWN,
                             device_id=device_id, device_owner=constants.DEVICE_OWNER_DHCP,
                             mac_address=self._mac_for(session, network_id, None))
                session.add(row)
                session.flush()
                LOG.info("Created the DHCP port %s of host %s on network %s", row.id, host,
                         network_id)
            self._fit_dhcp_addresses(session, network, row, dhcp_subnets)
            self._bind(session, row, host)
            return db.make_port_dicts(session, [row])[0]

    def _fit_dhcp_addresses(self, session, network, port, dhcp_subnets):
        wanted = {s.id for s in dhcp_subnets}
        have = {ip["subnet_id"] for ip in db.allocations_of(session, [port.id])[port.id]}
        gone = have - wanted
        if gone:
            session.execute(sa.delete(m.IPAllocation).where(
                m.IPAllocation.port_id == port.id, m.IPAllocation.subnet_id.in_(gone)))
        missing = [{"subnet_id": s.id} for s in dhcp_subnets if s.id not in have]
        if missing:
            self._allocate_fixed_ips(session, network, port, missing)

    def release_dhcp_port(self, network_id, device_id):
        with self._session(writer=True) as session:
            for row in db.port_rows(session, {"network_id": [network_id],
                                              "device_id": [device_id]}):
                session.delete(row)

    def tunnel_sync(self, tunnel_ip, host, udp_port):
        """``host``'s L2 agent says its tunnel address: recorded, the other
        agents told (``tunnel_update``), and every endpoint returned."""
        with self._session(writer=True) as session:
            replaced = type_vxlan.add_endpoint(session, tunnel_ip, host, udp_port)
            session.flush()
            result = type_vxlan.endpoints(session)
        if replaced:
            LOG.info("Tunnel endpoint of %s moved from %s to %s", host, replaced, tunnel_ip)
        self.agents.tunnel_update(None, tunnel_ip, constants.TUNNEL_TYPE_VXLAN, host,
                                  replaced=replaced)
        return result

    def count_ports_bound_to_host(self, network_id, host):
        with self._session() as session:
            return len(db.port_rows(session, {"network_id": [network_id],
                                              "binding:host_id": [host]}))


def _addresses(port):
    return ", ".join(ip["ip_address"] for ip in port["fixed_ips"]) or "no address"
