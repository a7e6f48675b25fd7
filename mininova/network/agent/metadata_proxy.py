"""The metadata proxy of one network, run inside its ``qdhcp-`` namespace
(mirrors the pre-Pike ``neutron/agent/metadata/namespace_proxy.py``, the
``neutron-ns-metadata-proxy`` command).

A guest of a network without a router reaches ``169.254.169.254`` through
the DHCP port (the route dnsmasq gives it by DHCP option 121, to the
address the DHCP port's ``ns-`` device holds). In the namespace, this
process listens on ``169.254.169.254:80``. It knows two things the guest
cannot forge: the network it serves (``--network-id``) and the address the
request came from. It passes the request's path and query on to the
metadata agent over a unix socket, with exactly these two as headers::

    X-Forwarded-For: <the guest's address>
    X-Neutron-Network-ID: <network id>

and sends back the agent's status, Content-Type and body. Nothing else the
guest sent is passed on, so a guest's own ``X-Forwarded-For``,
``X-Neutron-Network-ID`` or ``X-Instance-ID`` never reach the agent: who
the guest is comes from the network and its address alone.

The unix socket is a file, and ``ip netns exec`` changes the network
namespace, not the file system: the proxy reaches the agent in the root
namespace without any route from the tenant's network to the host.

Since Pike Neutron starts haproxy with a generated configuration instead
of this process. mininova keeps a small Python proxy: no haproxy package to
install, no configuration file to generate, and the whole path readable in
one language. The DHCP agent starts it (``ip netns exec qdhcp-<id> python
-m mininova.network.agent.metadata_proxy ...``, see
:mod:`mininova.network.agent.metadata_driver`); it binds, then becomes a
daemon and writes its pid file, as dnsmasq does, so the command returns
once it listens.

Left out: the router-namespace variant (``--router-id``, header
``X-Neutron-Router-ID``), POST (Nova's password endpoint: the proxy
answers other methods than GET and HEAD with 501), dropping root
privileges (Neutron's ``metadata_proxy_user``), rate limiting.

Only the standard library is used: the process starts fast and needs
nothing of mininova's configuration.
"""

import argparse
import http.client
import http.server
import logging
import os
import socket
import sys
import urllib.parse

LOG = logging.getLogger("mininova.network.agent.metadata_proxy")

NETWORK_ID_HEADER = "X-Neutron-Network-ID"
FORWARDED_FOR_HEADER = "X-Forwarded-For"
# Longer than the agent's own wait for Nova, so that the agent's answer
# (even "Nova did not answer") is what the guest gets.
AGENT_TIMEOUT = 90


# --- the request to the agent ------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a unix socket instead of a TCP port."""

    def __init__(self, socket_path, timeout=AGENT_TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def forwarded_headers(client_address, network_id):
    """The only headers the agent gets: what the proxy itself knows."""
    return {FORWARDED_FOR_HEADER: client_address, NETWORK_ID_HEADER: network_id}


def path_and_query(request_target):
    """``/openstack/latest/meta_data.json?x=1`` of a request's target, also
    when a client sent the absolute form ``http://169.254.169.254/...``."""
    parts = urllib.parse.urlsplit(request_target)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def ask_agent(socket_path, method, path, headers):
    """``(status, content_type, body)`` of the agent's answer."""
    connection = UnixHTTPConnection(socket_path)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        return response.status, response.getheader("Content-Type"), body
    finally:
        connection.close()


# --- the server in the namespace ----------------------------------------------------

class ProxyRequestHandler(http.server.BaseHTTPRequestHandler):
    server_version = "mininova-metadata-proxy"

    def do_GET(self):
        self._proxy()

    def do_HEAD(self):
        self._proxy()

    def _proxy(self):
        guest = self.client_address[0]
        headers = forwarded_headers(guest, self.server.network_id)
        try:
            status, content_type, body = ask_agent(self.server.socket_path, self.command,
                                                   path_and_query(self.path), headers)
        except (OSError, http.client.HTTPException) as exc:
            LOG.error("The metadata agent on %s did not answer (%s)", self.server.socket_path,
                      exc)
            status, content_type = 500, "text/plain; charset=UTF-8"
            body = b"An unknown error has occurred. Please try your request again.\n"
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):   # noqa: A002 (the stdlib's name)
        LOG.info("%s %s", self.client_address[0], format % args)


class MetadataProxyServer(http.server.ThreadingHTTPServer):
    """One thread per request: a guest waiting for a slow Nova does not
    hold back another's."""

    def __init__(self, address, network_id, socket_path):
        self.network_id = network_id
        self.socket_path = socket_path
        super().__init__(address, ProxyRequestHandler)


# --- the process ------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="mininova-ns-metadata-proxy",
        description="Pass a network's metadata requests on to the metadata agent.")
    parser.add_argument("--network-id", required=True)
    parser.add_argument("--metadata-proxy-socket", required=True,
                        help="the metadata agent's unix socket")
    parser.add_argument("--bind-host", default="169.254.169.254")
    parser.add_argument("--bind-port", type=int, default=80)
    parser.add_argument("--pid-file", help="written once the proxy listens")
    parser.add_argument("--log-file", help="default: standard error")
    parser.add_argument("--daemonize", action="store_true",
                        help="run in the background once listening (needs --pid-file)")
    args = parser.parse_args(argv)
    if args.daemonize and not args.pid_file:
        parser.error("--daemonize needs --pid-file")
    return args


def setup_logging(log_file):
    handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)


def write_pid_file(path, pid):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{pid}\n")
    os.replace(tmp, path)


def daemonize(pid_file):
    """Go to the background the classic way (fork, setsid, fork). The
    middle process writes the daemon's pid file and the first one waits
    for it: whoever started the proxy finds the pid file when the command
    returns, as with dnsmasq."""
    first = os.fork()
    if first:
        _pid, status = os.waitpid(first, 0)
        os._exit(os.waitstatus_to_exitcode(status))
    os.setsid()
    daemon = os.fork()
    if daemon:
        write_pid_file(pid_file, daemon)
        os._exit(0)
    os.chdir("/")   # hold no directory of the starter's busy
    # The starter reads our standard output until it closes.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    setup_logging(args.log_file)
    # Bound before going to the background: an address not (yet) in the
    # namespace is the starter's error, seen in the command's exit status.
    server = MetadataProxyServer((args.bind_host, args.bind_port), args.network_id,
                                 args.metadata_proxy_socket)
    if args.daemonize:
        daemonize(args.pid_file)
    elif args.pid_file:
        write_pid_file(args.pid_file, os.getpid())
    LOG.info("Metadata proxy of network %s listening on %s:%s, agent at %s",
             args.network_id, args.bind_host, server.server_address[1],
             args.metadata_proxy_socket)
    server.serve_forever()


if __name__ == "__main__":
    main()
