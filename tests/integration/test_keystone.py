"""The real Keystone, installed and bootstrapped as the quickstart does it
(bin/lib/keystone_setup.py), seen through real OpenStack clients:
keystoneauth1 (what openstacksdk, the openstack command and
keystonemiddleware use) and the openstack command itself."""

import concurrent.futures
import json
import secrets
import socket
import stat
import subprocess
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import yaml
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tests.integration import conftest
from tests.integration.keystone import KEYSTONE_VENV, REGION, Keystone, processes_in_group


def login(auth_url=None, **credentials):
    """A password token scoped to a project: its AccessInfo (roles, catalog)."""
    auth = v3.Password(auth_url=auth_url, **credentials)
    return auth.get_access(ks_session.Session(auth=auth))


def openrc_environment(keystone, user):
    """The OS_* variables that ``source openrc <user>`` sets."""
    out = subprocess.run(["bash", "-c", f"source {keystone.dir}/openrc {user} && env -0"],
                         check=True, capture_output=True, text=True).stdout
    return dict(item.split("=", 1) for item in out.split("\0")
                if item.startswith("OS_"))


def test_password_tokens_for_admin_and_demo(keystone):
    for user in ("admin", "demo"):
        began = time.monotonic()
        access = login(**keystone.credentials(user))
        elapsed = time.monotonic() - began
        assert access.auth_token
        assert (access.username, access.project_name) == (user, user)
        print(f"password token for {user}: {elapsed:.2f} s")
    print("keystone fixture: " + ", ".join(f"{step} {seconds:.1f} s"
                                           for step, seconds in keystone.timings.items()))


def test_admin_has_admin_and_the_roles_it_implies(keystone):
    roles = set(login(**keystone.credentials("admin")).role_names)
    assert {"admin", "member", "reader"} <= roles


def test_demo_is_member_and_so_reader_but_not_admin(keystone):
    roles = set(login(**keystone.credentials("demo")).role_names)
    assert {"member", "reader"} <= roles  # reader: implied by member
    assert "admin" not in roles


def test_service_users_have_admin_and_service_in_project_service(keystone):
    for user in ("nova", "glance"):
        access = login(**keystone.credentials(user))
        assert access.project_name == "service"
        assert {"admin", "service"} <= set(access.role_names)


def test_catalog_has_identity_compute_and_image_in_region_one(keystone):
    catalog = login(**keystone.credentials("demo")).service_catalog
    def url(service_type):
        return catalog.url_for(service_type=service_type, interface="public",
                               region_name=REGION)
    assert url("identity") == keystone.auth_url
    assert url("compute") == "http://127.0.0.1:8774/v2.1"
    assert url("image") == "http://127.0.0.1:9292"


def test_point_at_moves_the_endpoints_to_a_deployments_ports(keystone):
    try:
        keystone.point_at(SimpleNamespace(api_port=28774, image_port=29292))
        catalog = login(**keystone.credentials("demo")).service_catalog
        # Moved, not added: one public endpoint per service and region.
        assert catalog.get_urls(service_type="compute", interface="public",
                                region_name=REGION) == ("http://127.0.0.1:28774/v2.1",)
        assert catalog.get_urls(service_type="image", interface="public",
                                region_name=REGION) == ("http://127.0.0.1:29292",)
    finally:
        keystone.point_at(SimpleNamespace(api_port=8774, image_port=9292))


def test_add_service_for_network_and_block_storage(keystone, network_in_catalog):
    keystone.add_service("network")
    keystone.add_service("block-storage")
    access = login(**keystone.credentials("demo"))
    catalog = access.service_catalog
    def url(service_type):
        return catalog.url_for(service_type=service_type, interface="public",
                               region_name=REGION)
    assert url("network") == "http://127.0.0.1:9696"
    # Keystone fills in $(project_id)s with the token's project.
    volume = f"http://127.0.0.1:8776/v3/{access.project_id}"
    assert url("block-storage") == volume
    assert url("volumev3") == volume
    # ... and the services' users exist, in project service.
    for user in ("neutron", "cinder"):
        credentials = {**keystone.credentials("nova"), "username": user}
        assert {"admin", "service"} <= set(login(**credentials).role_names)


def test_openrc_sets_what_the_clients_read(keystone):
    env = openrc_environment(keystone, "demo")
    assert env == {
        "OS_AUTH_URL": keystone.auth_url, "OS_USERNAME": "demo",
        "OS_PASSWORD": keystone.passwords["DEMO_PASSWORD"], "OS_PROJECT_NAME": "demo",
        "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3", "OS_REGION_NAME": REGION, "OS_INTERFACE": "public"}
    assert stat.S_IMODE((keystone.dir / "openrc").stat().st_mode) == 0o644  # holds no password
    assert stat.S_IMODE(keystone.passwords_file.stat().st_mode) == 0o600


def test_clouds_yaml_has_both_clouds_and_is_root_only(keystone):
    path = keystone.dir / "clouds.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    clouds = yaml.safe_load(path.read_text())["clouds"]
    assert set(clouds) == {"mininova-admin", "mininova-demo"}
    for name, cloud in clouds.items():
        assert cloud["region_name"] == REGION
        access = login(**{k: v for k, v in cloud["auth"].items()})
        assert access.username == name.removeprefix("mininova-")


def test_the_openstack_command_with_openrc_and_with_clouds_yaml(keystone):
    """python-openstackclient (openstacksdk underneath) from .venv-keystone,
    configured by ``source openrc demo``, then by clouds.yaml alone."""
    def openstack(env, *args):
        result = subprocess.run([KEYSTONE_VENV / "bin" / "openstack", *args, "-f", "json"],
                                env={"PATH": "/usr/bin:/bin", **env}, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)
    openrc = openrc_environment(keystone, "demo")
    token = openstack(openrc, "token", "issue")
    demo = login(**keystone.credentials("demo"))
    assert (token["project_id"], token["user_id"]) == (demo.project_id, demo.user_id)
    clouds = {"OS_CLIENT_CONFIG_FILE": str(keystone.dir / "clouds.yaml")}
    catalog = openstack(clouds, "--os-cloud", "mininova-admin", "catalog", "list")
    assert {"identity", "compute", "image"} <= {service["Type"] for service in catalog}


@pytest.mark.parametrize("admin_url", [conftest.POSTGRES_ADMIN_URL, conftest.MYSQL_ADMIN_URL],
                         ids=["postgresql", "mariadb"])
def test_keystone_on_a_database_server(admin_url, tmp_path):
    """configure + init on PostgreSQL or MariaDB: the database is created,
    db_sync and keystone-manage bootstrap fill it."""
    name = f"keystone_test_{secrets.token_hex(4)}"
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(
        hide_password=False)
    ks = Keystone(tmp_path)
    ks.setup("passwords", ks.passwords_file)
    ks.setup("configure", "--conf", ks.conf, "--state-dir", tmp_path, "--log-dir", tmp_path,
             "--database", url)
    engine = sa.create_engine(url)
    try:
        ks.setup("init", "--conf", ks.conf, "--passwords", ks.passwords_file,
                 "--public-url", ks.auth_url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT name FROM project WHERE name = 'admin'")).all()
            roles = {row[0] for row in conn.execute(sa.text("SELECT name FROM role"))}
        assert {"admin", "member", "reader", "service"} <= roles
    finally:
        engine.dispose()
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            quote = '"' if admin.dialect.name == "postgresql" else "`"
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
        admin.dispose()


def test_configure_puts_the_database_beside_mininovas(tmp_path):
    """The quickstart's rule: SQLite beside SQLite; on a server, the same
    server and user, database ``keystone``."""
    ks = Keystone(tmp_path / "ks")
    cases = {"sqlite:////var/lib/mininova/mininova.sqlite":
             f"sqlite:///{tmp_path}/keystone.sqlite",
             "postgresql+psycopg2://nova:secret@db.example:5432/mininova":
             "postgresql+psycopg2://nova:secret@db.example:5432/keystone",
             "mysql+pymysql://root@127.0.0.1/mininova?charset=utf8":
             "mysql+pymysql://root@127.0.0.1/keystone?charset=utf8"}
    for mininova_url, expected in cases.items():
        (tmp_path / "mininova.conf").write_text(f"[database]\nconnection = {mininova_url}\n")
        ks.conf.unlink(missing_ok=True)
        ks.setup("configure", "--conf", ks.conf, "--state-dir", tmp_path, "--log-dir",
                 tmp_path, "--mininova-conf", tmp_path / "mininova.conf")
        assert f"connection = {expected}\n" in ks.conf.read_text()
        assert stat.S_IMODE(ks.conf.stat().st_mode) == 0o600


def test_a_stopped_keystone_leaves_nothing_behind(work_root, keystone):
    throwaway = Keystone(work_root / "keystone-teardown")
    try:
        throwaway.start()
        pids = throwaway.processes()
        assert len(pids) == 2  # gunicorn's master and its one worker (SQLite)
    finally:
        throwaway.stop()
    assert processes_in_group(throwaway.process.pid) == []
    assert not throwaway.dir.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", throwaway.port), timeout=5).close()
    # The session's Keystone is another: still there.
    assert login(**keystone.credentials("demo")).auth_token


def first_login_status(auth_url, name, password, project_id):
    """POST /v3/auth/tokens for one user: the HTTP status Keystone answers."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "password": password, "domain": {"id": "default"}}}},
        "scope": {"project": {"id": project_id}}}}
    response = ks_session.Session().post(auth_url + "/auth/tokens", json=body,
                                         raise_exc=False)
    return response.status_code


def test_first_logins_of_a_user_at_once_all_get_tokens(keystone):
    """A user's first login of the day writes its last_active_at. On SQLite
    two workers deadlocked on that write and one answered 500 ("database is
    locked"): the multihost computes, both logging in as nova at once, met
    it. Keystone on SQLite runs one worker (keystone_setup.py workers_for)."""
    admin = ks_session.Session(auth=v3.Password(**keystone.credentials("admin")))
    url = keystone.auth_url
    [project] = admin.get(f"{url}/projects?name=demo").json()["projects"]
    [member] = admin.get(f"{url}/roles?name=member").json()["roles"]
    statuses = []
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for _ in range(10):
            name, password = f"racer-{secrets.token_hex(4)}", secrets.token_hex(16)
            user = admin.post(f"{url}/users", json={"user": {
                "name": name, "password": password, "domain_id": "default"}}).json()["user"]
            admin.put(f"{url}/projects/{project['id']}/users/{user['id']}/roles/{member['id']}")
            logins = [pool.submit(first_login_status, url, name, password, project["id"])
                      for _ in range(4)]
            statuses += [login.result() for login in logins]
            admin.delete(f"{url}/users/{user['id']}")
    assert statuses == [201] * 40
