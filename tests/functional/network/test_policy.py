"""Who sees and does what (mininova/network/policy.py), cell by cell: the
admin, a member of the owning project, its reader, a member of another
project, and Nova's service user; private and shared networks."""

import pytest

from tests.functional.network.conftest import neutron_error


@pytest.fixture
def demo_net(demo):
    """demo's own network with a subnet and a port."""
    net, subnet = demo.network_with_subnet("10.0.0.0/24")
    port = demo.create("port", network_id=net["id"])
    return net, subnet, port


@pytest.fixture
def shared_net(admin):
    net, subnet = admin.network_with_subnet("10.0.1.0/24", shared=True)
    return net, subnet


def ids(response, key):
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()[key]}


def test_a_project_sees_its_own_and_shared_networks(admin, demo, other, demo_net, shared_net):
    mine, shared = demo_net[0]["id"], shared_net[0]["id"]
    assert ids(demo.get("networks"), "networks") == {mine, shared}
    assert ids(other.get("networks"), "networks") == {shared}
    assert ids(admin.get("networks"), "networks") == {mine, shared}
    # Another project's network is missing, not forbidden.
    neutron_error(other.get(f"networks/{mine}"), 404, "NetworkNotFound")
    neutron_error(other.get(f"subnets/{demo_net[1]['id']}"), 404, "SubnetNotFound")
    neutron_error(other.get(f"ports/{demo_net[2]['id']}"), 404, "PortNotFound")
    assert ids(other.get("subnets"), "subnets") == {shared_net[1]["id"]}
    assert ids(other.get("ports"), "ports") == set()


def test_others_cannot_change_or_delete(admin, other, demo_net, shared_net):
    mine = demo_net[0]["id"]
    neutron_error(other.put(f"networks/{mine}", {"network": {"name": "x"}}), 404,
                  "NetworkNotFound")
    neutron_error(other.delete(f"networks/{mine}"), 404, "NetworkNotFound")
    # A shared network is seen, so the refusal is a 403.
    shared = shared_net[0]["id"]
    message = neutron_error(other.put(f"networks/{shared}", {"network": {"name": "x"}}),
                            403, "PolicyNotAuthorized")
    assert message == "update_network is disallowed by policy"
    neutron_error(other.delete(f"networks/{shared}"), 403, "PolicyNotAuthorized")
    neutron_error(other.post("subnets", {"subnet": {"network_id": shared, "ip_version": 4,
                                                    "cidr": "10.0.9.0/24"}}),
                  403, "PolicyNotAuthorized")


def test_ports_on_others_networks(demo, other, demo_net, shared_net):
    # On a shared network anyone makes ports; on another's private one, no.
    port = other.create("port", network_id=shared_net[0]["id"])
    assert port["project_id"] == "other"
    neutron_error(other.post("ports", {"port": {"network_id": demo_net[0]["id"]}}),
                  404, "HTTPNotFound")
    # Choosing an address is the network owner's (or an admin's) business.
    neutron_error(other.post("ports", {"port": {"network_id": shared_net[0]["id"],
                                                "fixed_ips": [{"ip_address": "10.0.1.9"}]}}),
                  403, "PolicyNotAuthorized")
    # An address the fixture's port did not get (IPAM picks at random).
    taken = demo_net[2]["fixed_ips"][0]["ip_address"]
    wanted = "10.0.0.9" if taken != "10.0.0.9" else "10.0.0.10"
    port = demo.create("port", network_id=demo_net[0]["id"],
                       fixed_ips=[{"ip_address": wanted}])
    assert port["fixed_ips"][0]["ip_address"] == wanted


def test_only_an_admin_shares_a_network(admin, demo):
    message = neutron_error(demo.post("networks", {"network": {"name": "s", "shared": True}}),
                            403, "PolicyNotAuthorized")
    assert message == "create_network:shared is disallowed by policy"
    # Saying the default is not asking for anything.
    assert demo.create("network", name="s", shared=False)["shared"] is False
    assert admin.create("network", name="s", shared=True)["shared"] is True


def test_a_reader_reads(demo_reader, demo_net):
    assert demo_net[0]["id"] in ids(demo_reader.get("networks"), "networks")
    assert demo_reader.get(f"ports/{demo_net[2]['id']}").status_code == 200
    neutron_error(demo_reader.post("networks", {"network": {"name": "r"}}), 403,
                  "PolicyNotAuthorized")
    neutron_error(demo_reader.put(f"ports/{demo_net[2]['id']}", {"port": {"name": "r"}}), 403,
                  "PolicyNotAuthorized")
    neutron_error(demo_reader.delete(f"ports/{demo_net[2]['id']}"), 403,
                  "PolicyNotAuthorized")


def test_binding_is_for_admins_and_services(admin, demo, nova_service, demo_net):
    port_id = demo_net[2]["id"]
    # A member does not even see the binding attributes of their port.
    seen = demo.get(f"ports/{port_id}").json()["port"]
    assert not {"binding:host_id", "binding:vif_type", "binding:vif_details",
                "binding:profile"} & set(seen)
    assert seen["binding:vnic_type"] == "normal"
    message = neutron_error(demo.put(f"ports/{port_id}", {"port": {"binding:host_id": "h1"}}),
                            403, "PolicyNotAuthorized")
    assert message == "update_port:binding:host_id is disallowed by policy"
    # Nova, with its service token, binds it and sees how.
    response = nova_service.put(f"ports/{port_id}", {"port": {
        "device_id": "e00902fe-14b8-49ea-97aa-cbd93c491065", "device_owner": "compute:nova",
        "binding:host_id": "h1"}})
    assert response.status_code == 200, response.text
    assert response.json()["port"]["binding:vif_type"] == "bridge"
    assert admin.get(f"ports/{port_id}").json()["port"]["binding:host_id"] == "h1"
    # It can list the server's ports of any project, as Nova does.
    assert port_id in ids(nova_service.get(
        "ports", device_id="e00902fe-14b8-49ea-97aa-cbd93c491065"), "ports")


def test_naming_another_project(admin, demo, demo_net):
    message = neutron_error(demo.post("networks", {"network": {"name": "x",
                                                               "tenant_id": "other"}}),
                            400, "HTTPBadRequest")
    assert message == ("Specifying 'project_id' other than the authenticated project in "
                       "request is not allowed for the current user.")
    # One's own, as Nova sends it, is fine; an admin may name any.
    assert demo.create("port", network_id=demo_net[0]["id"], tenant_id="demo")
    assert admin.create("network", name="x", project_id="other")["tenant_id"] == "other"
    neutron_error(admin.post("networks", {"network": {"tenant_id": "a", "project_id": "b"}}),
                  400, "HTTPBadRequest")
