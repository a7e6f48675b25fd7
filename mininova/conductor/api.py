"""How a compute host reaches the conductor (mirrors ``nova/conductor/api.py``).

``API`` is the database proxy over RPC, ``ComputeTaskAPI`` the build and
migration orchestration. Both are only RPC clients: importing this module
loads nothing of the database layer, which a compute process must never
hold (see tests/unit/test_db_wall.py).
"""

from oslo_log import log as logging

from mininova import rpc
from mininova.conductor import rpcapi

LOG = logging.getLogger(__name__)

ComputeTaskAPI = rpcapi.ComputeTaskAPI


class API(rpcapi.ConductorAPI):
    def wait_until_ready(self, context, early_timeout=10, early_attempts=10):
        """Ping the conductor until one answers.

        A compute that starts before any conductor would otherwise send its
        first call into a queue nobody has declared yet, where the broker
        drops it, and wait a whole RPC timeout for nothing. So, as Nova's
        compute does: ten short pings, then pings with the usual timeout,
        for as long as it takes.
        """
        attempt, timed_out = 0, False
        while True:
            attempt += 1
            timeout = early_timeout if attempt <= early_attempts else None
            try:
                self.ping(context, "1.21 GigaWatts", timeout=timeout)
            except rpc.MessagingTimeout:
                timed_out = True
                LOG.warning("Timed out waiting for mininova-conductor.  Is it running? Or "
                            "did this service start before mininova-conductor?  "
                            "Reattempting establishment of mininova-conductor connection...")
                continue
            if timed_out:
                LOG.info("mininova-conductor connection established successfully")
            return
