"""Network info from the network service's records, and what the API shows."""

from mininova.network import model, os_vif_util

PORT = {"id": "6a0c7b3e-1111-2222-3333-444455556666", "mac_address": "fa:16:3e:aa:bb:cc",
        "network_id": "0f7e0e4a-aaaa-bbbb-cccc-ddddeeeeffff", "status": "DOWN",
        "binding:vif_type": "bridge",
        "binding:vif_details": {"port_filter": True, "bridge_name": "brq0f7e0e4a-aa"},
        "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}]}
NETWORK = {"id": PORT["network_id"], "name": "private", "mtu": 1450}
SUBNETS = [{"id": "s1", "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1",
            "dns_nameservers": ["10.0.0.1"], "enable_dhcp": True}]


def test_a_vif_from_a_bound_port():
    vif = model.vif_from_port(PORT, NETWORK, SUBNETS)
    assert vif["devname"] == "tap6a0c7b3e-11"
    assert vif["network"]["bridge"] == "brq0f7e0e4a-aa"
    assert vif["active"] is False
    assert model.fixed_ips(vif) == [{"address": "10.0.0.5", "type": "fixed"}]


def test_addresses_have_novas_shape():
    vif = model.vif_from_port(PORT, NETWORK, SUBNETS)
    assert model.addresses([vif]) == {"private": [{
        "version": 4, "addr": "10.0.0.5", "OS-EXT-IPS:type": "fixed",
        "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:aa:bb:cc"}]}
    assert model.addresses(None) == {}


def test_the_os_vif_object_is_novas_vifbridge():
    vif = os_vif_util.nova_to_osvif_vif(model.vif_from_port(PORT, NETWORK, SUBNETS))
    assert type(vif).__name__ == "VIFBridge"
    assert (vif.bridge_name, vif.vif_name, vif.plugin) == (
        "brq0f7e0e4a-aa", "tap6a0c7b3e-11", "linux_bridge")
    assert str(vif).startswith("VIFBridge(active=False,address=fa:16:3e:aa:bb:cc,"
                               "bridge_name='brq0f7e0e4a-aa',has_traffic_filtering=True,")


def test_a_vif_keeps_what_only_nova_knows():
    # The network service knows neither a port the user brought nor a NIC's
    # device role tag (Nova's VirtualInterface.tag): they come from Nova.
    vif = model.vif_from_port(PORT, NETWORK, SUBNETS, preserve_on_delete=True, tag="nic1")
    assert (vif["preserve_on_delete"], vif["tag"]) == (True, "nic1")
    assert model.vif_from_port(PORT, NETWORK, SUBNETS)["tag"] is None
