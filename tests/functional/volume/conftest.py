"""Fixtures of mininova-volume's functional tests: the service's Flask
application in-process on SQLite, real volume files and real
qemu-storage-daemon exports under the test's tmp_path, and an in-process
mininova-image for volumes made from images.

Nothing is left behind, also when a test fails: every export daemon this
process started is stopped, any other under the test's directory is
killed, and the volume files, downloads and database are removed.
"""

import os
import shutil
import signal

import pytest

from mininova.volume.service import app as volume_app
from mininova.volume.service import nbd
from tests.functional.helpers import image_service_running
from tests.functional.volume import helpers


@pytest.fixture
def volume_conf(conf, tmp_path):
    """CONF for the volume service: state under tmp_path (the defaults put
    the database, volumes and downloads there) and a window of NBD ports
    of its own (the ``conf`` fixture's); all of it removed after."""
    yield conf
    _leave_nothing_behind(tmp_path)


def _leave_nothing_behind(tmp_path):
    nbd.stop_all_children()
    for pid in helpers.daemons_under(str(tmp_path)):
        # Started by another process (a service under test): not ours to reap.
        os.kill(pid, signal.SIGKILL)
    for name in ("volumes", "conversion"):
        shutil.rmtree(tmp_path / name, ignore_errors=True)
    for name in ("volume.sqlite", "volume.sqlite-wal", "volume.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)


@pytest.fixture
def app(volume_conf):
    """A mininova-volume application, its manager started; stopped after."""
    application = volume_app.create_app()
    yield application
    application.extensions["mininova-volume"].manager.stop()


@pytest.fixture
def http(app):
    """Flask's test client, with ``volume`` at the test's microversion."""
    return helpers.Http(app.test_client())


@pytest.fixture
def image_server(volume_conf):
    with image_service_running() as server:
        yield server
