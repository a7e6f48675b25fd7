"""How the DHCP agent applies what the server casts
(mininova/network/agent/dhcp.py): a network or subnet change is applied
whole, a port change only reloads dnsmasq's files when the network is
already served here. No RPC, no process: the server's answers and
dnsmasq are stand-ins."""

import pytest

from mininova.network import utils
from mininova.network.agent import dhcp as dhcp_agent

NETWORK_ID = "273a63a0-2065-46fe-a74b-d44526fcc9d3"
HOST = "node1"
SUBNET = {"id": "s1", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1", "enable_dhcp": True,
          "ip_version": 4}
DHCP_PORT = {"id": "p-dhcp", "device_id": utils.dhcp_device_id(NETWORK_ID, HOST),
             "mac_address": "fa:16:3e:00:00:02",
             "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.2"}]}
GUEST_PORT = {"id": "p-guest", "device_id": "a-server", "mac_address": "fa:16:3e:00:00:07",
              "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.7"}]}


class PluginApi:
    def __init__(self, network):
        self.network = network
        self.calls = []

    def get_network_info(self, context, network_id, host):
        self.calls.append("get_network_info")
        return self.network


class Dnsmasq:
    """Records what the agent asked of dnsmasq; ``served``: whether it runs
    here with the network's subnets (else reload_allocations declines)."""
    served = True
    reloaded = []

    def __init__(self, network_id):
        self.network_id = network_id

    def reload_allocations(self, network, dhcp_port):
        if not Dnsmasq.served:
            return False
        Dnsmasq.reloaded.append((self.network_id, [p["id"] for p in network["ports"]],
                                 dhcp_port["id"]))
        return True


@pytest.fixture
def agent(monkeypatch):
    Dnsmasq.served, Dnsmasq.reloaded = True, []
    monkeypatch.setattr(dhcp_agent.dhcp, "Dnsmasq", Dnsmasq)
    network = {"id": NETWORK_ID, "subnets": [SUBNET], "ports": [DHCP_PORT, GUEST_PORT]}
    the_agent = dhcp_agent.DhcpAgent(host=HOST, plugin_api=PluginApi(network))
    the_agent.whole_syncs = []
    monkeypatch.setattr(the_agent, "sync_network", the_agent.whole_syncs.append)
    return the_agent


def test_a_port_change_on_a_served_network_only_reloads_dnsmasq(agent):
    agent.reload_allocations(NETWORK_ID)
    assert Dnsmasq.reloaded == [(NETWORK_ID, ["p-dhcp", "p-guest"], "p-dhcp")]
    assert agent.plugin_api.calls == ["get_network_info"]
    assert agent.whole_syncs == []


def test_a_network_dnsmasq_does_not_serve_yet_is_synced_whole(agent):
    Dnsmasq.served = False
    agent.reload_allocations(NETWORK_ID)
    assert agent.whole_syncs == [NETWORK_ID]


@pytest.mark.parametrize("network", [
    None,                                                             # deleted meanwhile
    {"id": NETWORK_ID, "subnets": [SUBNET], "ports": [GUEST_PORT]},    # no DHCP port yet
    {"id": NETWORK_ID, "subnets": [dict(SUBNET, enable_dhcp=False)],
     "ports": [DHCP_PORT, GUEST_PORT]},                               # DHCP turned off
])
def test_without_this_hosts_dhcp_port_the_network_is_synced_whole(agent, network):
    agent.plugin_api.network = network
    agent.reload_allocations(NETWORK_ID)
    assert agent.whole_syncs == [NETWORK_ID]
    assert Dnsmasq.reloaded == []


def test_port_events_mark_the_network_for_a_reload_and_network_events_for_a_sync(agent):
    agent.port_create_end(None, NETWORK_ID, "p-guest")
    agent.subnet_update_end(None, "another-network")
    assert agent._ports_dirty == {NETWORK_ID}
    assert agent._dirty == {"another-network"}


def test_a_boots_create_and_bind_of_a_port_cost_one_reload(agent):
    agent._full_sync = False
    agent.port_create_end(None, NETWORK_ID, "p-guest")
    agent.port_update_end(None, NETWORK_ID, "p-guest")
    agent._apply_marked()
    assert agent.plugin_api.calls == ["get_network_info"]
    assert Dnsmasq.reloaded == [(NETWORK_ID, ["p-dhcp", "p-guest"], "p-dhcp")]
    assert agent._idle.is_set()


@pytest.fixture
def settle_waits(agent, monkeypatch):
    waits = []
    monkeypatch.setattr(agent._stopping, "wait", waits.append)
    agent._full_sync = False
    return waits


def test_port_changes_wait_for_the_next_one_before_the_reload(agent, settle_waits):
    agent.port_create_end(None, NETWORK_ID, "p-guest")
    agent._let_port_changes_settle()
    assert settle_waits == [dhcp_agent.PORT_CHANGES_SETTLE]


@pytest.mark.parametrize("mark", [
    lambda agent: agent.subnet_update_end(None, "another-network"),
    lambda agent: setattr(agent, "_full_sync", True),
])
def test_a_network_change_is_applied_at_once(agent, settle_waits, mark):
    agent.port_create_end(None, NETWORK_ID, "p-guest")
    mark(agent)
    agent._let_port_changes_settle()
    assert settle_waits == []


# --- the metadata proxy's life, next to dnsmasq's -----------------------------------

class Recorder:
    """Stand-ins for dnsmasq and the metadata proxy writing to one list,
    so that the order of their starts and stops shows."""
    events = []
    proxy_runs = True

    class Dnsmasq:
        def __init__(self, network_id):
            self.network_id = network_id

        def disable(self):
            Recorder.events.append(("dnsmasq.disable", self.network_id))

    class MetadataProxy:
        def __init__(self, network_id):
            self.network_id = network_id

        def enable(self):
            Recorder.events.append(("proxy.enable", self.network_id))

        def disable(self):
            Recorder.events.append(("proxy.disable", self.network_id))

        def pid(self):
            return 4242 if Recorder.proxy_runs else None


@pytest.fixture
def recorded(monkeypatch, conf):
    Recorder.events, Recorder.proxy_runs = [], True
    monkeypatch.setattr(dhcp_agent.dhcp, "Dnsmasq", Recorder.Dnsmasq)
    monkeypatch.setattr(dhcp_agent.metadata_driver, "MetadataProxy", Recorder.MetadataProxy)
    return Recorder


@pytest.mark.parametrize("isolated_metadata, expected", [(True, "proxy.enable"),
                                                          (False, "proxy.disable")])
def test_the_proxy_follows_enable_isolated_metadata(recorded, conf, isolated_metadata,
                                                    expected):
    conf.set_override("enable_isolated_metadata", isolated_metadata, "dhcp")
    dhcp_agent.DhcpAgent._sync_metadata_proxy(NETWORK_ID)
    assert recorded.events == [(expected, NETWORK_ID)]


def test_the_proxy_stops_before_dnsmasq_deletes_the_namespace(recorded):
    dhcp_agent.DhcpAgent._disable_dhcp(NETWORK_ID)
    assert recorded.events == [("proxy.disable", NETWORK_ID), ("dnsmasq.disable", NETWORK_ID)]


def test_forgetting_a_network_stops_its_proxy_first(recorded, conf, monkeypatch, tmp_path):
    conf.set_override("dhcp_confs", str(tmp_path), "dhcp")
    (tmp_path / NETWORK_ID).mkdir()
    monkeypatch.setattr(dhcp_agent.host_gateway, "remove", lambda network_id: None)
    dhcp_agent.DhcpAgent(host=HOST, plugin_api=PluginApi(None))._forget(NETWORK_ID,
                                                                       network_gone=True)
    assert recorded.events == [("proxy.disable", NETWORK_ID), ("dnsmasq.disable", NETWORK_ID)]


@pytest.mark.parametrize("isolated_metadata, proxy_runs, marked", [
    (True, False, True),     # a dead proxy is started again
    (True, True, False),
    (False, False, False),   # none is wanted
])
def test_the_periodic_check_restarts_a_dead_proxy(recorded, conf, tmp_path, monkeypatch,
                                                  isolated_metadata, proxy_runs, marked):
    conf.set_override("dhcp_confs", str(tmp_path), "dhcp")
    conf.set_override("enable_isolated_metadata", isolated_metadata, "dhcp")
    recorded.proxy_runs = proxy_runs
    (tmp_path / NETWORK_ID).mkdir()
    (tmp_path / NETWORK_ID / "cmdline").write_text("dnsmasq ...")

    class RunningDnsmasq:
        def __init__(self, network_id):
            self.conf_dir = str(tmp_path / network_id)

        def path(self, kind):
            return f"{self.conf_dir}/{kind}"

        def pid(self):
            return 1234

    monkeypatch.setattr(dhcp_agent.dhcp, "Dnsmasq", RunningDnsmasq)
    agent = dhcp_agent.DhcpAgent(host=HOST, plugin_api=PluginApi(None))
    agent._check_processes()
    assert agent._dirty == ({NETWORK_ID} if marked else set())
