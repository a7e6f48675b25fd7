"""Nothing leaves a network through the host (no Neutron counterpart: it
stands for what Neutron gets by having no router on a network).

In Neutron a tenant network reaches the outside only through a router
(the L3 agent's ``qrouter-`` namespace, with NAT). mininova has no
routers; the host itself has an address on each network's bridge (the
subnet's gateway, so that it can SSH into guests). A host with
``net.ipv4.ip_forward = 1`` (Docker, libvirt's default network and many
others turn it on) would then route the guests' packets anywhere the host
can reach. So for every bridge ``brq…`` the agents install, for IPv4 and
IPv6::

    -A FORWARD -i brqX ! -o brqX -m comment --comment "mininova-network: isolate brqX" -j DROP
    -A FORWARD ! -i brqX -o brqX -m comment --comment "mininova-network: isolate brqX" -j DROP

at the top of the filter table's FORWARD chain: whatever ``ip_forward``
says, a packet routed from this network to another interface (or to
this network from another one, another network included) is dropped.
Guests still reach the host itself (INPUT) and each other (bridged, never
routed: with ``br_netfilter`` loaded such frames do pass FORWARD, as
``-i brqX -o brqX``, which the rules let through).

Each rule carries the bridge's name in its comment, so removing a
network's rules never touches anyone else's; ``iptables -S FORWARD``
shows them. ``iptables`` here is Debian's iptables-nft: the rules live in
nftables' ``ip filter`` table, and a drop there is final even when the
host has nftables rules of its own.
"""

import contextlib
import fcntl
import os
import subprocess
import tempfile
import threading

from oslo_concurrency import processutils
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

BINARIES = ("iptables", "ip6tables")
CHAIN = "FORWARD"
# "Check, then insert" must not interleave: two agents (the DHCP agent's
# gateway and the L2 agent, or two agent processes on one host) ensuring
# one bridge's rules at once would both insert them.
_THREADS = threading.Lock()
LOCK_FILE = os.path.join("/run/lock" if os.path.isdir("/run/lock") else tempfile.gettempdir(),
                         "mininova-network-isolation.lock")


@contextlib.contextmanager
def _host_lock():
    with _THREADS, open(LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def comment(bridge):
    return f"mininova-network: isolate {bridge}"


def rule_specs(bridge):
    """The two rules of ``bridge``, as iptables arguments after the chain."""
    tail = ["-m", "comment", "--comment", comment(bridge), "-j", "DROP"]
    return [["-i", bridge, "!", "-o", bridge, *tail],
            ["-o", bridge, "!", "-i", bridge, *tail]]


def _iptables(binary, *args, check_exit_code=True):
    # -w: wait for the xtables lock rather than fail when another program
    # (libvirt, another agent) changes the rules at the same moment.
    return processutils.execute(binary, "-w", *args, check_exit_code=check_exit_code)


def _present(binary, spec):
    """``iptables -C`` says with its exit status whether the rule is there."""
    check = subprocess.run([binary, "-w", "-C", CHAIN, *spec], capture_output=True)
    return check.returncode == 0


def ensure(bridge):
    """Install the bridge's rules where they are missing."""
    with _host_lock():
        _ensure(bridge)


def _ensure(bridge):
    for binary in BINARIES:
        for spec in rule_specs(bridge):
            try:
                if not _present(binary, spec):
                    _iptables(binary, "-I", CHAIN, "1", *spec)
                    LOG.debug("%s: forwarding from and to %s dropped", binary, bridge)
            except (processutils.ProcessExecutionError, OSError) as exc:
                if binary == "iptables":
                    raise
                # A host without IPv6 has nothing to forward over it.
                LOG.warning("Could not install the IPv6 isolation of %s: %s", bridge, exc)


def remove(bridge):
    """Remove the bridge's rules (every copy, should there be several)."""
    with _host_lock():
        _remove(bridge)


def _remove(bridge):
    for binary in BINARIES:
        for spec in rule_specs(bridge):
            try:
                while _present(binary, spec):
                    _iptables(binary, "-D", CHAIN, *spec)
            except (processutils.ProcessExecutionError, OSError) as exc:
                LOG.warning("Could not remove the %s isolation of %s: %s", binary, bridge, exc)


def installed_rules(bridge, binary="iptables"):
    """The bridge's rules as ``iptables -S FORWARD`` prints them (for
    tests and for a student checking by hand)."""
    out, _err = _iptables(binary, "-S", CHAIN)
    return [line for line in out.splitlines() if comment(bridge) in line]
