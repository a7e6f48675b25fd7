"""How a compute host reaches the conductor (mirrors ``nova/conductor/api.py``).

``API`` is the database proxy over RPC, ``ComputeTaskAPI`` the build and
migration orchestration. Both are only RPC clients: importing this module
loads nothing of the database layer, which a compute process must never
hold (see tests/unit/test_db_wall.py).
"""

from mininova.conductor import rpcapi

API = rpcapi.ConductorAPI
ComputeTaskAPI = rpcapi.ComputeTaskAPI
