"""IPAM rules, without a database (mininova/network/ipam.py)."""

import ipaddress

import pytest

from mininova.network import exceptions, ipam

NET = ipaddress.ip_network("10.0.0.0/24")


def ip(text):
    return ipaddress.ip_address(text)


def test_parse_cidr_drops_host_bits():
    assert str(ipam.parse_cidr("10.0.0.5/24")) == "10.0.0.0/24"


@pytest.mark.parametrize("value", ["10.0.0.0", "10.0.0.0/33", "foo", " 10.0.0.0/24", None, 5])
def test_parse_cidr_refuses(value):
    with pytest.raises(ValueError, match="is not a valid IP subnet"):
        ipam.parse_cidr(value)


def test_parse_cidr_refuses_prefix_zero():
    with pytest.raises(ValueError, match="0 is not allowed as CIDR prefix length"):
        ipam.parse_cidr("0.0.0.0/0")


def test_default_gateway_and_pools():
    gateway = ipam.default_gateway(NET)
    assert gateway == ip("10.0.0.1")
    assert ipam.default_pools(NET, gateway) == [(ip("10.0.0.2"), ip("10.0.0.254"))]


def test_default_pools_split_around_a_gateway_in_the_middle():
    assert ipam.default_pools(NET, ip("10.0.0.100")) == [
        (ip("10.0.0.1"), ip("10.0.0.99")), (ip("10.0.0.101"), ip("10.0.0.254"))]


def test_default_pools_without_gateway():
    assert ipam.default_pools(NET, None) == [(ip("10.0.0.1"), ip("10.0.0.254"))]


def test_validate_pools_out_of_bounds():
    with pytest.raises(exceptions.OutOfBoundsAllocationPool):
        ipam.validate_pools(NET, [(ip("10.0.0.2"), ip("10.0.1.5"))])
    # The broadcast address is not in the usable range either.
    with pytest.raises(exceptions.OutOfBoundsAllocationPool):
        ipam.validate_pools(NET, [(ip("10.0.0.2"), ip("10.0.0.255"))])


def test_validate_pools_overlap_and_order():
    with pytest.raises(exceptions.OverlappingAllocationPools) as info:
        ipam.validate_pools(NET, [(ip("10.0.0.2"), ip("10.0.0.50")),
                                  (ip("10.0.0.40"), ip("10.0.0.60"))])
    assert info.value.code == 409
    with pytest.raises(exceptions.InvalidAllocationPool):
        ipam.validate_pools(NET, [(ip("10.0.0.9"), ip("10.0.0.2"))])


def test_validate_gateway():
    pools = [(ip("10.0.0.2"), ip("10.0.0.50"))]
    ipam.validate_gateway(NET, ip("10.0.0.1"), pools)
    with pytest.raises(exceptions.GatewayConflictWithAllocationPools):
        ipam.validate_gateway(NET, ip("10.0.0.20"), pools)
    for outside in ("10.0.1.1", "10.0.0.0", "10.0.0.255"):
        with pytest.raises(exceptions.InvalidInput, match="Gateway is not valid on subnet"):
            ipam.validate_gateway(NET, ip(outside), pools)


def test_network_and_broadcast_addresses_are_nobodys():
    assert not ipam.check_fixed_ip(NET, ip("10.0.0.0"))
    assert not ipam.check_fixed_ip(NET, ip("10.0.0.255"))
    assert ipam.check_fixed_ip(NET, ip("10.0.0.254"))
    assert not ipam.check_fixed_ip(NET, ip("10.0.1.1"))


def test_choose_address_dhcp_port_gets_the_first_free_one():
    pools = [(ip("10.0.0.2"), ip("10.0.0.254"))]
    assert ipam.choose_address(pools, {ip("10.0.0.2")}, prefer_first=True) == ip("10.0.0.3")


def test_choose_address_is_random_among_free_ones():
    pools = [(ip("10.0.0.2"), ip("10.0.0.6"))]
    taken = {ip("10.0.0.3"), ip("10.0.0.5")}
    chosen = {ipam.choose_address(pools, taken) for _ in range(200)}
    assert chosen == {ip("10.0.0.2"), ip("10.0.0.4"), ip("10.0.0.6")}


def test_choose_address_when_the_pools_are_full():
    pools = [(ip("10.0.0.2"), ip("10.0.0.3"))]
    assert ipam.choose_address(pools, {ip("10.0.0.2"), ip("10.0.0.3")}) is None


def test_overlapping():
    others = [ipaddress.ip_network("10.1.0.0/16"), ipaddress.ip_network("10.0.0.128/25")]
    assert ipam.overlapping(NET, others) == others[1]
    assert ipam.overlapping(ipaddress.ip_network("10.2.0.0/24"), others) is None


def test_choose_address_keeps_the_pools_address_type():
    # An IPv6 pool's low addresses are small integers; they stay IPv6.
    pools = [(ip("::2"), ip("::4"))]
    chosen = ipam.choose_address(pools, {ip("::2")}, prefer_first=True)
    assert chosen == ip("::3") and isinstance(chosen, ipaddress.IPv6Address)


def test_choose_address_only_looks_at_the_first_window_of_a_large_pool():
    pools = [(ip("10.0.0.2"), ip("10.255.255.254"))]
    chosen = {ipam.choose_address(pools, set()) for _ in range(50)}
    assert all(int(ip("10.0.0.2")) <= int(a) < int(ip("10.0.0.2")) + ipam.RANDOM_WINDOW
               for a in chosen)
