"""The Networking API v2.0 of mininova-network, over HTTP: versions,
extensions, identity, request ids, networks and subnets with Neutron's
answers to bad input."""

import requests

from tests.functional.network.conftest import neutron_error

REQUEST_ID = "req-0b5e4b64-2b0a-4c8b-9d0e-1b0e0b0e0b0e"


def test_versions_and_resources_need_no_token(url):
    versions = requests.get(f"{url}/", timeout=10).json()
    assert versions["versions"][0]["id"] == "v2.0"
    assert versions["versions"][0]["status"] == "CURRENT"
    collections = {r["collection"] for r in requests.get(f"{url}/v2.0", timeout=10)
                   .json()["resources"]}
    assert {"networks", "subnets", "ports", "security-groups"} <= collections


def test_everything_else_needs_a_token(url):
    response = requests.get(f"{url}/v2.0/networks", timeout=10)
    neutron_error(response, 401, "HTTPUnauthorized")


def test_extensions_clients_probe(admin):
    aliases = {e["alias"] for e in admin.get("extensions").json()["extensions"]}
    assert {"binding", "security-group", "external-net", "dns-integration",
            "net-mtu"} <= aliases
    # Only what is supported: no routers, no floating IPs; quotas yes.
    assert not aliases & {"router", "l3", "agent"}
    assert {"quotas", "quota_details"} <= aliases
    assert admin.get("extensions/binding").json()["extension"]["name"] == "Port Binding"
    neutron_error(admin.get("extensions/router"), 404, "ExtensionNotFound")


def test_request_ids(admin):
    response = admin.get("networks")
    assert response.headers["x-openstack-request-id"].startswith("req-")
    # A caller's own id (Nova's compute sends it) is the request's id.
    response = admin.session.get(f"{admin.url}/v2.0/networks", timeout=10,
                                 headers={"X-OpenStack-Request-ID": REQUEST_ID})
    assert response.headers["x-openstack-request-id"] == REQUEST_ID


def test_network_lifecycle(admin):
    net = admin.create("network", name="private")
    assert net["status"] == "ACTIVE" and net["admin_state_up"] is True
    assert net["shared"] is False and net["router:external"] is False
    assert net["mtu"] == 1500 and net["subnets"] == []
    assert net["tenant_id"] == net["project_id"] == "admin"
    response = admin.put(f"networks/{net['id']}", {"network": {"name": "renamed",
                                                               "admin_state_up": False}})
    assert response.status_code == 200
    updated = response.json()["network"]
    assert (updated["name"], updated["admin_state_up"]) == ("renamed", False)
    assert updated["revision_number"] == net["revision_number"] + 1
    assert admin.delete(f"networks/{net['id']}").status_code == 204
    message = neutron_error(admin.get(f"networks/{net['id']}"), 404, "NetworkNotFound")
    assert message == f"Network {net['id']} could not be found."


def test_list_filters_and_fields(admin):
    a = admin.create("network", name="a")
    admin.create("network", name="b", shared=True)
    names = [n["name"] for n in admin.get("networks", name="a").json()["networks"]]
    assert names == ["a"]
    shared = admin.get("networks", shared="true").json()["networks"]
    assert [n["name"] for n in shared] == ["b"]
    both = admin.get("networks", name=["a", "b"]).json()["networks"]
    assert len(both) == 2
    [only] = admin.get("networks", id=a["id"], fields=["id", "name"]).json()["networks"]
    assert only == {"id": a["id"], "name": "a"}
    message = neutron_error(admin.get("networks", color="red"), 400, "HTTPBadRequest")
    assert message == "[color] is invalid attribute for filtering"


def test_bad_bodies(admin):
    message = neutron_error(admin.post("networks", {"network": {"name": "x", "colour": 1}}),
                            400, "HTTPBadRequest")
    assert message == "Unrecognized attribute(s) 'colour'"
    message = neutron_error(admin.post("networks", {"networks": [{}]}), 400, "HTTPBadRequest")
    assert message == "Bulk operation not supported"
    message = neutron_error(admin.post("networks", {"net": {}}), 400, "HTTPBadRequest")
    assert message == "Unable to find 'network' in request body"
    net = admin.create("network", name="x")
    message = neutron_error(admin.put(f"networks/{net['id']}", {"network": {"mtu": 9000}}),
                            400, "HTTPBadRequest")
    assert message == "Cannot update read-only attribute mtu"
    message = neutron_error(admin.post("networks", {"network": {"status": "DOWN"}}),
                            400, "HTTPBadRequest")
    assert message == "Attribute 'status' not allowed in POST"
    message = neutron_error(admin.post("networks", {"network": {"admin_state_up": "maybe"}}),
                            400, "InvalidInput")
    assert "'maybe' cannot be converted to boolean" in message


def test_subnet_defaults(admin):
    net, subnet = admin.network_with_subnet("10.0.0.0/24")
    assert subnet["gateway_ip"] == "10.0.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert subnet["enable_dhcp"] is True and subnet["ip_version"] == 4
    assert subnet["dns_nameservers"] == [] and subnet["host_routes"] == []
    assert admin.get(f"networks/{net['id']}").json()["network"]["subnets"] == [subnet["id"]]


def test_subnet_options(admin):
    net = admin.create("network", name="n")
    subnet = admin.create("subnet", network_id=net["id"], cidr="10.0.5.9/24", ip_version=4,
                          gateway_ip=None, enable_dhcp=False, dns_nameservers=["10.0.5.53"],
                          host_routes=[{"destination": "10.9.0.0/16", "nexthop": "10.0.5.254"}],
                          allocation_pools=[{"start": "10.0.5.100", "end": "10.0.5.120"}])
    assert subnet["cidr"] == "10.0.5.0/24"
    assert subnet["gateway_ip"] is None and subnet["enable_dhcp"] is False
    assert subnet["allocation_pools"] == [{"start": "10.0.5.100", "end": "10.0.5.120"}]
    response = admin.put(f"subnets/{subnet['id']}", {"subnet": {
        "gateway_ip": "10.0.5.1", "dns_nameservers": [], "name": "renamed"}})
    assert response.status_code == 200, response.text
    assert response.json()["subnet"]["gateway_ip"] == "10.0.5.1"


def test_overlapping_subnets_on_one_network(admin):
    net, subnet = admin.network_with_subnet("10.0.0.0/24")
    response = admin.post("subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": "10.0.0.128/25"}})
    message = neutron_error(response, 400, "InvalidInput")
    assert message == (f"Invalid input for operation: Requested subnet with cidr: "
                       f"10.0.0.128/25 for network: {net['id']} overlaps with another subnet.")
    # Another network may reuse the range (no routers: nothing is shared).
    admin.network_with_subnet("10.0.0.0/24")


def test_invalid_cidr(admin):
    net = admin.create("network", name="n")
    for cidr, reason in (("10.0.0.0/33", "'10.0.0.0/33' is not a valid IP subnet"),
                         ("10.0.0.256/24", "'10.0.0.256/24' is not a valid IP subnet"),
                         ("10.0.0.0", "'10.0.0.0' is not a valid IP subnet")):
        response = admin.post("subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                     "cidr": cidr}})
        message = neutron_error(response, 400, "HTTPBadRequest")
        assert message == f"Invalid input for cidr. Reason: {reason}."


def test_subnet_errors(admin):
    net = admin.create("network", name="n")

    def post(**values):
        return admin.post("subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                 "cidr": "10.0.0.0/24", **values}})
    neutron_error(post(ip_version=6, cidr="fd00::/64"), 400, "InvalidInput")
    neutron_error(post(gateway_ip="10.0.0.50",
                       allocation_pools=[{"start": "10.0.0.2", "end": "10.0.0.99"}]),
                  409, "GatewayConflictWithAllocationPools")
    neutron_error(post(allocation_pools=[{"start": "10.0.0.2", "end": "10.0.1.9"}]),
                  400, "OutOfBoundsAllocationPool")
    neutron_error(post(allocation_pools=[{"start": "10.0.0.2", "end": "10.0.0.9"},
                                         {"start": "10.0.0.5", "end": "10.0.0.20"}]),
                  409, "OverlappingAllocationPools")
    neutron_error(post(gateway_ip="10.1.0.1"), 400, "InvalidInput")
    neutron_error(post(dns_nameservers=["8.8.8.8", "8.8.8.8"]), 400, "HTTPBadRequest")
    message = neutron_error(admin.post("subnets", {"subnet": {"network_id": net["id"],
                                                              "ip_version": 4}}),
                            400, "HTTPBadRequest")
    assert message == "Failed to parse request. Required attribute 'cidr' not specified"
    missing = "00000000-0000-4000-8000-000000000000"
    neutron_error(admin.post("subnets", {"subnet": {"network_id": missing, "ip_version": 4,
                                                    "cidr": "10.0.0.0/24"}}),
                  404, "NetworkNotFound")


def test_delete_subnet_and_network_in_use(admin):
    net, subnet = admin.network_with_subnet()
    port = admin.create("port", network_id=net["id"])
    message = neutron_error(admin.delete(f"networks/{net['id']}"), 409, "NetworkInUse")
    assert message == (f"Unable to complete operation on network {net['id']}. There are one "
                       "or more ports still in use on the network.")
    neutron_error(admin.delete(f"subnets/{subnet['id']}"), 409, "SubnetInUse")
    assert admin.delete(f"ports/{port['id']}").status_code == 204
    assert admin.delete(f"subnets/{subnet['id']}").status_code == 204
    assert admin.delete(f"networks/{net['id']}").status_code == 204


def test_the_dhcp_port_does_not_keep_a_network_in_use(admin, network_service):
    net, subnet = admin.network_with_subnet()
    dhcp_port = network_service.plugin.setup_dhcp_port(net["id"], "node1")
    assert dhcp_port["device_owner"] == "network:dhcp"
    assert dhcp_port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.2"}]
    assert admin.delete(f"networks/{net['id']}").status_code == 204
    neutron_error(admin.get(f"ports/{dhcp_port['id']}"), 404, "PortNotFound")


def test_unknown_urls(admin):
    neutron_error(admin.get("routers"), 404, "HTTPNotFound")
    neutron_error(admin.post("security-groups", {"security_group": {"name": "web"}}),
                  405, "HTTPMethodNotAllowed")
