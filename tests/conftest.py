"""Fixtures shared by every test tier."""

import random

import pytest

from mininova import policy, rpc
from mininova.conf import CONF
from mininova.db import api as db_api


@pytest.fixture
def conf(tmp_path):
    """A fresh configuration: state in tmp_path, SQLite, memory:// RPC, fake
    driver, NBD export ports of its own."""
    CONF([], project="mininova", default_config_files=[])
    CONF.set_override("state_path", str(tmp_path))
    CONF.set_override("connection", f"sqlite:///{tmp_path}/mininova.sqlite", "database")
    CONF.set_override("transport_url", "memory://")
    CONF.set_override("compute_driver", "fake.FakeDriver")
    # NBD exports of the volume service: a window of ports of the test's own,
    # away from a real deployment's 10809 and from the ephemeral range.
    nbd_base = random.randrange(12000, 19800, 20)
    CONF.set_override("nbd_port_min", nbd_base, "volume")
    CONF.set_override("nbd_port_max", nbd_base + 19, "volume")
    yield CONF
    policy.reset()
    rpc.cleanup()
    rpc.reset_memory_broker()
    db_api.dispose_engines()
    CONF.reset()
