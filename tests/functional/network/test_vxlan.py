"""VXLAN networks through the API and the agents' RPC (mininova/network/
type_vxlan.py): each network its own VNI from [ml2_type_vxlan] vni_ranges,
the MTU less the tunnel's headers, the provider attributes for admins only,
the range used up, and the tunnel endpoints the agents announce."""

import pytest

from mininova import context as mn_context
from mininova.network import agent_rpc
from tests.functional.network.conftest import neutron_error


@pytest.fixture(autouse=True)
def vni_ranges(conf):
    conf.set_override("vni_ranges", ["100:101", "200:200"], "ml2_type_vxlan")


def test_each_network_gets_the_lowest_free_vni(admin):
    first = admin.create("network", name="a")
    second = admin.create("network", name="b")
    assert (first["provider:network_type"], first["provider:segmentation_id"]) == ("vxlan", 100)
    assert second["provider:segmentation_id"] == 101
    # 1500 less IPv4 + UDP + VXLAN + the inner Ethernet header.
    assert first["mtu"] == 1450
    assert admin.delete(f"networks/{first['id']}").status_code == 204
    # A deleted network's VNI is free again (its segment went with it).
    assert admin.create("network", name="c")["provider:segmentation_id"] == 100
    shown = admin.get(f"networks/{second['id']}").json()["network"]
    assert shown["provider:segmentation_id"] == 101
    listed = admin.get("networks", **{"provider:segmentation_id": 101}).json()["networks"]
    assert [n["id"] for n in listed] == [second["id"]]


def test_only_admins_see_the_provider_attributes(admin, demo):
    net = demo.create("network", name="mine")
    assert "provider:segmentation_id" not in net
    assert "provider:network_type" not in demo.get(f"networks/{net['id']}").json()["network"]
    assert admin.get(f"networks/{net['id']}").json()["network"][
        "provider:network_type"] == "vxlan"


def test_the_provider_attributes_cannot_be_chosen(admin):
    response = admin.post("networks", {"network": {"name": "x",
                                                   "provider:segmentation_id": 7}})
    assert response.status_code == 400, response.text


def test_no_vni_left_is_a_503_and_leaves_nothing(admin):
    for name in ("a", "b", "c"):
        admin.create("network", name=name)
    message = neutron_error(admin.post("networks", {"network": {"name": "d"}}), 503,
                            "NoNetworkAvailable")
    assert message == ("Unable to create the network. No tenant network is available "
                       "for allocation.")
    assert len(admin.get("networks").json()["networks"]) == 3


def test_tunnel_endpoints_are_recorded_and_announced(admin):
    ctxt = mn_context.get_admin_context()
    api = agent_rpc.PluginApi(timeout=10)
    assert api.tunnel_sync(ctxt, "192.0.2.1", "host1", 4789)["tunnels"] == [
        {"ip_address": "192.0.2.1", "host": "host1", "udp_port": 4789}]
    tunnels = api.tunnel_sync(ctxt, "192.0.2.2", "host2", 4789)["tunnels"]
    assert [(t["ip_address"], t["host"]) for t in tunnels] == [
        ("192.0.2.1", "host1"), ("192.0.2.2", "host2")]
    # Again (an agent restarted): nothing changes.
    assert api.tunnel_sync(ctxt, "192.0.2.2", "host2", 4789)["tunnels"] == tunnels
    # host2 got a new address: its old one is forgotten.
    tunnels = api.tunnel_sync(ctxt, "192.0.2.3", "host2", 4789)["tunnels"]
    assert [(t["ip_address"], t["host"]) for t in tunnels] == [
        ("192.0.2.1", "host1"), ("192.0.2.3", "host2")]
