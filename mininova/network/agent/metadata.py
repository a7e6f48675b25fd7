"""The metadata agent: who is asking, and Nova's answer for them (mirrors
``neutron/agent/metadata/agent.py``, the ``neutron-metadata-agent``: its
``MetadataProxyHandler`` and ``UnixDomainMetadataProxy``, here
``MetadataAgent``; the request to Nova is that of
``neutron/common/metadata.py``).

The path of a guest's request::

    guest ──► 169.254.169.254:80, proxy in qdhcp-<net>  (agent/metadata_proxy.py)
          ──► unix socket [metadata_agent] metadata_proxy_socket   (this agent)
                X-Forwarded-For: <guest address>, X-Neutron-Network-ID: <net>
          ──► the server, over RPC: get_ports(network_id, fixed_ips: ip_address)
          ──► Nova's metadata API, http://<nova_metadata_host>:<nova_metadata_port><path>
                X-Forwarded-For, X-Instance-ID: <port's device_id>,
                X-Tenant-ID: <port's project>, X-Instance-ID-Signature

The guest is known by its network and its address only, both vouched for
by the proxy; from them the server's port gives the instance and its
project. Exactly one port must hold the address on that network: none (a
stranger, or a port deleted meanwhile) or several is a 404, as in Neutron.
The signature is the HMAC-SHA256 of the instance id with ``[metadata_agent]
metadata_proxy_shared_secret``: Nova computes it again with its own copy
of the secret, so it trusts the instance id only from a holder of it.

Nova's answer is passed back as it came (status, Content-Type, body) for
the statuses Neutron relays: 200, 400, 403 (logged: the secrets most likely
differ), 404, 409, 500 (logged). Nova unreachable is a 500, logged: the
guest's cloud-init tries again. (Newer Neutron answers that case with
503; mininova keeps the older 500.) Any other status is a 500 too.

Why it asks the server over RPC (``get_ports``, Neutron's
``MetadataPluginAPI``) rather than reading the database: it is an agent,
like the DHCP agent, and can run where the database is not.

It serves HTTP on the unix socket with the standard library's socket
server, one thread per request (Neutron's agent does the same since it
left eventlet). It runs inside mininova-network when ``[network]
run_metadata_agent`` says so.

Left out: the router variant (``X-Neutron-Router-ID``: finding the guest
among the networks of a router), the cache of port lookups, https and
client certificates towards Nova, IPv6 link-local guests (found by MAC),
the agent's state reports.
"""

import collections
import hashlib
import hmac
import http.server
import os
import socketserver
import threading

import requests
from oslo_log import log as logging

from mininova import context as mn_context
from mininova.conf import CONF
from mininova.network import agent_rpc
from mininova.network.agent import metadata_proxy

LOG = logging.getLogger(__name__)

NETWORK_ID_HEADER = metadata_proxy.NETWORK_ID_HEADER
FORWARDED_FOR_HEADER = metadata_proxy.FORWARDED_FOR_HEADER
# Neutron waits for Nova this long too.
NOVA_TIMEOUT = 60
# Statuses of Nova's passed to the guest as they came.
RELAYED_STATUSES = frozenset({200, 400, 403, 404, 409, 500})
TEXT = "text/plain; charset=UTF-8"

Response = collections.namedtuple("Response", "status content_type body")


def text_response(status, message):
    return Response(status, TEXT, (message + "\n").encode())


def sign_instance_id(secret, instance_id):
    """What Nova checks in X-Instance-ID-Signature."""
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def nova_headers(remote_address, instance_id, tenant_id, secret):
    return {"X-Forwarded-For": remote_address,
            "X-Instance-ID": instance_id,
            "X-Tenant-ID": tenant_id,
            "X-Instance-ID-Signature": sign_instance_id(secret, instance_id)}


def nova_url(path):
    """Nova's metadata API URL for ``path`` (with its query)."""
    host = CONF.metadata_agent.nova_metadata_host
    if ":" in host:
        host = f"[{host}]"   # an IPv6 address
    return (f"{CONF.metadata_agent.nova_metadata_protocol}://{host}:"
            f"{CONF.metadata_agent.nova_metadata_port}{path}")


class MetadataProxyHandler:
    """One request of a proxy: who is asking, then Nova's answer for them."""

    def __init__(self, plugin_api=None):
        self.plugin_api = plugin_api or agent_rpc.PluginApi()

    def handle(self, method, path, headers):
        """``headers``: what the proxy sent (a case-insensitive mapping)."""
        try:
            return self._handle(method, path, headers)
        except Exception:
            LOG.exception("Unexpected error.")
            return text_response(500, "An unknown error has occurred. "
                                      "Please try your request again.")

    def _handle(self, method, path, headers):
        network_id = headers.get(NETWORK_ID_HEADER)
        remote_address = headers.get(FORWARDED_FOR_HEADER)
        if not network_id or not remote_address:
            LOG.warning("A metadata request without %s or %s; refused", NETWORK_ID_HEADER,
                        FORWARDED_FOR_HEADER)
            return text_response(400, "The request names no network or no address.")
        instance_id, tenant_id = self.get_instance_and_tenant_id(network_id, remote_address)
        if not instance_id:
            LOG.warning("Instance was not found on network %s (address %s)", network_id,
                        remote_address)
            return text_response(404, f"Instance was not found on network {network_id}.")
        return self._proxy_request(method, path, remote_address, instance_id, tenant_id)

    def get_instance_and_tenant_id(self, network_id, remote_address):
        """The instance and project of the one port holding ``remote_address``
        on the network; ``(None, None)`` when not exactly one does."""
        ports = self.plugin_api.get_ports(
            mn_context.get_admin_context(),
            filters={"network_id": [network_id],
                     "fixed_ips": {"ip_address": [remote_address]}})
        LOG.debug("Ports of %s on network %s: %s", remote_address, network_id,
                  [port["id"] for port in ports])
        if len(ports) == 1:
            return ports[0]["device_id"], ports[0]["project_id"]
        if not ports:
            LOG.warning("No port found in network %s with IP address %s", network_id,
                        remote_address)
        else:
            LOG.warning("%d ports hold IP address %s in network %s: no instance is "
                        "trusted with its metadata", len(ports), remote_address, network_id)
        return None, None

    def _proxy_request(self, method, path, remote_address, instance_id, tenant_id):
        headers = nova_headers(remote_address, instance_id, tenant_id,
                               CONF.metadata_agent.metadata_proxy_shared_secret)
        url = nova_url(path)
        try:
            answer = requests.request(method, url, headers=headers, timeout=NOVA_TIMEOUT)
        except requests.RequestException as exc:
            LOG.error("The remote metadata server at %s could not be reached: %s", url, exc)
            return text_response(500, "The remote metadata server is unavailable. "
                                      "Please try again later.")
        status = answer.status_code
        if status == 403:
            LOG.warning("The remote metadata server responded with Forbidden. This "
                        "response usually occurs when shared secrets do not match.")
        elif status == 500:
            LOG.warning("Remote metadata server experienced an internal server error.")
        elif status not in RELAYED_STATUSES:
            LOG.error("Unexpected response code from the remote metadata server: %s", status)
            return text_response(500, "An unknown error has occurred. "
                                      "Please try your request again.")
        return Response(status, answer.headers.get("Content-Type", TEXT), answer.content)


# --- HTTP on the unix socket --------------------------------------------------------

class _RequestHandler(http.server.BaseHTTPRequestHandler):
    """HTTP glue: the work is :class:`MetadataProxyHandler`'s."""

    def do_GET(self):
        self._answer()

    def do_HEAD(self):
        self._answer()

    def _answer(self):
        response = self.server.proxy_handler.handle(self.command, self.path, self.headers)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format, *args):   # noqa: A002 (the stdlib's name)
        # Not the stdlib's line: a unix socket's peer has no address to
        # print (the guest's is in the request's headers).
        LOG.debug("Metadata agent: %s", format % args)


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class MetadataAgent:
    """The agent's server on its unix socket (Neutron's
    ``UnixDomainMetadataProxy``); one of mininova-network's agents
    (``start``, ``stop``)."""

    def __init__(self, plugin_api=None, socket_path=None):
        self.socket_path = socket_path or CONF.metadata_agent.metadata_proxy_socket
        self.proxy_handler = MetadataProxyHandler(plugin_api)
        self._server = None
        self._thread = None

    def start(self):
        os.makedirs(os.path.dirname(self.socket_path) or ".", mode=0o755, exist_ok=True)
        _remove(self.socket_path)   # left by an earlier run that did not stop cleanly
        self._server = _UnixHTTPServer(self.socket_path, _RequestHandler)
        self._server.proxy_handler = self.proxy_handler
        # Whoever can connect can name any network and address in the
        # headers, so only the proxies' user may: root here (Neutron's
        # "user" socket mode, what it deduces when the proxies run as the
        # agent's user).
        os.chmod(self.socket_path, 0o644)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="metadata-agent", daemon=True)
        self._thread.start()
        LOG.info("Metadata agent listening on %s; Nova's metadata API at %s",
                 self.socket_path, nova_url(""))
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        _remove(self.socket_path)
        self._server = None


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

