"""The plugin's address management: a subnet's gateway and allocation
pools, and the fixed IPs of a port (mirrors the subnet checks of
``neutron/db/ipam_backend_mixin.py`` and the allocation of
``neutron/db/ipam_pluggable_backend.py``).

What is valid and what is free is decided by the pure functions of
:mod:`mininova.network.ipam`; this mixin reads and writes the rows
(``ipallocationpools``, ``ipallocations``) inside the transaction of the
plugin's operation. An address is given once because the table's primary
key says so: two requests racing for one address fail the second insert,
and the plugin's :func:`~mininova.network.db.retry_db_errors` starts it
over.

Neutron keeps these methods in mixins of its core plugin; here they are a
mixin of :class:`mininova.network.plugin.Ml2Plugin` too, in a file of their
own so that the address rules read in one place.

Left out: Neutron's pluggable IPAM drivers and their separate tables,
subnet pools, IPv6 address modes.
"""

import ipaddress

import sqlalchemy as sa

from mininova.network import constants, db, exceptions, ipam
from mininova.network import models as m


class IpamBackendMixin:
    # --- a subnet's gateway and pools -------------------------------------------------

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

    # --- a port's fixed IPs ---------------------------------------------------------

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
