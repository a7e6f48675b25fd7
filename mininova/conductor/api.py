"""How a service reaches the conductor's database proxy (mirrors
``nova/conductor/api.py``).

``API`` goes over RPC (compute hosts); ``LocalAPI`` runs the very same
conductor methods in-process (services that hold database credentials:
the conductor itself, the scheduler). Both answer the same method names,
so ``Service`` does not care which one it has.
"""

from mininova.conductor import manager, rpcapi

API = rpcapi.ConductorAPI
ComputeTaskAPI = rpcapi.ComputeTaskAPI


class LocalAPI:
    def __init__(self):
        self._manager = manager.ConductorManager()

    def __getattr__(self, name):
        return getattr(self._manager, name)
