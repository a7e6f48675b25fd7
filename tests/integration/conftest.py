"""The integration tier: real libvirtd + QEMU, real RabbitMQ, real PostgreSQL
and MariaDB. bin/run-tests installs and starts them; here, a missing one is
a test failure that says what is missing, never a skip."""

import secrets
import shutil
import subprocess
from pathlib import Path

import libvirt
import pytest
import sqlalchemy as sa

from tests.integration import deployment
from tests.integration import keystone as keystone_fixture
from tests.integration.image_proxy import ImageProxy

POSTGRES_ADMIN_URL = deployment.env_or("MININOVA_TEST_POSTGRES_URL",
                                       "postgresql+psycopg2://postgres@127.0.0.1/postgres")
MYSQL_ADMIN_URL = deployment.env_or("MININOVA_TEST_MYSQL_URL",
                                    "mysql+pymysql://root@127.0.0.1/mysql")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def host_ready():
    """libvirtd answers, RabbitMQ runs, the tiny image is built."""
    try:
        libvirt.open("qemu:///system").close()
    except libvirt.libvirtError as exc:
        pytest.fail(f"libvirtd is not reachable at qemu:///system ({exc}); "
                    f"bin/run-tests starts it")
    status = subprocess.run(["rabbitmqctl", "-q", "status"], capture_output=True)
    if status.returncode != 0:
        pytest.fail("RabbitMQ is not running; bin/run-tests starts it")
    if not deployment.TINY_IMAGE.exists():
        pytest.fail(f"{deployment.TINY_IMAGE} is missing; run tools/build-tiny-image")


@pytest.fixture(scope="session")
def rabbit_url(host_ready):
    """A RabbitMQ vhost of our own, deleted at the end."""
    yield from _vhost()


@pytest.fixture(scope="module")
def network_rabbit_url():
    """A RabbitMQ vhost of the module's own, for the network service's
    modules (rabbit_url also wants libvirtd and the tiny image, which they
    do not use)."""
    if subprocess.run(["rabbitmqctl", "-q", "status"], capture_output=True).returncode:
        pytest.fail("RabbitMQ is not running; bin/run-tests starts it")
    yield from _vhost()


def _vhost():
    vhost = f"mininova-test-{secrets.token_hex(4)}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest",
                    ".*", ".*", ".*"], check=True)
    yield f"rabbit://guest:guest@127.0.0.1:5672/{vhost}"
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False)


def _database(admin_url, quote):
    """Create a fresh database on a real server; drop it afterwards."""
    name = f"mininova_test_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {quote}{name}{quote}"))
    url = sa.engine.make_url(admin_url).set(database=name)
    yield url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
        conn.execute(sa.text(f"DROP DATABASE {quote}{name}{quote}"))
    engine.dispose()


@pytest.fixture
def postgresql_url():
    yield from _database(POSTGRES_ADMIN_URL, '"')


@pytest.fixture
def mysql_url():
    yield from _database(MYSQL_ADMIN_URL, "`")


# libvirt runs QEMU as its own user (libvirt-qemu), which must be able to walk
# down to the instance files; pytest's tmp_path is private to root (0700).
WORK_ROOT = Path("/var/tmp/mininova-tests")


@pytest.fixture(scope="session")
def work_root():
    WORK_ROOT.mkdir(mode=0o755, exist_ok=True)
    WORK_ROOT.chmod(0o755)
    path = WORK_ROOT / secrets.token_hex(4)
    path.mkdir(mode=0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def keystone(work_root):
    """The real Keystone, throw-away: from .venv-keystone (bin/run-tests
    installs it), on a free port, its own SQLite database and keys under
    work_root, bootstrapped by the setup scripts' own code
    (bin/lib/keystone_setup.py); stopped and removed at the end. Gives
    ``auth_url``, ``credentials("admin"|"demo"|"nova"|"glance")``,
    ``add_service(type, url)`` and ``point_at(deployment)``."""
    if not keystone_fixture.PYTHON.exists():
        pytest.fail(f"{keystone_fixture.KEYSTONE_VENV} is missing; bin/run-tests installs it "
                    f"(setup_keystone_venv in bin/lib/keystone.sh)")
    running = keystone_fixture.Keystone(work_root / "keystone")
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def workdir(work_root, request):
    path = work_root / request.node.name[:60]
    path.mkdir(mode=0o755)
    return path


def run_deployment(tmp_path, rabbit_url, database_url, **kwargs):
    cloud = deployment.Deployment(tmp_path, rabbit_url, database_url, **kwargs)
    try:
        yield cloud.start()
    finally:
        cloud.stop()
        cloud.remove_leftover_domains()


@pytest.fixture(scope="module")
def cloud(work_root, rabbit_url, request):
    """One SQLite-backed deployment shared by a test module."""
    path = work_root / request.module.__name__.rpartition(".")[2]
    path.mkdir(mode=0o755)
    yield from run_deployment(path, rabbit_url, f"sqlite:///{path}/mininova.sqlite")


@pytest.fixture(scope="module")
def proxy():
    """An image proxy that a module's compute downloads through (it can hold
    or cut a download)."""
    running = ImageProxy()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(cloud):
    """The admin's client of the module's deployment (its ``cloud``)."""
    return cloud.client()


@pytest.fixture(scope="module")
def tiny(admin):
    """The tiny test image, uploaded to the module's deployment."""
    return deployment.upload_tiny_image(admin)


@pytest.fixture(scope="module")
def keystone_cloud(work_root, rabbit_url, keystone, request):
    """A deployment behind the session's real Keystone, as the quickstart
    configures one ([api] auth_strategy keystone, [keystone_authtoken],
    [service_user]), the catalog pointing at it; its client() speaks as
    Keystone's admin."""
    path = work_root / request.module.__name__.rpartition(".")[2]
    path.mkdir(mode=0o755)
    cloud = deployment.Deployment(path, rabbit_url, f"sqlite:///{path}/mininova.sqlite",
                                  config=keystone.service_config(),
                                  admin_token=lambda: keystone.token("admin"))
    try:
        cloud.start()
        keystone.point_at(cloud)
        yield cloud
    finally:
        cloud.stop()
        cloud.remove_leftover_domains()


@pytest.fixture
def network_in_catalog(keystone):
    """A test that puts the network service in the session Keystone's
    catalog (at a port nothing listens on) takes it out again: later tests'
    clients follow the catalog (``openstack quota show`` asks every service
    in it)."""
    yield
    keystone.remove_service("network")
