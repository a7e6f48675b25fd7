"""Fixtures shared by every test tier."""

import pytest

from mininova import policy, rpc
from mininova.conf import CONF
from mininova.db import api as db_api


@pytest.fixture
def conf(tmp_path):
    """A fresh configuration: state in tmp_path, SQLite, memory:// RPC, fake driver."""
    CONF([], project="mininova", default_config_files=[])
    CONF.set_override("state_path", str(tmp_path))
    CONF.set_override("connection", f"sqlite:///{tmp_path}/mininova.sqlite", "database")
    CONF.set_override("transport_url", "memory://")
    CONF.set_override("compute_driver", "fake.FakeDriver")
    yield CONF
    policy.reset()
    rpc.cleanup()
    rpc.reset_memory_broker()
    db_api.dispose_engines()
    CONF.reset()
