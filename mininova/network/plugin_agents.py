"""What the plugin does for its agents: the L2 agent's devices and their
status, the DHCP agent's networks and port, the tunnel endpoints (mirrors
the work behind ``neutron/plugins/ml2/rpc.py``'s ``RpcCallbacks``,
``neutron/api/rpc/handlers/dhcp_rpc.py`` and the ``tunnel_sync`` of
``neutron/plugins/ml2/drivers/type_tunnel.py``).

The RPC endpoint (:mod:`mininova.network.plugin_rpc`) is a thin door into
these methods, so that what an agent causes (a port going ``BUILD`` then
``ACTIVE``, Nova's ``network-vif-plugged``) follows the plugin's code, in
the plugin's transactions, as what the API causes.

A mixin of :class:`mininova.network.plugin.Ml2Plugin`, in a file of its own
so that the server's side of the agents reads in one place. It uses the
plugin's ``_session``, ``_mac_for``, ``_bind``, the address management of
:mod:`mininova.network.ipam_backend` and the notifiers (``nova``, ``agents``).

Left out: the agents table and its heartbeats, agent scheduling (every DHCP
agent serves every network), several bindings per port.
"""

import uuid

import sqlalchemy as sa
from oslo_log import log as logging

from mininova.network import constants, db, type_vxlan, utils
from mininova.network import models as m

LOG = logging.getLogger(__name__)


class AgentRequestsMixin:
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

    @db.retry_db_errors
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
