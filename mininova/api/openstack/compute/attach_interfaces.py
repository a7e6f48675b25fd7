"""``/servers/{id}/os-interface`` (mirrors
``nova/api/openstack/compute/attach_interfaces.py``): a server's ports, and
adding or removing one while the server exists.

Attach is synchronous, as Nova's: the compute makes (or takes) the port,
binds it to its host, plugs it into the guest, and the answer is the new
interface. Detach is a cast (202). The list and show are the network
service's ports whose device is the server.
"""

from flask import Blueprint, jsonify

from mininova import exception
from mininova.api import validation
from mininova.api.openstack import common
from mininova.conf import CONF
from mininova.network import neutron

blueprint = Blueprint("attach_interfaces", __name__)

create_schema = {
    "type": "object",
    "properties": {
        "interfaceAttachment": {
            "type": "object",
            "properties": {
                "net_id": {"type": "string", "format": "uuid"},
                "port_id": {"type": "string", "format": "uuid"},
                "fixed_ips": {
                    "type": "array", "minItems": 1, "maxItems": 1,
                    "items": {"type": "object",
                              "properties": {"ip_address": {"type": "string",
                                                            "format": "ipv4"}},
                              "required": ["ip_address"], "additionalProperties": False},
                },
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}


def _view(port):
    return {"net_id": port["network_id"], "port_id": port["id"],
            "mac_addr": port["mac_address"], "port_state": port["status"],
            "fixed_ips": port.get("fixed_ips", [])}


def _server(server_id, rule):
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can(rule, common.owned_by(instance))
    if not CONF.neutron.enabled:
        raise exception.Invalid("This cloud has no network service ([neutron] enabled "
                                "is off): servers have no interfaces to list or change.")
    return context, instance


@blueprint.get("/servers/<server_id>/os-interface")
def index(server_id):
    context, instance = _server(server_id, "os_compute_api:os-attach-interfaces:list")
    ports = neutron.API().list_ports(context, instance["uuid"])
    return jsonify({"interfaceAttachments": [_view(port) for port in ports]})


@blueprint.get("/servers/<server_id>/os-interface/<port_id>")
def show(server_id, port_id):
    context, instance = _server(server_id, "os_compute_api:os-attach-interfaces:show")
    port = neutron.API().show_port(context, port_id)
    if port.get("device_id") != instance["uuid"]:
        raise exception.NotFound(f"Instance {server_id} does not have a port with id "
                                 f"{port_id}")
    return jsonify({"interfaceAttachment": _view(port)})


@blueprint.post("/servers/<server_id>/os-interface")
@validation.schema(create_schema)
def create(server_id, body):
    context, instance = _server(server_id, "os_compute_api:os-attach-interfaces:create")
    attachment = body.get("interfaceAttachment") or {}
    network_id, port_id = attachment.get("net_id"), attachment.get("port_id")
    requested_ip = (attachment.get("fixed_ips") or [{}])[0].get("ip_address")
    if network_id and port_id:
        raise exception.Invalid("Must not input both network_id and port_id")
    if requested_ip and not network_id:
        raise exception.Invalid("Must input network_id when request IP address")
    vif = common.compute_api().attach_interface(context, instance, network_id, port_id,
                                                requested_ip)
    return jsonify({"interfaceAttachment": _view(neutron.API().show_port(context,
                                                                         vif["id"]))})


@blueprint.delete("/servers/<server_id>/os-interface/<port_id>")
def delete(server_id, port_id):
    context, instance = _server(server_id, "os_compute_api:os-attach-interfaces:delete")
    common.compute_api().detach_interface(context, instance, port_id)
    return "", 202
