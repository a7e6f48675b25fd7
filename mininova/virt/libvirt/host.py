"""The connection to libvirtd (mirrors ``nova/virt/libvirt/host.py``).

One connection per compute service, opened at start and reopened if
libvirtd restarts. libvirt-python releases the GIL during calls, so the
build threads can share it.

Left out: the libvirt event loop thread and lifecycle events
(``VM Started (Lifecycle Event)``), capability caching, mdev/PCI discovery.
"""

import threading

import libvirt
from oslo_log import log as logging

from mininova import exception

LOG = logging.getLogger(__name__)


class Host:
    def __init__(self, uri):
        self.uri = uri
        self._conn = None
        self._lock = threading.Lock()

    def get_connection(self):
        with self._lock:
            if self._conn is None or not self._is_alive():
                self._conn = self._connect()
            return self._conn

    def _is_alive(self):
        try:
            return self._conn.isAlive() == 1
        except libvirt.libvirtError:
            return False

    def _connect(self):
        LOG.debug("Connecting to libvirt: %s", self.uri)
        try:
            return libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            LOG.error("Connection to libvirt failed: %s", exc)
            raise exception.HypervisorUnavailable(host=self.uri) from exc

    def close(self):
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except libvirt.libvirtError:
                    pass
                self._conn = None

    def lookup(self, instance_uuid):
        """The domain whose UUID is the instance's, or None."""
        try:
            return self.get_connection().lookupByUUIDString(instance_uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise
