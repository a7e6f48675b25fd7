"""Nova's answer to ``network-changed`` (mininova/network/neutron.py,
``refresh_vif``): only that port is read again, in its place in the cache."""

import pytest

from mininova import exception
from mininova.network import neutron


class OnePortAPI(neutron.API):
    """The network service knows ``ports``; a VIF is the port's id and MAC."""

    def __init__(self, ports):
        super().__init__()
        self.ports = {port["id"]: port for port in ports}
        self.read = []

    def _get(self, context, path, params=None, admin=False):
        self.read.append(path)
        port_id = path.rsplit("/", 1)[-1]
        if port_id not in self.ports:
            raise exception.NotFound(f"Port {port_id} could not be found.")
        return {"port": self.ports[port_id]}

    def _vif(self, context, port, known=None):
        known = known or {}
        return {"id": port["id"], "address": port["mac_address"],
                "preserve_on_delete": bool(known.get("preserve_on_delete")),
                "tag": known.get("tag")}


def vif(port_id, mac, preserve=False, tag=None):
    return {"id": port_id, "address": mac, "preserve_on_delete": preserve, "tag": tag}


CACHED = [vif("p1", "fa:16:3e:00:00:01"),
          vif("p2", "fa:16:3e:00:00:02", preserve=True, tag="nic2")]


@pytest.mark.parametrize("port_id, ports, expected", [
    # the changed port replaced where it was, the user's flag and the
    # NIC's device tag kept (the network service knows neither)
    ("p2", [{"id": "p2", "device_id": "vm", "mac_address": "fa:16:3e:00:00:22"}],
     [CACHED[0], vif("p2", "fa:16:3e:00:00:22", preserve=True, tag="nic2")]),
    # a port the cache did not know yet is added at the end
    ("p3", [{"id": "p3", "device_id": "vm", "mac_address": "fa:16:3e:00:00:03"}],
     [*CACHED, vif("p3", "fa:16:3e:00:00:03")]),
    # a port now of another server, or gone, leaves the cache
    ("p1", [{"id": "p1", "device_id": "other", "mac_address": "fa:16:3e:00:00:01"}],
     [CACHED[1]]),
    ("p1", [], [CACHED[1]]),
])
def test_refresh_of_one_port(conf, port_id, ports, expected):
    api = OnePortAPI(ports)
    assert api.refresh_vif(None, {"uuid": "vm"}, port_id, CACHED) == expected
    assert api.read == [f"/v2.0/ports/{port_id}"]
