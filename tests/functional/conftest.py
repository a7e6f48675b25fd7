"""The functional tier: the whole cloud in one process (mininova-all's
launcher) over memory://, with the fake driver and a real SQLite file."""

import pytest

from mininova.cli.client import Client
from mininova.cmd.all import AllInOne


@pytest.fixture
def cloud(conf, request):
    """The running cloud; ``@pytest.mark.hosts("h1", "h2")`` names its computes."""
    marker = request.node.get_closest_marker("hosts")
    hosts = list(marker.args) if marker else ["host1"]
    running = AllInOne().start(compute_hosts=hosts, api_port=0, image_port=0)
    yield running
    running.stop()


def make_client(cloud, token):
    return Client(f"http://127.0.0.1:{cloud.api_service.port}/v2.1",
                  f"http://127.0.0.1:{cloud.image_service.port}", token, timeout=30)


@pytest.fixture
def admin(cloud):
    return make_client(cloud, "admin:admin")


@pytest.fixture
def demo(cloud):
    return make_client(cloud, "demo:demo")


@pytest.fixture
def image(admin, tmp_path):
    """A small raw image in the image service (the fake driver never reads it)."""
    path = tmp_path / "tiny.raw"
    path.write_bytes(b"\0" * 1024 * 1024)
    return admin.create_image("tiny", str(path), "raw")
