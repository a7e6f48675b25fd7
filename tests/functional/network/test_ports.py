"""Ports: MACs, addresses, binding, and Neutron's errors for the addresses
and devices they cannot have."""

import re

from tests.functional.network.conftest import neutron_error

SERVER = "e00902fe-14b8-49ea-97aa-cbd93c491065"
SERVER_2 = "5a0b7d8e-6e55-4a53-9a53-7f6c5a2c0d11"


def test_a_new_port(admin):
    net, subnet = admin.network_with_subnet("10.0.0.0/24")
    port = admin.create("port", network_id=net["id"], name="p1")
    assert re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", port["mac_address"])
    [ip] = port["fixed_ips"]
    assert ip["subnet_id"] == subnet["id"]
    assert 2 <= int(ip["ip_address"].rsplit(".", 1)[1]) <= 254
    assert port["status"] == "DOWN" and port["admin_state_up"] is True
    assert port["device_id"] == "" and port["device_owner"] == ""
    assert port["binding:vif_type"] == "unbound" and port["binding:host_id"] == ""
    assert port["binding:vif_details"] == {}
    assert port["dns_assignment"] == [{
        "hostname": "host-" + ip["ip_address"].replace(".", "-"),
        "ip_address": ip["ip_address"],
        "fqdn": "host-" + ip["ip_address"].replace(".", "-") + ".openstacklocal."}]


def test_given_addresses(admin):
    net, subnet = admin.network_with_subnet("10.0.0.0/24")
    port = admin.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.0.0.9"}])
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.9"}]
    # Outside the pools is allowed (an admin placing a port on purpose).
    admin.create("port", network_id=net["id"], fixed_ips=[{"subnet_id": subnet["id"],
                                                           "ip_address": "10.0.0.254"}])
    port = admin.create("port", network_id=net["id"], fixed_ips=[{"subnet_id": subnet["id"]}])
    assert port["fixed_ips"][0]["subnet_id"] == subnet["id"]
    assert admin.create("port", network_id=net["id"], fixed_ips=[])["fixed_ips"] == []


def test_ip_already_allocated(admin):
    net, subnet = admin.network_with_subnet("10.0.0.0/24")
    admin.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.0.0.9"}])
    response = admin.post("ports", {"port": {"network_id": net["id"],
                                             "fixed_ips": [{"ip_address": "10.0.0.9"}]}})
    message = neutron_error(response, 409, "IpAddressAlreadyAllocated")
    assert message == f"IP address 10.0.0.9 already allocated in subnet {subnet['id']}"
    # The gateway is the host's, on the bridge.
    response = admin.post("ports", {"port": {"network_id": net["id"],
                                             "fixed_ips": [{"ip_address": "10.0.0.1"}]}})
    neutron_error(response, 409, "IpAddressAlreadyAllocated")


def test_ip_outside_the_subnet(admin):
    net, subnet = admin.network_with_subnet("10.0.0.0/24")

    def post(fixed_ip):
        return admin.post("ports", {"port": {"network_id": net["id"], "fixed_ips": [fixed_ip]}})
    message = neutron_error(post({"subnet_id": subnet["id"], "ip_address": "10.0.1.5"}),
                            400, "InvalidIpForSubnet")
    assert message == "IP address 10.0.1.5 is not a valid IP for the specified subnet."
    message = neutron_error(post({"ip_address": "10.0.1.5"}), 400, "InvalidIpForNetwork")
    assert message == ("IP address 10.0.1.5 is not a valid IP for any of the subnets on "
                       "the specified network.")
    for address in ("10.0.0.0", "10.0.0.255"):   # network and broadcast
        neutron_error(post({"subnet_id": subnet["id"], "ip_address": address}),
                      400, "InvalidIpForSubnet")
    other_net, other_subnet = admin.network_with_subnet("10.0.1.0/24")
    message = neutron_error(post({"subnet_id": other_subnet["id"]}), 400, "InvalidInput")
    assert "because fixed_ips included invalid subnet" in message


def test_pool_exhausted(admin):
    net = admin.create("network", name="tiny")
    admin.create("subnet", network_id=net["id"], cidr="10.0.0.0/29", ip_version=4,
                 allocation_pools=[{"start": "10.0.0.2", "end": "10.0.0.3"}])
    first = admin.create("port", network_id=net["id"])
    second = admin.create("port", network_id=net["id"])
    assert {first["fixed_ips"][0]["ip_address"], second["fixed_ips"][0]["ip_address"]} == \
        {"10.0.0.2", "10.0.0.3"}
    message = neutron_error(admin.post("ports", {"port": {"network_id": net["id"]}}),
                            409, "IpAddressGenerationFailure")
    assert message == f"No more IP addresses available on network {net['id']}."
    # Freed, it is given again.
    admin.delete(f"ports/{first['id']}")
    assert admin.create("port", network_id=net["id"])["fixed_ips"] == first["fixed_ips"]


def test_a_port_of_one_server_cannot_be_taken_by_another(admin):
    net, _ = admin.network_with_subnet()
    port = admin.create("port", network_id=net["id"], device_id=SERVER)
    response = admin.put(f"ports/{port['id']}", {"port": {"device_id": SERVER_2}})
    message = neutron_error(response, 409, "PortInUse")
    assert message == (f"Unable to complete operation on port {port['id']} for network "
                       f"{net['id']}. Port already has an attached device {SERVER}.")
    # Released first (Nova's detach), then it can.
    assert admin.put(f"ports/{port['id']}", {"port": {"device_id": "", "device_owner": ""}}
                     ).status_code == 200
    assert admin.put(f"ports/{port['id']}", {"port": {"device_id": SERVER_2}}
                     ).status_code == 200


def test_mac_addresses(admin):
    net, _ = admin.network_with_subnet()
    port = admin.create("port", network_id=net["id"], mac_address="FA:16:3E:00:00:07")
    assert port["mac_address"] == "fa:16:3e:00:00:07"
    response = admin.post("ports", {"port": {"network_id": net["id"],
                                             "mac_address": "fa:16:3e:00:00:07"}})
    neutron_error(response, 409, "MacAddressInUse")
    other, _ = admin.network_with_subnet("10.0.1.0/24")
    admin.create("port", network_id=other["id"], mac_address="fa:16:3e:00:00:07")


def test_binding(admin):
    net, _ = admin.network_with_subnet()
    port = admin.create("port", network_id=net["id"], device_id=SERVER)
    response = admin.put(f"ports/{port['id']}", {"port": {
        "device_owner": "compute:nova", "binding:host_id": "compute1",
        "binding:profile": {}, "dns_name": "vm1"}})
    assert response.status_code == 200, response.text
    bound = response.json()["port"]
    assert bound["binding:host_id"] == "compute1"
    assert bound["binding:vif_type"] == "bridge"
    assert bound["binding:vif_details"] == {"port_filter": True, "connectivity": "l2",
                                            "bridge_name": "brq" + net["id"][:11]}
    assert bound["binding:vnic_type"] == "normal"
    assert bound["status"] == "DOWN"
    assert bound["dns_assignment"][0]["hostname"] == "vm1"
    unbound = admin.put(f"ports/{port['id']}", {"port": {"binding:host_id": None}}).json()["port"]
    assert unbound["binding:vif_type"] == "unbound" and unbound["binding:vif_details"] == {}


def test_bound_at_create(admin):
    net, _ = admin.network_with_subnet()
    port = admin.create("port", network_id=net["id"], **{"binding:host_id": "compute1"})
    assert port["binding:vif_type"] == "bridge"
    neutron_error(admin.post("ports", {"port": {"network_id": net["id"],
                                                "binding:vnic_type": "direct"}}),
                  400, "HTTPBadRequest")


def test_a_bound_ports_mac_cannot_change(admin):
    net, _ = admin.network_with_subnet()
    port = admin.create("port", network_id=net["id"], **{"binding:host_id": "compute1"})
    neutron_error(admin.put(f"ports/{port['id']}", {"port": {"mac_address": "fa:16:3e:00:00:01"}}),
                  409, "PortBound")


def test_change_addresses(admin):
    net, subnet = admin.network_with_subnet()
    port = admin.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.0.0.9"}])
    response = admin.put(f"ports/{port['id']}", {"port": {"fixed_ips": [
        {"ip_address": "10.0.0.10"}]}})
    assert response.json()["port"]["fixed_ips"] == [{"subnet_id": subnet["id"],
                                                     "ip_address": "10.0.0.10"}]
    # 10.0.0.9 is free again.
    admin.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.0.0.9"}])


def test_port_filters(admin):
    net, subnet = admin.network_with_subnet()
    mine = admin.create("port", network_id=net["id"], device_id=SERVER,
                        fixed_ips=[{"ip_address": "10.0.0.9"}])
    admin.create("port", network_id=net["id"], device_id=SERVER_2)
    assert [p["id"] for p in admin.get("ports", device_id=SERVER).json()["ports"]] == [mine["id"]]
    by_ip = admin.get("ports", fixed_ips="ip_address=10.0.0.9").json()["ports"]
    assert [p["id"] for p in by_ip] == [mine["id"]]
    by_subnet = admin.get("ports", fixed_ips=f"subnet_id={subnet['id']}").json()["ports"]
    assert len(by_subnet) == 2
    assert admin.get("ports", network_id=net["id"], status="ACTIVE").json()["ports"] == []


def test_security_groups_are_listed_with_a_default_per_project(demo, other):
    [group] = demo.get("security-groups").json()["security_groups"]
    assert group["name"] == "default" and group["project_id"] == "demo"
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"])
             for r in group["security_group_rules"]}
    assert rules == {("egress", "IPv4", None), ("egress", "IPv6", None),
                     ("ingress", "IPv4", group["id"]), ("ingress", "IPv6", group["id"])}
    listed = demo.get("security-group-rules").json()["security_group_rules"]
    assert {r["id"] for r in listed} == {r["id"] for r in group["security_group_rules"]}
    assert demo.get("security-groups").json()["security_groups"] == [group]  # still one
    [others] = other.get("security-groups").json()["security_groups"]
    assert others["id"] != group["id"]
    neutron_error(other.get(f"security-groups/{group['id']}"), 404, "SecurityGroupNotFound")


def test_ports_get_their_projects_default_group(admin, demo):
    net, _ = admin.network_with_subnet(shared=True)
    port = demo.create("port", network_id=net["id"])
    [group] = demo.get("security-groups").json()["security_groups"]
    assert port["security_groups"] == [group["id"]]
    neutron_error(demo.post("ports", {"port": {"network_id": net["id"], "security_groups": [
        "00000000-0000-4000-8000-000000000000"]}}), 404, "SecurityGroupNotFound")
