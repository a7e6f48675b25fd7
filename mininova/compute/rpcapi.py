"""Client side of the compute's RPC API (mirrors ``nova/compute/rpcapi.py``).

Everything goes to ``compute.<host>``: only the compute that owns the
instance may act on it. Actions are casts (the caller does not wait);
questions that return data (console output, the image cache) are calls.
"""

from mininova import rpc

TOPIC = "compute"


class ComputeAPI:
    def __init__(self):
        self.client = rpc.RPCClient(TOPIC)

    def build_and_run_instance(self, ctxt, instance, host, image, request_spec,
                               filter_properties, node=None, limits=None):
        self.client.prepare(server=host).cast(
            ctxt, "build_and_run_instance", instance=instance, image=image,
            request_spec=request_spec, filter_properties=filter_properties,
            node=node, limits=limits)

    def terminate_instance(self, ctxt, instance):
        self.client.prepare(server=instance["host"]).cast(
            ctxt, "terminate_instance", instance=instance)

    def get_console_output(self, ctxt, instance, tail_length=None):
        return self.client.prepare(server=instance["host"]).call(
            ctxt, "get_console_output", instance=instance, tail_length=tail_length)

    def get_image_cache(self, ctxt, host):
        return self.client.prepare(server=host).call(ctxt, "get_image_cache")
