"""dnsmasq's files and command line, from a network as the server describes
it (mininova/network/linux/dhcp.py; no process, no namespace)."""

from pathlib import Path

import pytest

from mininova.network.linux import dhcp

SUBNET = "3fb8631d-e8d6-4bb5-bcf7-a53b9a4fd0a6"
OTHER = "9a1e4b1c-0000-4bb5-bcf7-a53b9a4fd0a6"
NETWORK_ID = "273a63a0-2065-46fe-a74b-d44526fcc9d3"


def subnet(subnet_id=SUBNET, cidr="10.0.0.0/24", gateway="10.0.0.1", dhcp_on=True, **extra):
    return {"id": subnet_id, "cidr": cidr, "gateway_ip": gateway, "enable_dhcp": dhcp_on,
            "ip_version": 4, "dns_nameservers": [], "host_routes": [], **extra}


def port(mac, ip, subnet_id=SUBNET, dns_name=""):
    return {"mac_address": mac, "dns_name": dns_name,
            "fixed_ips": [{"subnet_id": subnet_id, "ip_address": ip}]}


DHCP_PORT = port("fa:16:3e:a8:bc:fa", "10.0.0.2")


def network(subnets=None, ports=None):
    return {"id": NETWORK_ID, "mtu": 1500, "subnets": subnets or [subnet()],
            "ports": ports if ports is not None else [DHCP_PORT]}


def test_hosts_file_lines_are_neutrons():
    net = network(ports=[DHCP_PORT, port("fa:16:3e:c3:d8:26", "10.0.0.115"),
                         port("fa:16:3e:00:00:07", "10.0.0.7", dns_name="vm1")])
    assert dhcp.hosts_file(net, "openstacklocal") == (
        "fa:16:3e:a8:bc:fa,host-10-0-0-2.openstacklocal,10.0.0.2\n"
        "fa:16:3e:c3:d8:26,host-10-0-0-115.openstacklocal,10.0.0.115\n"
        "fa:16:3e:00:00:07,vm1.openstacklocal,10.0.0.7\n")
    assert dhcp.addn_hosts_file(net, "openstacklocal").splitlines()[2] == (
        "10.0.0.7\tvm1.openstacklocal vm1")


def test_addresses_of_a_subnet_without_dhcp_are_left_out():
    net = network(subnets=[subnet(), subnet(OTHER, "10.0.1.0/24", "10.0.1.1", dhcp_on=False)],
                  ports=[port("fa:16:3e:00:00:01", "10.0.1.5", subnet_id=OTHER)])
    assert dhcp.hosts_file(net, "openstacklocal") == ""


def test_opts_router_and_dns_servers():
    net = network(subnets=[subnet(dns_nameservers=["10.0.0.53"])])
    assert dhcp.opts_file(net, DHCP_PORT).splitlines() == [
        f"tag:subnet-{SUBNET},option:dns-server,10.0.0.53",
        f"tag:subnet-{SUBNET},option:router,10.0.0.1"]


def test_opts_without_gateway_announce_no_router():
    assert dhcp.opts_file(network(subnets=[subnet(gateway=None)]), DHCP_PORT) == \
        f"tag:subnet-{SUBNET},option:router\n"


def test_opts_host_routes_and_metadata_route():
    net = network(subnets=[subnet(host_routes=[{"destination": "10.9.0.0/16",
                                                "nexthop": "10.0.0.9"}])])
    lines = dhcp.opts_file(net, DHCP_PORT, enable_isolated_metadata=True).splitlines()
    routes = "10.9.0.0/16,10.0.0.9,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1"
    assert lines == [f"tag:subnet-{SUBNET},option:classless-static-route,{routes}",
                     f"tag:subnet-{SUBNET},249,{routes}",
                     f"tag:subnet-{SUBNET},option:router,10.0.0.1"]


@pytest.fixture
def dhcp_conf(conf):
    conf.set_override("dhcp_lease_duration", 600, "dhcp")
    return conf


def test_command_line(dhcp_conf):
    cmd = dhcp.command_line(network(), "/var/lib/mininova/dhcp/x")
    assert cmd[:2] == ["dnsmasq", "--no-hosts"]
    assert "--no-resolv" in cmd
    assert "--dhcp-hostsfile=/var/lib/mininova/dhcp/x/host" in cmd
    assert f"--dhcp-range=set:subnet-{SUBNET},10.0.0.0,static,255.255.255.0,600s" in cmd
    assert "--dhcp-lease-max=256" in cmd
    assert "--dhcp-option-force=option:mtu,1500" in cmd
    assert "--domain=openstacklocal" in cmd
    assert not any(arg.startswith("--server=") for arg in cmd)


def test_stale_leases_are_dropped():
    leases = ("1700000000 fa:16:3e:00:00:01 10.0.0.5 host-10-0-0-5 *\n"
              "1700000000 fa:16:3e:00:00:02 10.0.0.6 host-10-0-0-6 *\n"
              "1700000000 fa:16:3e:00:00:03 10.0.0.5 other *\n")
    entries = [("fa:16:3e:00:00:01", "host-10-0-0-5.openstacklocal", "10.0.0.5", "h")]
    assert dhcp.leases_to_keep(leases, entries) == (
        "1700000000 fa:16:3e:00:00:01 10.0.0.5 host-10-0-0-5 *\n")


# --- what a port's delete does to a running dnsmasq (its process calls recorded) ----

GUEST = port("fa:16:3e:00:00:05", "10.0.0.5")


@pytest.fixture
def running(dhcp_conf, tmp_path, monkeypatch):
    """A Dnsmasq whose files say it serves DHCP_PORT and GUEST; what it
    would do to processes is recorded, not done."""
    calls = []
    dnsmasq = dhcp.Dnsmasq(NETWORK_ID, conf_root=str(tmp_path))
    (tmp_path / NETWORK_ID).mkdir()
    before = network(ports=[DHCP_PORT, GUEST])
    for kind, text in (("host", dhcp.hosts_file(before, "openstacklocal")),
                       ("cmdline", " ".join(dhcp.command_line(before, dnsmasq.conf_dir))),
                       ("interface", "ns-0123456789a\n"),
                       ("leases", "1700000000 fa:16:3e:00:00:05 10.0.0.5 host-10-0-0-5 *\n")):
        (tmp_path / NETWORK_ID / kind).write_text(text)
    monkeypatch.setattr(dhcp.ip_lib, "execute",
                        lambda *cmd, namespace=None: calls.append(("execute", cmd, namespace)))
    monkeypatch.setattr(dhcp.os, "kill", lambda pid, sig: calls.append(("kill", pid, sig)))
    monkeypatch.setattr(dhcp, "stop_daemon", lambda pid: calls.append(("stop", pid)))
    monkeypatch.setattr(dhcp.Dnsmasq, "_spawn", lambda self, cmd: calls.append(("spawn",)))
    return dnsmasq, calls


def test_a_deleted_ports_lease_is_released_then_dnsmasq_reloads(running, monkeypatch):
    dnsmasq, calls = running
    monkeypatch.setattr(dhcp.shutil, "which", lambda name: f"/usr/bin/{name}")

    dnsmasq._apply(network(ports=[DHCP_PORT]), DHCP_PORT, 4242)

    assert calls == [
        ("execute", ("dhcp_release", "ns-0123456789a", "10.0.0.5", "fa:16:3e:00:00:05"),
         f"qdhcp-{NETWORK_ID}"),
        ("kill", 4242, dhcp.signal.SIGHUP)]


def test_without_dhcp_release_dnsmasq_restarts_without_the_lease(running, monkeypatch):
    dnsmasq, calls = running
    monkeypatch.setattr(dhcp.shutil, "which", lambda name: None)

    dnsmasq._apply(network(ports=[DHCP_PORT]), DHCP_PORT, 4242)

    assert calls == [("stop", 4242), ("spawn",)]
    assert Path(dnsmasq.path("leases")).read_text() == ""
