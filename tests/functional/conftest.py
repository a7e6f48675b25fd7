"""The functional tier: the whole cloud in one process (mininova-all's
launcher) over memory://, with the fake driver and a real SQLite file."""

import pytest

from mininova import context as mn_context
from mininova.cli import shell
from mininova.cmd.all import AllInOne
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.volume.service import nbd
from tests.functional.helpers import image_service_running, make_client


@pytest.fixture
def cloud(conf, request):
    """The running cloud; ``@pytest.mark.hosts("h1", "h2")`` names its computes."""
    marker = request.node.get_closest_marker("hosts")
    hosts = list(marker.args) if marker else ["host1"]
    running = AllInOne().start(compute_hosts=hosts, api_port=0, image_port=0,
                               volume_port=0)
    yield running
    _let_scheduling_finish()
    running.stop()
    # The volume service's NBD exports outlive it on purpose (guests keep
    # their disks); a test's must not outlive the test.
    nbd.stop_all_children()


def _let_scheduling_finish(timeout=5):
    """A test may end right after a POST /servers. Stopping the scheduler
    while the conductor waits for its select_destinations answer would
    leave the conductor waiting (long_rpc_timeout) for a reply that never
    comes, so give the servers still in task_state scheduling a moment to
    leave it. Best effort: a test that keeps one there on purpose just
    costs the timeout."""
    import time

    from mininova import context
    from mininova.db import api as db

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        instances = db.instance_get_all_by_filters(context.get_admin_context())
        if not any(i["task_state"] == "scheduling" for i in instances):
            return
        time.sleep(0.05)


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


@pytest.fixture
def builds_settle(cloud):
    """After the test, wait for every server it created to finish its
    build: a cloud stopped while the conductor waits for the scheduler
    would wait for that answer (long_rpc_timeout) instead of stopping."""
    yield
    from mininova import context
    from mininova.db import api as db
    from tests.waiting import wait_until

    def busy():
        return [i["uuid"] for i in db.instance_get_all_by_filters(context.get_admin_context())
                if i["vm_state"] == "building" or i["task_state"] is not None]
    wait_until(busy, lambda uuids: not uuids, timeout=60, what="every build settled")


# --- mininova-image on its own (its tests, and the download's) ---------------------

@pytest.fixture
def image_conf(tmp_path):
    """CONF with the image service's database and store under tmp_path."""
    parsed_here = CONF._args is None
    if parsed_here:
        CONF([], project="mininova", default_config_files=[])
    url = f"sqlite:///{tmp_path}/image.sqlite"
    overrides = [
        ("state_path", str(tmp_path), None),
        ("connection", url, "image_service"),
        ("store_path", str(tmp_path / "images"), "image_service"),
    ]
    for name, value, group in overrides:
        CONF.set_override(name, value, group)
    yield CONF
    for name, _value, group in overrides:
        CONF.clear_override(name, group)
    db_api.get_engine(url).dispose()
    if parsed_here:
        CONF.reset()


@pytest.fixture
def store_dir(image_conf):
    return image_conf.image_service.store_path


@pytest.fixture
def image_server(image_conf):
    with image_service_running() as server:
        yield server


@pytest.fixture
def alice():
    return mn_context.RequestContext(user_id="alice", project_id="project-a")
