"""``mininova-all``: every service in one process (the embedded mode).

The same managers as the separate daemons, started in one interpreter and
talking over kombu's ``memory://`` transport, with SQLite: nothing to
install but libvirt. Useful to try mininova, and it is how the functional
tests run the whole cloud. Each part still only talks to the others through
RPC messages: the compute still has no database access of its own.

Started in the order a cloud needs them: database schema, image service,
volume service, conductor, scheduler, compute(s), then the API last so that
nothing is accepted before it can be served.
"""

import sys

from oslo_log import log as logging

from mininova import config, rpc, service
from mininova.cmd import api as api_cmd
from mininova.cmd import compute as compute_cmd
from mininova.cmd import conductor as conductor_cmd
from mininova.cmd import image as image_cmd
from mininova.cmd import scheduler as scheduler_cmd
from mininova.cmd import volume as volume_cmd
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.db import migration

LOG = logging.getLogger(__name__)


class AllInOne:
    """The running services; ``stop()`` stops them in reverse order."""

    def __init__(self):
        self.services = []
        self.image_service = None
        self.volume_service = None
        self.api_service = None
        self.computes = {}

    def start(self, compute_hosts=None, compute_driver=None, api_port=None,
              image_port=None, volume_port=None):
        migration.db_sync()
        self.image_service = self._start(image_cmd.build_service(port=image_port))
        # The other services find the image service where it really listens
        # (port 0 in tests means "any free port").
        CONF.set_override("api_servers", [f"http://127.0.0.1:{self.image_service.port}"],
                          group="glance")
        self.volume_service = self._start(volume_cmd.build_service(port=volume_port))
        CONF.set_override("endpoint_template",
                          f"http://127.0.0.1:{self.volume_service.port}/v3/%(project_id)s",
                          group="cinder")
        self._start(conductor_cmd.build_service())
        self._start(scheduler_cmd.build_service())
        for host in compute_hosts or [CONF.host]:
            self.start_compute(host, compute_driver)
        self.api_service = self._start(api_cmd.build_service(port=api_port))
        return self

    def start_compute(self, host, compute_driver=None):
        compute = self._start(compute_cmd.build_service(host, compute_driver))
        self.computes[host] = compute
        return compute

    def _start(self, server):
        server.start()
        self.services.append(server)
        return server

    def stop(self):
        """In reverse order of start, but the scheduler last: a conductor
        stopping lets its running work end, and a build it is scheduling
        waits for the scheduler's answer, which a stopped scheduler would
        never send."""
        last_first = sorted(reversed(self.services),
                            key=lambda server: getattr(server, "binary", "") ==
                            "mininova-scheduler")
        for server in last_first:
            server.stop()
        self.services = []
        rpc.cleanup()
        db_api.dispose_engines()


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-all")
    if not CONF.transport_url.startswith("memory://"):
        LOG.info("mininova-all using the broker at %s", CONF.transport_url)
    cloud = AllInOne().start()
    service.wait_for_signal(cloud.services)
