"""A port's life as Nova's side sees it: created by the user, bound by Nova
(as a service), its tap reported by the L2 agent over RPC, ACTIVE, and the
external events Nova receives; and what the agents are told meanwhile.

The L2 agent is played by the test, through the same RPC calls
(``agent_rpc.PluginApi`` over memory://) the real one makes."""

import threading

import pytest

from mininova import context as mn_context
from mininova.network import agent_rpc, constants, utils

SERVER = "e00902fe-14b8-49ea-97aa-cbd93c491065"


class Recorder:
    """An agent endpoint that writes down every cast it receives."""

    NOT_RPC = frozenset({"wait_for"})

    def __init__(self):
        self.casts = []
        self.arrived = threading.Condition()

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def record(context, **kwargs):
            with self.arrived:
                self.casts.append((name, kwargs))
                self.arrived.notify_all()
        return record

    def wait_for(self, method, timeout=10, **kwargs):
        def found():
            return any(m == method and all(args.get(k) == v for k, v in kwargs.items())
                       for m, args in self.casts)
        with self.arrived:
            assert self.arrived.wait_for(found, timeout), self.casts


@pytest.fixture
def dhcp_agent(network_service):
    recorder = Recorder()
    server = agent_rpc.rpc_server(constants.TOPIC_DHCP_AGENT, "node1", [recorder])
    server.start()
    yield recorder
    server.stop()


@pytest.fixture
def l2_agents(network_service):
    recorder = Recorder()
    server = agent_rpc.rpc_server(constants.TOPIC_AGENT_NOTIFIER, "h1", [recorder])
    server.start()
    yield recorder
    server.stop()


@pytest.fixture
def agent_api(network_service):
    return agent_rpc.PluginApi(timeout=10)


@pytest.fixture
def ctxt():
    return mn_context.get_admin_context()


def boot_port(demo, nova_service, network, host="h1"):
    """What Nova's compute does: the user's port, then bound by Nova."""
    port = demo.create("port", network_id=network["id"], device_id=SERVER, tenant_id="demo")
    response = nova_service.put(f"ports/{port['id']}", {"port": {
        "device_id": SERVER, "device_owner": "compute:nova", "binding:host_id": host}})
    assert response.status_code == 200, response.text
    return response.json()["port"]


def test_tap_up_makes_the_port_active_and_tells_nova(admin, demo, nova_service, fake_nova,
                                                     agent_api, ctxt):
    net, _ = admin.network_with_subnet(shared=True)
    port = boot_port(demo, nova_service, net)
    tap = utils.tap_device_name(port["id"])
    # The agent found the tap: it asks, the port is BUILD.
    [details] = agent_api.get_devices_details_list(ctxt, [tap], "lb-h1", "h1")
    assert details["port_id"] == port["id"]
    assert details["bridge_name"] == utils.bridge_name(net["id"])
    assert details["device_owner"] == "compute:nova" and details["admin_state_up"] is True
    assert admin.get(f"ports/{port['id']}").json()["port"]["status"] == "BUILD"
    assert agent_api.update_device_up(ctxt, tap, "lb-h1", "h1") == {"device": tap,
                                                                     "exists": True}
    assert admin.get(f"ports/{port['id']}").json()["port"]["status"] == "ACTIVE"
    event = fake_nova.wait_for("network-vif-plugged", port["id"])
    assert event == {"name": "network-vif-plugged", "server_uuid": SERVER,
                     "tag": port["id"], "status": "completed"}
    [request] = [r for r in fake_nova.requests
                 if r["body"]["events"][0]["name"] == "network-vif-plugged"]
    assert request["path"] == "/v2.1/os-server-external-events"
    assert request["headers"]["X-Auth-Token"] == "neutron:service"
    assert request["headers"]["X-Roles"] == "service"


def test_nova_hears_of_changes_unplugs_and_deletes(admin, demo, nova_service, fake_nova,
                                                   agent_api, ctxt):
    net, _ = admin.network_with_subnet(shared=True)
    port = boot_port(demo, nova_service, net)
    # Nova's own binding update is a change of the server's port.
    fake_nova.wait_for("network-changed", port["id"])
    tap = utils.tap_device_name(port["id"])
    agent_api.update_device_up(ctxt, tap, "lb-h1", "h1")
    fake_nova.wait_for("network-vif-plugged", port["id"])
    agent_api.update_device_down(ctxt, tap, "lb-h1", "h1")
    assert fake_nova.wait_for("network-vif-unplugged", port["id"])["status"] == "completed"
    assert admin.get(f"ports/{port['id']}").json()["port"]["status"] == "DOWN"
    assert admin.delete(f"ports/{port['id']}").status_code == 204
    event = fake_nova.wait_for("network-vif-deleted", port["id"])
    assert event == {"name": "network-vif-deleted", "server_uuid": SERVER, "tag": port["id"]}


def test_no_events_for_ports_that_are_not_servers(admin, fake_nova, agent_api, ctxt):
    net, _ = admin.network_with_subnet()
    port = admin.create("port", network_id=net["id"], device_owner="network:dhcp",
                        device_id="dhcp-x", **{"binding:host_id": "h1"})
    tap = utils.tap_device_name(port["id"])
    agent_api.update_device_up(ctxt, tap, "lb-h1", "h1")
    assert admin.get(f"ports/{port['id']}").json()["port"]["status"] == "ACTIVE"
    admin.delete(f"ports/{port['id']}")
    assert fake_nova.events() == []


def test_only_the_agent_of_the_ports_host_counts(admin, demo, nova_service, fake_nova,
                                                  agent_api, ctxt):
    net, _ = admin.network_with_subnet(shared=True)
    port = boot_port(demo, nova_service, net, host="h1")
    tap = utils.tap_device_name(port["id"])
    [details] = agent_api.get_devices_details_list(ctxt, [tap], "lb-h2", "h2")
    assert details == {"device": tap, "no_active_binding": True}
    agent_api.update_device_up(ctxt, tap, "lb-h2", "h2")
    assert admin.get(f"ports/{port['id']}").json()["port"]["status"] == "DOWN"
    # A device no port owns is nobody's.
    assert agent_api.get_devices_details_list(ctxt, ["tap00000000-00"], "lb-h1", "h1") == [
        {"device": "tap00000000-00"}]
    assert agent_api.update_device_down(ctxt, "tap00000000-00", "lb-h1", "h1")["exists"] is False


def test_binding_elsewhere_takes_the_port_down(admin, demo, nova_service, fake_nova,
                                               agent_api, ctxt):
    net, _ = admin.network_with_subnet(shared=True)
    port = boot_port(demo, nova_service, net, host="h1")
    agent_api.update_device_up(ctxt, utils.tap_device_name(port["id"]), "lb-h1", "h1")
    fake_nova.wait_for("network-vif-plugged", port["id"])
    moved = nova_service.put(f"ports/{port['id']}", {"port": {"binding:host_id": "h2"}})
    assert moved.json()["port"]["status"] == "DOWN"
    fake_nova.wait_for("network-vif-unplugged", port["id"])


def test_the_agents_are_told(admin, demo, nova_service, dhcp_agent, l2_agents):
    net, subnet = admin.network_with_subnet(shared=True)
    dhcp_agent.wait_for("network_create_end", network_id=net["id"])
    dhcp_agent.wait_for("subnet_create_end", network_id=net["id"])
    port = boot_port(demo, nova_service, net)
    dhcp_agent.wait_for("port_create_end", network_id=net["id"], port_id=port["id"])
    dhcp_agent.wait_for("port_update_end", network_id=net["id"], port_id=port["id"])
    l2_agents.wait_for("port_update")
    admin.delete(f"ports/{port['id']}")
    dhcp_agent.wait_for("port_delete_end", network_id=net["id"], port_id=port["id"])
    l2_agents.wait_for("port_delete", port_id=port["id"], network_id=net["id"])
    admin.delete(f"subnets/{subnet['id']}")
    dhcp_agent.wait_for("subnet_delete_end", network_id=net["id"])
    admin.delete(f"networks/{net['id']}")
    dhcp_agent.wait_for("network_delete_end", network_id=net["id"])
    l2_agents.wait_for("network_delete", network_id=net["id"])


def test_the_dhcp_agents_view(admin, demo, network_service, agent_api, ctxt):
    net, subnet = admin.network_with_subnet(shared=True)
    port = demo.create("port", network_id=net["id"])
    dhcp_port = agent_api.setup_dhcp_port(ctxt, net["id"], "node1")
    assert dhcp_port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.2"}]
    assert dhcp_port["binding:host_id"] == "node1"
    assert dhcp_port["device_id"] == utils.dhcp_device_id(net["id"], "node1")
    # Asked again, the same port.
    assert agent_api.setup_dhcp_port(ctxt, net["id"], "node1")["id"] == dhcp_port["id"]
    info = agent_api.get_network_info(ctxt, net["id"], "node1")
    assert [s["id"] for s in info["subnets"]] == [subnet["id"]]
    assert {p["id"] for p in info["ports"]} == {port["id"], dhcp_port["id"]}
    assert net["id"] in agent_api.get_active_networks(ctxt, "node1")
    assert agent_api.count_ports_bound_to_host(ctxt, net["id"], "node1") == 1
    # DHCP off: the port is released.
    admin.put(f"subnets/{subnet['id']}", {"subnet": {"enable_dhcp": False}})
    assert agent_api.setup_dhcp_port(ctxt, net["id"], "node1") is None
    assert admin.get(f"ports/{dhcp_port['id']}").status_code == 404
