"""Nova's side of networking: the network service's client (mirrors
``nova/network/neutron.py``).

The compute host, while the instance is in task_state ``networking``:

1. decides which networks the instance gets (:meth:`API.allocate_for_instance`):
   the ports the user named, a new port on each network the user named, or
   with nothing asked (``auto``) the one network the project can use;
2. creates its ports (``device_id`` = the instance, ``device_owner`` =
   ``compute:<zone>``) and binds them to this host (``binding:host_id``): the
   network service answers with ``binding:vif_type`` ``bridge`` and the
   bridge to plug into;
3. returns the instance's network info (:mod:`mininova.network.model`),
   which the driver plugs and the API shows as ``addresses``.

A delete unbinds the ports the user brought and deletes those it made.

Identity, as for the image service: the user's token with Keystone (the
port belongs to the user's project), but the binding, which only an admin
may set, with the service user's; with noauth2, ``user:project`` tokens
and ``admin:admin`` for the binding.

Left out: floating IPs, security group enforcement, QoS, SR-IOV, trunk
ports, port binding extensions of live migration.
"""

import threading

import requests
from oslo_log import log as logging

from mininova import exception, service_auth
from mininova.conf import CONF
from mininova.network import model

LOG = logging.getLogger(__name__)

DEVICE_OWNER_PREFIX = "compute:"


class NetworkAmbiguous(exception.Conflict):
    msg_fmt = "Multiple possible networks found, use a Network ID to be more specific."


class PortNotUsable(exception.Conflict):
    msg_fmt = "Port %(port_id)s not usable for instance %(instance)s."


class PortInUse(exception.Conflict):
    msg_fmt = "Port %(port_id)s is still in use."


class InterfaceAttachFailedNoNetwork(exception.Invalid):
    msg_fmt = ("No specific network was requested and none are available for project "
               "'%(project_id)s'.")


class NetworkServiceError(exception.MininovaException):
    msg_fmt = "The network service failed: %(reason)s"
    safe = True


class API:
    def __init__(self):
        self._local = threading.local()

    # --- what the API checks before it accepts a boot ------------------------------------

    def validate_networks(self, context, requested_networks):
        """Refuse at the API what the compute could never build: unknown
        networks or ports (400 at a boot, as Nova answers), a port another
        server uses (409). Returns nothing."""
        for request in requested_networks or []:
            try:
                if request.get("port"):
                    port = self.show_port(context, request["port"])
                    if port.get("device_id"):
                        raise PortInUse(port_id=request["port"])
                elif request.get("uuid"):
                    self._network(context, request["uuid"])
            except exception.NotFound as exc:
                raise exception.Invalid(exc.format_message()) from exc

    def show_port(self, context, port_id):
        try:
            return self._get(context, f"/v2.0/ports/{port_id}")["port"]
        except exception.NotFound as exc:
            raise exception.PortNotFound(port_id=port_id) from exc

    def list_ports(self, context, device_id):
        return self._get(context, "/v2.0/ports", params={"device_id": device_id})["ports"]

    def get_fixed_ip_by_address(self, context, address):
        """``{"instance_uuid": ...}`` of the server whose port holds
        ``address``: the metadata API's lookup of a request's sender."""
        ports = self._get(context, "/v2.0/ports", admin=True,
                          params={"fixed_ips": f"ip_address={address}"})["ports"]
        servers = {port["device_id"] for port in ports
                   if (port.get("device_owner") or "").startswith("compute:")}
        if not servers:
            raise exception.FixedIpNotFoundForAddress(address=address)
        if len(servers) > 1:
            raise exception.FixedIpAssociatedWithMultipleInstances(address=address)
        return {"instance_uuid": servers.pop()}

    def allocate_port_for_instance(self, context, instance, host, network_id=None,
                                   port_id=None, requested_ip=None):
        """One more port for a running instance (an interface attach)."""
        request = {"port": port_id} if port_id else {"uuid": network_id,
                                                     "fixed_ip": requested_ip}
        if not port_id and not network_id:
            [request] = self._requested_or_default(context, instance, "auto") or [None]
            if request is None:
                raise InterfaceAttachFailedNoNetwork(project_id=instance["project_id"])
        return self._port_for(context, instance, request, host)

    # --- the compute's side of a build -----------------------------------------------------

    def allocate_for_instance(self, context, instance, requested_networks, host):
        """Create (or take) the instance's ports, bind them to ``host``;
        the network info of the instance."""
        LOG.info("Allocating IP information in the background.", instance=instance)
        requests_ = self._requested_or_default(context, instance, requested_networks)
        network_info = []
        try:
            for request in requests_:
                network_info.append(self._port_for(context, instance, request, host))
        except Exception:
            self._release(context, instance, network_info)
            raise
        return network_info

    def deallocate_for_instance(self, context, instance, network_info):
        """The instance is gone (or its build moves elsewhere): delete the
        ports made for it, unbind those the user brought."""
        self._release(context, instance, network_info)

    def get_instance_nw_info(self, context, instance, cached=None):
        """The instance's network info, read again from its ports (whether
        the user brought a port, and its tag, are only known to the
        ``cached`` info)."""
        known = {vif["id"]: vif for vif in cached or []}
        ports = self._get(context, "/v2.0/ports", params={"device_id": instance["uuid"]},
                          admin=True)["ports"]
        return [self._vif(context, port, known.get(port["id"])) for port in ports]

    def refresh_vif(self, context, instance, port_id, cached):
        """``cached`` with the VIF of ``port_id`` read again (Nova's
        ``get_instance_nw_info(refresh_vif_id=...)``): replaced where it
        was, appended if new to the instance, dropped if the port is gone
        or no longer the instance's."""
        kept = [vif for vif in cached if vif["id"] != port_id]
        try:
            port = self._get(context, f"/v2.0/ports/{port_id}", admin=True)["port"]
        except exception.NotFound:
            return kept
        if port.get("device_id") != instance["uuid"]:
            return kept
        known = next((vif for vif in cached if vif["id"] == port_id), None)
        fresh = self._vif(context, port, known)
        refreshed = [fresh if vif["id"] == port_id else vif for vif in cached]
        return refreshed if len(kept) < len(cached) else [*cached, fresh]

    def migrate_instance_finish(self, context, instance, host):
        """The instance now runs on ``host`` (a resize or migration
        finished there, or was reverted to its source): its ports are bound
        to ``host``, so that host's L2 agent wires them (and, with VXLAN,
        joins their networks) and Nova hears network-vif-plugged from there
        (Nova's ``_update_port_binding_for_instance``)."""
        ports = self._get(context, "/v2.0/ports", params={"device_id": instance["uuid"]},
                          admin=True)["ports"]
        for port in ports:
            if port.get("binding:host_id") == host:
                continue
            LOG.info("Updating port %s with attributes {'binding:host_id': '%s'}",
                     port["id"], host, instance=instance)
            self._put(context, f"/v2.0/ports/{port['id']}",
                      {"port": {"binding:host_id": host}}, admin=True)

    # --- choosing networks ------------------------------------------------------------------

    def _requested_or_default(self, context, instance, requested_networks):
        if requested_networks == "none":
            return []
        if requested_networks and requested_networks != "auto":
            return requested_networks
        networks = self._get(context, "/v2.0/networks")["networks"]
        if len(networks) > 1:
            raise NetworkAmbiguous()
        if not networks:
            LOG.debug("No network configured for the project", instance=instance)
        return [{"uuid": network["id"]} for network in networks]

    def _port_for(self, context, instance, request, host):
        """The port of one request: made as the user (the port is the
        project's), then bound to ``host`` with the service's rights (only
        an admin or a service may set a binding), as Nova does."""
        preserve_on_delete = bool(request.get("port"))
        port_id = request.get("port") or self._create_port(context, instance, request)["id"]
        known = {"preserve_on_delete": preserve_on_delete, "tag": request.get("tag")}
        try:
            port = self._put(context, f"/v2.0/ports/{port_id}", {"port": {
                "device_id": instance["uuid"],
                "device_owner": DEVICE_OWNER_PREFIX + (instance.get("availability_zone")
                                                       or CONF.default_availability_zone),
                "binding:host_id": host, "binding:profile": {},
                "dns_name": instance.get("hostname") or ""}}, admin=True)["port"]
        except Exception:
            if not preserve_on_delete:
                self._delete(context, f"/v2.0/ports/{port_id}", admin=True)
            raise
        return self._vif(context, port, known)

    def _create_port(self, context, instance, request):
        body = {"network_id": request["uuid"], "device_id": instance["uuid"],
                "admin_state_up": True, "tenant_id": instance["project_id"]}
        if request.get("fixed_ip"):
            body["fixed_ips"] = [{"ip_address": request["fixed_ip"]}]
        return self._post(context, "/v2.0/ports", {"port": body})["port"]

    def _vif(self, context, port, known=None):
        """The port's VIF; ``known``: what Nova knew of it before (a cached
        VIF, or the boot's request), which the port does not say: whether
        the user brought it (``preserve_on_delete``) and its device ``tag``
        (Nova's VirtualInterface.tag)."""
        known = known or {}
        # Read with the service's rights, as Nova builds its network info
        # with its admin client: the context may be the network service's
        # own (a network-changed event), which sees no project's network.
        network = self._network(context, port["network_id"], admin=True)
        subnets = self._get(context, "/v2.0/subnets",
                            params={"network_id": port["network_id"]}, admin=True)["subnets"]
        return model.vif_from_port(port, network, subnets,
                                   bool(known.get("preserve_on_delete")), known.get("tag"))

    def _release(self, context, instance, network_info):
        for vif in network_info or []:
            try:
                if vif.get("preserve_on_delete"):
                    self._put(context, f"/v2.0/ports/{vif['id']}", {"port": {
                        "device_id": "", "device_owner": "", "binding:host_id": None,
                        "dns_name": ""}}, admin=True)
                else:
                    self._delete(context, f"/v2.0/ports/{vif['id']}", admin=True)
            except exception.NotFound:
                pass  # gone already: what we wanted
            except exception.MininovaException:
                LOG.exception("Unable to clear the device of port %s", vif["id"],
                              instance=instance)

    # --- the Networking API ------------------------------------------------------------------

    def _network(self, context, network_id, admin=False):
        try:
            return self._get(context, f"/v2.0/networks/{network_id}", admin=admin)["network"]
        except exception.NotFound as exc:
            raise exception.NetworkNotFound(network_id=network_id) from exc

    def _get(self, context, path, params=None, admin=False):
        return self._request(context, "GET", path, params=params, admin=admin).json()

    def _post(self, context, path, body, admin=False):
        return self._request(context, "POST", path, json=body, admin=admin).json()

    def _put(self, context, path, body, admin=False):
        return self._request(context, "PUT", path, json=body, admin=admin).json()

    def _delete(self, context, path, admin=False):
        self._request(context, "DELETE", path, admin=admin)

    def _request(self, context, method, path, admin=False, **kwargs):
        url = _endpoint().rstrip("/") + path
        headers = {"X-Auth-Token": _token(context, admin),
                   "X-OpenStack-Request-ID": context.request_id}
        try:
            response = self._session().request(method, url, headers=headers,
                                               timeout=CONF.neutron.timeout, **kwargs)
        except requests.RequestException as exc:
            raise NetworkServiceError(reason=f"{method} {url}: {exc}") from exc
        if response.status_code == 404:
            raise exception.NotFound(_error_message(response))
        if response.status_code == 409:
            raise exception.Conflict(_error_message(response))
        if response.status_code == 400:
            raise exception.Invalid(_error_message(response))
        if response.status_code >= 400:
            raise NetworkServiceError(
                reason=f"{method} {path}: HTTP {response.status_code}: "
                f"{_error_message(response)}")
        return response

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session


def _endpoint():
    if CONF.neutron.endpoint_override:
        return CONF.neutron.endpoint_override
    return service_auth.get_session().get_endpoint(
        service_type="network", interface="public", region_name=CONF.neutron.region_name)


def _token(context, admin):
    """The user's token, or for what only an admin may do (bindings) the
    service user's; with noauth2 the ``user:project`` form."""
    if CONF.api.auth_strategy != "keystone":
        if admin:
            return "admin:admin"
        return f"{context.user_id or 'admin'}:{context.project_id or 'admin'}"
    if admin or not context.auth_token:
        return service_auth.get_token()
    return context.auth_token


def _error_message(response):
    try:
        return response.json()["NeutronError"]["message"]
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason
