"""The functional tier: the whole cloud in one process (mininova-all's
launcher) over memory://, with the fake driver and a real SQLite file."""

import pytest

from mininova.cli import shell
from mininova.cmd.all import AllInOne
from mininova.volume.service import nbd
from tests.functional.helpers import make_client


@pytest.fixture
def cloud(conf, request):
    """The running cloud; ``@pytest.mark.hosts("h1", "h2")`` names its computes."""
    marker = request.node.get_closest_marker("hosts")
    hosts = list(marker.args) if marker else ["host1"]
    running = AllInOne().start(compute_hosts=hosts, api_port=0, image_port=0,
                               volume_port=0)
    yield running
    running.stop()
    # The volume service's NBD exports outlive it on purpose (guests keep
    # their disks); a test's must not outlive the test.
    nbd.stop_all_children()


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


@pytest.fixture
def mininova(cloud, monkeypatch, capsys):
    """The ``mininova`` command against the cloud, as the admin:
    ``mininova("list")`` gives ``(exit status, stdout, stderr)``."""
    monkeypatch.setenv("MININOVA_COMPUTE_URL", f"http://127.0.0.1:{cloud.api_service.port}/v2.1")
    monkeypatch.setenv("MININOVA_IMAGE_URL", f"http://127.0.0.1:{cloud.image_service.port}")
    monkeypatch.setenv("MININOVA_TOKEN", "admin:admin")
    for variable in ("OS_CLOUD", "OS_AUTH_URL"):
        monkeypatch.delenv(variable, raising=False)

    def run(*argv):
        code = shell.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run
