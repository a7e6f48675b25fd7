"""``mininova-compute`` (mirrors ``nova/cmd/compute.py``): one per hypervisor
host, on the ``compute`` and ``compute.<host>`` queues.

Like nova-compute it has no database access: everything goes through the
conductor, so this host needs no ``[database]`` section (and should have
none: a compromised hypervisor must not hold the credentials). The wall is
structural: nothing this process imports loads ``mininova.db``
(tests/unit/test_db_wall.py checks it).
"""

import sys

from oslo_log import log as logging

from mininova import config, service
from mininova.compute import manager
from mininova.conf import CONF

LOG = logging.getLogger(__name__)


def build_service(host=None, compute_driver=None):
    return service.Service.create("mininova-compute", "compute",
                                  manager.ComputeManager(host, compute_driver), host=host)


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-compute")
    if CONF.database.connection:
        LOG.warning("Ignoring [database] connection: mininova-compute reaches the "
                    "database only through the conductor.")
    server = build_service()
    server.start()
    service.wait_for_signal([server])
