"""Client side of the scheduler's RPC API (mirrors ``nova/scheduler/rpcapi.py``
and ``nova/scheduler/client/``)."""

from mininova import rpc
from mininova.conf import CONF

TOPIC = "scheduler"


class SchedulerAPI:
    def __init__(self):
        self.client = rpc.RPCClient(TOPIC)

    def select_destinations(self, ctxt, request_spec):
        """One selection per instance: ``{host, nodename, limits, alternates}``.

        A call with the long timeout: scheduling a large request may take a
        while, and the conductor must not give up on it too early. But a
        monitored one, as in Nova: the scheduler working on it sends
        heartbeats, and without them the call gives up after
        ``rpc_response_timeout`` (no scheduler is running).
        """
        client = self.client.prepare(timeout=CONF.long_rpc_timeout,
                                     call_monitor_timeout=CONF.rpc_response_timeout)
        return client.call(ctxt, "select_destinations", request_spec=request_spec)

    def update_instance_info(self, ctxt, host, instance_uuids):
        """Tell every scheduler which instances a host has (a fanout cast)."""
        self.client.prepare(fanout=True).cast(
            ctxt, "update_instance_info", host=host, instance_uuids=instance_uuids)
