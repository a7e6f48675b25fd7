"""Nova's side of a moved instance's ports (mininova/network/neutron.py,
``migrate_instance_finish``): bound to the new host, the others untouched."""

from mininova.network import neutron


class RecordingAPI(neutron.API):
    def __init__(self, ports):
        super().__init__()
        self.ports = ports
        self.puts = []

    def _get(self, context, path, params=None, admin=False):
        assert (path, params, admin) == ("/v2.0/ports", {"device_id": "vm"}, True)
        return {"ports": self.ports}

    def _put(self, context, path, body, admin=False):
        self.puts.append((path, body, admin))
        return {"port": {}}


def test_ports_follow_the_instance_to_its_new_host(conf):
    api = RecordingAPI([{"id": "p1", "binding:host_id": "compute1"},
                        {"id": "p2", "binding:host_id": "compute2"}])
    api.migrate_instance_finish(None, {"uuid": "vm"}, "compute2")
    assert api.puts == [("/v2.0/ports/p1", {"port": {"binding:host_id": "compute2"}}, True)]
