"""The conductor's ``block_device_mapping_*`` RPC client and its server
side agree (contract with the compute: the same names and arguments as
``mininova/db/block_devices.py``'s functions), and each client method sends
a call, not a cast: the compute waits for the row."""

import inspect

import pytest

from mininova.conductor import manager, rpcapi
from mininova.db import block_devices

METHODS = {
    "block_device_mapping_get_all_by_instance": "bdm_get_all_by_instance",
    "block_device_mapping_get_by_volume_and_instance": "bdm_get_by_volume_and_instance",
    "block_device_mapping_create": "bdm_create",
    "block_device_mapping_update": "bdm_update",
    "block_device_mapping_destroy": "bdm_destroy",
}


def _arguments(function):
    return list(inspect.signature(function).parameters)[1:]


@pytest.mark.parametrize("method", METHODS)
def test_client_server_and_database_take_the_same_arguments(method):
    database = getattr(block_devices, METHODS[method])
    client = getattr(rpcapi.ConductorAPI, method)
    server = getattr(manager.ConductorManager, method)
    assert _arguments(client)[1:] == _arguments(database)
    assert _arguments(server)[1:] == _arguments(database)


class _RecordingClient:
    def __init__(self):
        self.sent = []

    def call(self, ctxt, method, **kwargs):
        self.sent.append(("call", method, kwargs))
        return {"method": method}

    def cast(self, ctxt, method, **kwargs):
        self.sent.append(("cast", method, kwargs))


@pytest.mark.parametrize("method", METHODS)
def test_every_method_is_a_call_with_its_arguments_by_name(method):
    api = rpcapi.ConductorAPI.__new__(rpcapi.ConductorAPI)
    api.client = _RecordingClient()
    arguments = {name: f"value-of-{name}" for name in _arguments(getattr(api, method).__func__)[1:]}
    assert getattr(api, method)("ctxt", **arguments) == {"method": method}
    assert api.client.sent == [("call", method, arguments)]
