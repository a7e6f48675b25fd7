"""One dnsmasq per network, in the network's ``qdhcp-`` namespace (mirrors
``neutron/agent/linux/dhcp.py``: the ``Dnsmasq`` driver and its
``DeviceManager``).

For a network with DHCP-enabled subnets, on the host of the DHCP agent::

    root namespace                          namespace qdhcp-<network id>
    brq<net[:11]> ── tap<port[:11]> ══veth══ ns-<port[:11]>  10.0.0.2/24
                                                  └─ dnsmasq (static leases)

``<port>`` is the network's DHCP port (device_owner ``network:dhcp``). The
DHCP agent makes the namespace and the veth and gives the ``ns-`` end the
port's MAC and addresses; the L2 agent plugs the ``tap`` end into the
bridge, as it does any tap of a port bound to its host.

dnsmasq's files, in ``[dhcp] dhcp_confs/<network id>/``:

``host``        one line per address of a port: ``<mac>,<name>,<ip>``,
                e.g. ``fa:16:3e:4c:2d:01,host-10-0-0-5.openstacklocal,10.0.0.5``
                (``<dns_name>.openstacklocal`` for a port with a dns_name:
                Nova sets it to the server's hostname, so the guest learns
                its name by DHCP);
``addn_hosts``  the same names for dnsmasq's DNS, /etc/hosts style;
``opts``        per subnet: ``tag:subnet-<id>,option:router,10.0.0.1``,
                dns-server when the subnet names some, classless static
                routes (host_routes, and 169.254.169.254 through the DHCP
                port when ``[dhcp] enable_isolated_metadata``);
``leases``      dnsmasq's lease database; ``pid``; ``dnsmasq.log``.

dnsmasq gives only *static* leases (``--dhcp-range=...,static,...``): a
MAC not in ``host`` gets nothing, so a guest always gets exactly the
address its port holds. When ports change, the files are written again
and dnsmasq is sent SIGHUP (it rereads them). When an address changes
hands (a port deleted, its address given to a new one) dnsmasq would keep
the old lease and refuse the new owner ("not using configured address ...
because it is leased to ..."), so, as Neutron does, the lease is released
first: ``dhcp_release <ns- device> <ip> <mac>`` (dnsmasq-utils) in the
namespace plays the guest's DHCPRELEASE, and dnsmasq drops it. Where
``dhcp_release`` is not installed, the stale lines are removed from the
leases file and dnsmasq is restarted instead.

With ``[dhcp] enable_isolated_metadata`` the ``ns-`` device also holds
``169.254.169.254/32``, where the network's metadata proxy listens
(:mod:`mininova.network.agent.metadata_driver` starts it after
:meth:`Dnsmasq.enable`, and stops it before :meth:`Dnsmasq.disable`).

Left out: IPv6 (DHCPv6, RA), extra DHCP options, multiple DHCP agents per
network, the UDP checksum-fill rule.
"""

import ipaddress
import os
import shutil
import signal
import time

from oslo_concurrency import processutils
from oslo_config import cfg
from oslo_log import log as logging

from mininova.network import constants, utils
from mininova.network.linux import ip_lib

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

SUBNET_TAG = "subnet-%s"
LEASE_MAX = 2 ** 24
STOP_TIMEOUT = 5


# --- what the files say (pure: the unit tests read these) ----------------------------

def dhcp_subnets(network):
    return [s for s in network["subnets"] if s["enable_dhcp"] and s["ip_version"] == 4]


def host_entries(network, dns_domain):
    """``[(mac, fqdn, ip, hostname)]`` for every address of every port on a
    DHCP-enabled subnet."""
    enabled = {s["id"] for s in dhcp_subnets(network)}
    entries = []
    for port in network["ports"]:
        for ip in port["fixed_ips"]:
            if ip["subnet_id"] not in enabled:
                continue
            hostname = port.get("dns_name") or utils.dns_hostname(ip["ip_address"])
            entries.append((port["mac_address"], f"{hostname}.{dns_domain}",
                            ip["ip_address"], hostname))
    return entries


def hosts_file(network, dns_domain):
    """dnsmasq's --dhcp-hostsfile: ``<mac>,<fqdn>,<ip>`` per line."""
    return "".join(f"{mac},{fqdn},{ip}\n"
                   for mac, fqdn, ip, _host in host_entries(network, dns_domain))


def addn_hosts_file(network, dns_domain):
    """dnsmasq's --addn-hosts: ``<ip>\\t<fqdn> <hostname>`` (fqdn first, so
    reverse lookups answer it)."""
    return "".join(f"{ip}\t{fqdn} {host}\n"
                   for _mac, fqdn, ip, host in host_entries(network, dns_domain))


def opts_file(network, dhcp_port, enable_isolated_metadata=False):
    """dnsmasq's --dhcp-optsfile: options per subnet, tagged with its id."""
    lines = []
    port_ips = {ip["subnet_id"]: ip["ip_address"] for ip in (dhcp_port or {}).get("fixed_ips", [])}
    for subnet in dhcp_subnets(network):
        tag = "tag:" + SUBNET_TAG % subnet["id"]
        if subnet["dns_nameservers"]:
            lines.append(f"{tag},option:dns-server,{','.join(subnet['dns_nameservers'])}")
        routes = _classless_routes(network, subnet, port_ips.get(subnet["id"]),
                                   enable_isolated_metadata)
        if routes:
            # Option 121, and 249 (the same, for old Windows clients). A
            # client that takes them ignores option 3, hence the default
            # route at their end.
            lines.append(f"{tag},option:classless-static-route,{','.join(routes)}")
            lines.append(f"{tag},249,{','.join(routes)}")
        gateway = subnet["gateway_ip"]
        lines.append(f"{tag},option:router,{gateway}" if gateway else f"{tag},option:router")
    return "".join(line + "\n" for line in lines)


def _classless_routes(network, subnet, dhcp_ip, enable_isolated_metadata):
    routes = []
    # The network's other subnets are on-link (0.0.0.0: no gateway).
    for other in dhcp_subnets(network):
        if other["id"] != subnet["id"]:
            routes.append(f"{other['cidr']},0.0.0.0")
    gateway = subnet["gateway_ip"]
    for route in subnet["host_routes"]:
        if route["destination"] == "0.0.0.0/0":
            gateway = gateway or route["nexthop"]
        else:
            routes.append(f"{route['destination']},{route['nexthop']}")
    if enable_isolated_metadata and dhcp_ip:
        routes.append(f"{constants.METADATA_CIDR},{dhcp_ip}")
    if routes and gateway:
        routes.append(f"0.0.0.0/0,{gateway}")
    return routes


def command_line(network, conf_dir):
    """dnsmasq's arguments (Neutron's, and a log file of its own)."""
    def path(kind):
        return os.path.join(conf_dir, kind)

    cmd = ["dnsmasq", "--no-hosts", "--no-resolv",
           f"--pid-file={path('pid')}",
           f"--dhcp-hostsfile={path('host')}",
           f"--addn-hosts={path('addn_hosts')}",
           f"--dhcp-optsfile={path('opts')}",
           f"--dhcp-leasefile={path('leases')}",
           "--dhcp-match=set:ipxe,175",
           "--local-service",
           "--bind-dynamic"]
    lease = ("infinite" if CONF.dhcp.dhcp_lease_duration == -1
             else f"{CONF.dhcp.dhcp_lease_duration}s")
    possible_leases = 0
    for subnet in dhcp_subnets(network):
        cidr = ipaddress.ip_network(subnet["cidr"])
        cmd.append(f"--dhcp-range=set:{SUBNET_TAG % subnet['id']},{cidr.network_address},"
                   f"static,{cidr.netmask},{lease}")
        possible_leases += cidr.num_addresses
    if network.get("mtu"):
        cmd.append(f"--dhcp-option-force=option:mtu,{network['mtu']}")
    cmd.append(f"--dhcp-lease-max={min(possible_leases, LEASE_MAX)}")
    cmd.append("--conf-file=/dev/null")
    cmd.extend(f"--server={server}" for server in CONF.dhcp.dnsmasq_dns_servers)
    cmd.append(f"--domain={CONF.network.dns_domain}")
    # Neutron logs DHCP only with dnsmasq_base_log_dir set; for a student,
    # "DHCPACK(ns-…) 10.0.0.5 fa:16:3e:…" is the proof the guest asked.
    cmd += ["--log-dhcp", f"--log-facility={path('dnsmasq.log')}"]
    return cmd


def leases_to_keep(leases_text, entries):
    """The lines of dnsmasq's leases file (``<expiry> <mac> <ip> <name>
    <client id>``) whose MAC still holds that address."""
    current = {(mac.lower(), ip) for mac, _fqdn, ip, _host in entries}
    kept = []
    for line in leases_text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and (fields[1].lower(), fields[2]) in current:
            kept.append(line + "\n")
    return "".join(kept)


# --- the namespace and its device (Neutron's DeviceManager) -------------------------

class DeviceManager:
    """The qdhcp- namespace and the DHCP port's veth."""

    @staticmethod
    def setup(network, port):
        """Make (or fix) the namespace and the veth; give the ``ns-`` end the
        port's MAC and addresses. Returns the ``ns-`` device's name."""
        namespace = utils.dhcp_namespace(network["id"])
        ns_device = utils.dhcp_ns_device_name(port["id"])
        tap = utils.tap_device_name(port["id"])
        ip_lib.ensure_namespace(namespace)
        if not ip_lib.device_exists(ns_device, namespace):
            ip_lib.delete_device(tap)   # a root end left from an earlier run
            ip_lib.add_veth(tap, ns_device, peer_namespace=namespace)
            ip_lib.disable_ipv6(tap)
            ip_lib.set_mac(ns_device, port["mac_address"], namespace)
            if network.get("mtu"):
                ip_lib.set_mtu(tap, network["mtu"])
                ip_lib.set_mtu(ns_device, network["mtu"], namespace)
            ip_lib.set_up(tap)
            ip_lib.set_up(ns_device, namespace)
            LOG.info("Plugged DHCP device %s (root end %s) into namespace %s", ns_device, tap,
                     namespace)
        DeviceManager._set_addresses(network, port, ns_device, namespace)
        DeviceManager._remove_stale_devices(namespace, ns_device)
        return ns_device

    @staticmethod
    def _set_addresses(network, port, device, namespace):
        prefixes = {s["id"]: ipaddress.ip_network(s["cidr"]).prefixlen
                    for s in network["subnets"]}
        wanted = [f"{ip['ip_address']}/{prefixes[ip['subnet_id']]}"
                  for ip in port["fixed_ips"] if ip["subnet_id"] in prefixes]
        if CONF.dhcp.enable_isolated_metadata:
            wanted.append(constants.METADATA_CIDR)
        current = ip_lib.ipv4_addresses(device, namespace)
        for cidr in wanted:
            if cidr not in current:
                ip_lib.add_address(device, cidr, namespace)
        for cidr in current:
            if cidr not in wanted:
                ip_lib.delete_address(device, cidr, namespace)
        # A default route through the first gateway, as Neutron sets one.
        for subnet in dhcp_subnets(network):
            if subnet["gateway_ip"]:
                ip_lib.replace_default_route(subnet["gateway_ip"], device, namespace)
                break

    @staticmethod
    def _remove_stale_devices(namespace, keep):
        out = ip_lib.execute("ip", "-o", "link", "show", namespace=namespace)
        for line in out.splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            if name.startswith(constants.DHCP_NS_DEVICE_PREFIX) and name != keep:
                LOG.info("Removing the stale DHCP device %s from %s", name, namespace)
                ip_lib.delete_device(name, namespace)

    @staticmethod
    def destroy(network_id):
        """Remove the namespace with what is in it (a veth goes with its
        end in the namespace)."""
        ip_lib.delete_namespace(utils.dhcp_namespace(network_id))


# --- the process ------------------------------------------------------------------------

class Dnsmasq:
    """dnsmasq for one network; the files live in ``conf_dir``."""

    def __init__(self, network_id, conf_root=None):
        self.network_id = network_id
        self.conf_dir = os.path.join(conf_root or CONF.dhcp.dhcp_confs, network_id)
        self.namespace = utils.dhcp_namespace(network_id)

    def path(self, kind):
        return os.path.join(self.conf_dir, kind)

    def pid(self):
        """dnsmasq's pid if it runs with this network's files, else None (a
        pid file may outlive its process, and the pid be someone else's)."""
        try:
            with open(self.path("pid")) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except (OSError, ValueError):
            return None
        return pid if "dnsmasq" in cmdline and self.conf_dir in cmdline else None

    def enable(self, network, dhcp_port):
        """Bring the namespace, the files and the process in line with
        ``network`` (its subnets and ports, as the server sees them)."""
        os.makedirs(self.conf_dir, mode=0o755, exist_ok=True)
        interface = DeviceManager.setup(network, dhcp_port)
        _write(self.path("interface"), interface + "\n")
        self._apply(network, dhcp_port, self.pid())

    def reload_allocations(self, network, dhcp_port):
        """Only the ports changed: new files, then dnsmasq reloads them
        (SIGHUP) or, when an address left its MAC, restarts. False, doing
        nothing, when dnsmasq does not run here with these subnets: the
        network needs :meth:`enable`."""
        pid = self.pid()
        if pid is None or _read(self.path("cmdline")) != " ".join(
                command_line(network, self.conf_dir)):
            return False
        self._apply(network, dhcp_port, pid)
        return True

    def _apply(self, network, dhcp_port, pid):
        """Write the files; start, restart or reload dnsmasq as they need."""
        entries = host_entries(network, CONF.network.dns_domain)
        old_hosts = _read(self.path("host"))
        new_hosts = hosts_file(network, CONF.network.dns_domain)
        changed = _write(self.path("host"), new_hosts)
        changed |= _write(self.path("addn_hosts"), addn_hosts_file(network,
                                                                   CONF.network.dns_domain))
        changed |= _write(self.path("opts"), opts_file(network, dhcp_port,
                                                       CONF.dhcp.enable_isolated_metadata))
        # An address that leaves its MAC (not a renamed host: SIGHUP does).
        removed = _address_pairs(old_hosts) - _address_pairs(new_hosts)
        command = command_line(network, self.conf_dir)
        restart_because = None
        if pid and _read(self.path("cmdline")) != " ".join(command):
            restart_because = "its subnets changed"
        elif pid and removed and not self._release_leases(removed):
            restart_because = "an address left its MAC and its lease could not be released"
        if restart_because:
            LOG.info("Restarting dnsmasq of network %s (%s)", self.network_id, restart_because)
            stop_daemon(pid)
            pid = None
        if pid is None:
            _write(self.path("leases"), leases_to_keep(_read(self.path("leases")), entries))
            self._spawn(command)
        elif changed:
            LOG.debug("Reloading allocations for network: %s", self.network_id)
            os.kill(pid, signal.SIGHUP)

    def _release_leases(self, addresses):
        """Neutron's ``_release_unused_leases``: dnsmasq forgets the lease of
        each ``(mac, ip)``, as if its guest had released it. False where that
        could not be done (dhcp_release, from dnsmasq-utils, not installed,
        or failing): the caller then restarts dnsmasq without the leases."""
        if shutil.which("dhcp_release") is None:
            return False
        interface = _read(self.path("interface")).strip()
        for mac, ip in sorted(addresses):
            LOG.debug("Releasing the DHCP lease of %s (%s) on network %s", ip, mac,
                      self.network_id)
            try:
                ip_lib.execute("dhcp_release", interface, ip, mac, namespace=self.namespace)
            except processutils.ProcessExecutionError as exc:
                LOG.warning("Could not release the DHCP lease of %s (%s): %s", ip, mac, exc)
                return False
        return True

    def _spawn(self, command):
        _write(self.path("cmdline"), " ".join(command))
        # dnsmasq forks into the background and writes its pid file; the
        # command returns once it listens.
        ip_lib.execute(*command, namespace=self.namespace)
        LOG.info("Started dnsmasq for network %s in %s (pid %s)", self.network_id,
                 self.namespace, self.pid())

    def disable(self):
        """Stop dnsmasq, remove the namespace (and the veth in it) and the files."""
        pid = self.pid()
        if pid:
            stop_daemon(pid)
            LOG.info("Stopped dnsmasq of network %s (pid %s)", self.network_id, pid)
        DeviceManager.destroy(self.network_id)
        shutil.rmtree(self.conf_dir, ignore_errors=True)


def _address_pairs(hosts_text):
    """``{(mac, ip)}`` of a hosts file's lines."""
    pairs = set()
    for line in hosts_text.splitlines():
        fields = line.split(",")
        if len(fields) >= 3:
            pairs.add((fields[0], fields[-1]))
    return pairs


def stop_daemon(pid):
    """SIGTERM, then SIGKILL if it is still there after STOP_TIMEOUT: how the
    namespace's daemons (dnsmasq, the metadata proxy) are stopped."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and daemon_running(pid):
        time.sleep(0.02)
    if daemon_running(pid):
        os.kill(pid, signal.SIGKILL)


def daemon_running(pid):
    """Whether the process exists and is not a zombie (a daemon's parent is
    init, which may take its time to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _write(path, text):
    """Replace the file at once (dnsmasq may read it any time); whether it changed."""
    if _read(path) == text and os.path.exists(path):
        return False
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)   # dnsmasq rereads it as nobody after SIGHUP
    os.replace(tmp, path)
    return True
