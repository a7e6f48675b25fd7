#!/usr/bin/env python3
"""Set up and run the real OpenStack Keystone for mininova.

One tool for everything that makes a Keystone, used by the setup scripts
(``bin/mininova-quickstart``, ``bin/mininova-services``, through
``bin/lib/keystone.sh``) and by the integration tests' throw-away Keystone
(``tests/integration/keystone.py``): one bootstrap, not two copies.

It runs with the Python of Keystone's own virtualenv (``.venv-keystone``),
where ``keystone-manage`` and ``gunicorn`` live beside it. It imports nothing
of Keystone's: it drives ``keystone-manage`` for what must happen before
Keystone runs (schema, keys, the first admin), and Keystone's public Identity
v3 REST API for the rest (projects, users, role assignments, the catalog),
so each step reads like the request an operator would make with
``openstack``, and works against any Keystone release.

    passwords FILE              generate the passwords once (root only), keep them
    configure --conf FILE ...   write keystone.conf once (a re-run keeps your edits)
    init --conf FILE ...        database, db_sync, fernet and credential keys,
                                keystone-manage bootstrap (admin, roles, RegionOne)
    serve --conf FILE ...       run Keystone under gunicorn (exec: the pid stays)
    wait --auth-url URL ...     until an admin password token is issued
    bootstrap --auth-url URL .. demo, service project and users, the catalog
    add-service TYPE [URL] ...  one more service in the catalog, with its user
    remove-service TYPE ...     a service (and its aliases) out of the catalog
    client-config --dir DIR ... openrc and clouds.yaml for the OpenStack clients

Every step checks before it acts, so all of them can be run again.
"""

import argparse
import configparser
import grp
import json
import os
import pwd
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import namedtuple
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent  # keystone-manage and gunicorn are here

REGION = "RegionOne"
DOMAIN = "default"  # the Default domain, which keystone-manage bootstrap makes
SERVICE_PROJECT = "service"

# The accounts, as devstack makes them: (user, project, role, password key).
# keystone-manage bootstrap makes admin and the roles admin > manager >
# member > reader (each implying the next); we add the rest.
ADMIN = ("admin", "admin", "admin", "ADMIN_PASSWORD")
DEMO = ("demo", "demo", "member", "DEMO_PASSWORD")
# METADATA_SECRET is no password but a shared secret: the network service's
# metadata agent signs its requests to Nova's metadata API with it.
PASSWORD_KEYS = ("ADMIN_PASSWORD", "DEMO_PASSWORD", "SERVICE_PASSWORD", "METADATA_SECRET")

# The catalog: each service mininova runs (or will), as Keystone names it.
# ``user`` is the service user that service authenticates as (its
# [keystone_authtoken] section, when keystonemiddleware is wired in); the
# URLs use the ports of the OpenStack services they stand for. ``aliases``:
# the same endpoint under older service types that some clients still look
# for (gophercloud and Terraform know block storage as volumev3).
Service = namedtuple("Service", "name description user url aliases")
SERVICES = {
    "compute": Service("nova", "Compute: mininova-api", "nova",
                       "http://{host}:8774/v2.1", ()),
    "image": Service("glance", "Image: mininova-image", "glance",
                     "http://{host}:9292", ()),
    "network": Service("neutron", "Networking: mininova-network", "neutron",
                       "http://{host}:9696", ()),
    "block-storage": Service("cinder", "Block Storage: mininova-volume", "cinder",
                             "http://{host}:8776/v3/$(project_id)s",
                             (("volumev3", "cinderv3"),)),
}
# What the first bootstrap puts in the catalog: the services mininova has.
INITIAL_SERVICES = ("compute", "image")


def fail(message):
    print(f"keystone_setup: {message}", file=sys.stderr)
    sys.exit(1)


# --- passwords ------------------------------------------------------------------

def read_passwords(path):
    """``KEY=value`` lines (the file is also sourceable by a shell)."""
    values = {}
    for line in Path(path).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    return values


def cmd_passwords(args):
    """Generate what is missing; never change a password that is there (the
    database holds its hash). Hex, so no shell or YAML quoting can break it."""
    path = Path(args.file)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Created 0600 from the start: never readable by others, not even briefly.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with open(path, "w") as f:
            f.write("# mininova's passwords, generated once by bin/lib/keystone_setup.py\n"
                    "# and reused by every re-run. Root only: it is the key to the cloud.\n")
    os.chmod(path, 0o600)
    have = read_passwords(path)
    with open(path, "a") as f:
        for key in PASSWORD_KEYS:
            if key not in have:
                f.write(f"{key}={secrets.token_hex(16)}\n")


# --- keystone.conf --------------------------------------------------------------

def database_beside(mininova_conf, state_dir):
    """Keystone's database next to mininova's own, as the quickstart
    configures it: SQLite stays SQLite (a file of its own); PostgreSQL or
    MariaDB means the same server and user, a database named ``keystone``."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(mininova_conf)
    url = parser.get("database", "connection", fallback="sqlite://")
    if url.startswith("sqlite"):
        return f"sqlite:///{state_dir}/keystone.sqlite"
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/keystone"))


KEYSTONE_CONF = """\
# Keystone for mininova, written once by bin/lib/keystone_setup.py (configure).
# Edit it freely: re-runs keep it. Then: bin/mininova-services restart keystone
# Every option: keystone's configuration reference (docs.openstack.org/keystone).

[DEFAULT]
log_dir = {log_dir}
log_file = keystone.log
# True adds every policy decision and much more; INFO shows each request's result.
debug = False

[database]
# SQLite by default; a PostgreSQL or MariaDB URL works too (the database is
# created by keystone_setup.py init if it is missing, then keystone-manage db_sync).
# On SQLite, Keystone runs one worker process (two would deadlock on writes).
connection = {database}

[identity]
# bcrypt, Keystone's password hash, reads at most 72 bytes of a password;
# with a larger limit Keystone warns about it on every password login.
max_password_length = 72
# bcrypt's cost: 2^4 rounds, not Keystone's 2^12, as devstack does: a password
# token takes ~0.1 s instead of ~0.4 s (every openstack command gets one). The
# generated passwords are 128 random bits, which no cost factor needs to
# protect; choose more for passwords people pick. Applies to passwords set
# after a change.
password_hash_rounds = 4

[token]
# Fernet tokens: nothing is stored per token; a token is encrypted with the
# keys below and checked by decrypting it (keystone-manage fernet_rotate).
provider = fernet

[fernet_tokens]
key_repository = {keys}/fernet-keys

[fernet_receipts]
# Receipts (multi-factor auth) share the token keys, as in Keystone's defaults.
key_repository = {keys}/fernet-keys

[credential]
# The keys that encrypt stored credentials (EC2, TOTP secrets).
key_repository = {keys}/credential-keys
"""


def cmd_configure(args):
    conf = Path(args.conf)
    if conf.exists():
        print(f"{conf} is there; keeping it")
        return
    if args.database:
        database = args.database
    elif args.mininova_conf:
        database = database_beside(args.mininova_conf, args.state_dir)
    else:
        database = f"sqlite:///{args.state_dir}/keystone.sqlite"
    conf.parent.mkdir(parents=True, exist_ok=True)
    Path(args.state_dir).mkdir(parents=True, exist_ok=True)
    Path(args.log_dir).mkdir(parents=True, exist_ok=True)
    keys = conf.parent / "keystone"
    # 0600: the database URL may hold a password.
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(KEYSTONE_CONF.format(log_dir=args.log_dir, database=database, keys=keys))
    print(f"wrote {conf} (database {database.split('://')[0]})")


def read_conf(path):
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(path):
        fail(f"{path} is missing (keystone_setup.py configure writes it)")
    return parser


# --- init: what keystone-manage does before Keystone runs ----------------------------

def create_database(url):
    """PostgreSQL and MariaDB: create Keystone's database if it is missing
    (with the credentials in the URL), as devstack does. A SQLite file is
    made 0600 before db_sync fills it: it holds the password hashes."""
    if url.startswith("sqlite"):
        path = url.partition(":///")[2]
        if path and not os.path.exists(path):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        return
    import sqlalchemy as sa  # in .venv-keystone, with Keystone's oslo.db

    url = sa.engine.make_url(url)
    name = url.database
    if url.get_backend_name() == "postgresql":
        engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        exists = "SELECT 1 FROM pg_database WHERE datname = :name"
        create = f'CREATE DATABASE "{name}" ENCODING \'UTF8\''
    else:
        # The server itself, no database (URL.set ignores database=None).
        engine = sa.create_engine(sa.engine.URL.create(
            url.drivername, url.username, url.password, url.host, url.port, query=url.query))
        exists = "SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"
        create = f"CREATE DATABASE `{name}` CHARACTER SET utf8"
    with engine.connect() as conn:
        if conn.execute(sa.text(exists), {"name": name}).first() is None:
            conn.execute(sa.text(create))
            conn.commit()
            print(f"created database {name}")
    engine.dispose()


def keystone_manage(conf, *args, env=None):
    return subprocess.Popen([VENV_BIN / "keystone-manage", "--config-file", conf, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})


def finish(process, what):
    output, _ = process.communicate()
    if process.returncode != 0:
        fail(f"keystone-manage {what} failed ({process.returncode}):\n{output}")


def cmd_init(args):
    conf = read_conf(args.conf)
    create_database(conf["database"]["connection"])
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    # Schema and keys are independent: make them at once (each keystone-manage
    # spends ~2 s importing Keystone). fernet_setup and credential_setup leave
    # existing keys alone; skipping them when key 0 is there saves the import.
    steps = {"db_sync": keystone_manage(args.conf, "db_sync")}
    for step, section in (("fernet_setup", "fernet_tokens"),
                          ("credential_setup", "credential")):
        if not (Path(conf[section]["key_repository"]) / "0").exists():
            steps[step] = keystone_manage(args.conf, step, "--keystone-user", user,
                                          "--keystone-group", group)
    for step, process in steps.items():
        finish(process, step)
    # The admin user, project and role, the roles admin > manager > member >
    # reader (and service), the region and the identity endpoints. Re-run, it
    # resets admin's password to the file's and moves endpoints to new URLs.
    # The password goes in the environment, not on a command line anyone can see.
    user, project, role, key = ADMIN
    bootstrap = keystone_manage(
        args.conf, "bootstrap", "--bootstrap-username", user,
        "--bootstrap-project-name", project, "--bootstrap-role-name", role,
        "--bootstrap-service-name", "keystone", "--bootstrap-region-id", args.region,
        "--bootstrap-public-url", args.public_url,
        "--bootstrap-internal-url", args.public_url,
        "--bootstrap-admin-url", args.public_url,
        env={"OS_BOOTSTRAP_PASSWORD": read_passwords(args.passwords)[key]})
    finish(bootstrap, "bootstrap")
    print(f"keystone database, keys and admin ready ({', '.join(steps)}, bootstrap)")


# --- serve ---------------------------------------------------------------------------

def workers_for(database):
    """Two workers, or one on SQLite. Keystone's first password login of a
    user each day updates the user's last_active_at inside a transaction
    that began with a read; on SQLite two such transactions in two
    processes deadlock, and one of them fails with "database is locked"
    (HTTP 500). Keystone is meant for MariaDB or PostgreSQL; on SQLite one
    worker serves one request at a time, so no two transactions meet."""
    return 1 if database.startswith("sqlite") else 2


def cmd_serve(args):
    """Become gunicorn serving Keystone (exec, so a pid file written for this
    process names gunicorn's master; its workers are in its process group)."""
    conf = read_conf(args.conf)
    log = Path(conf["DEFAULT"]["log_dir"]) / conf["DEFAULT"]["log_file"]
    argv = [
        str(VENV_BIN / "gunicorn"),
        "--bind", args.bind,
        # Pre-forked workers, each with its own database engine and key
        # cache, as Keystone runs under uwsgi or mod_wsgi in a real cloud.
        "--workers", str(args.workers or workers_for(conf["database"]["connection"])),
        # gunicorn's request and error lines go to Keystone's own log.
        "--access-logfile", str(log), "--error-logfile", str(log),
        "--graceful-timeout", "5",
        # gunicorn >= 23 opens a control socket in ~/.gunicorn by default,
        # one path for every instance: two Keystones would fight over it.
        "--no-control-socket",
        # keystone_wsgi.py (beside this file) hides gunicorn's arguments from
        # Keystone, which parses sys.argv as its own options.
        "--pythonpath", str(HERE),
        "keystone_wsgi:application",
    ]
    env = {**os.environ, "OS_KEYSTONE_CONFIG_FILES": str(Path(args.conf).resolve())}
    os.execve(argv[0], argv, env)


# --- the Identity API ----------------------------------------------------------------

class IdentityError(Exception):
    def __init__(self, method, url, status, body):
        super().__init__(f"{method} {url}: {status} {body[:500]}")
        self.status = status


# Keystone runs on this machine: never send its requests through a proxy
# that http_proxy may name.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None, token=None, timeout=30):
    """One JSON request; returns (headers, decoded body or None)."""
    request = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json",
                 **({"X-Auth-Token": token} if token else {})})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            payload = response.read()
            return response.headers, json.loads(payload) if payload else None
    except urllib.error.HTTPError as exc:
        raise IdentityError(method, url, exc.code,
                            exc.read().decode(errors="replace")) from None


def password_token(auth_url, user, password, project, timeout=30):
    """POST /v3/auth/tokens with a password, scoped to a project. The token
    comes back in the X-Subject-Token header, its roles and catalog in the body."""
    headers, body = http("POST", f"{auth_url}/auth/tokens", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": DOMAIN}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": DOMAIN}}}}}, timeout=timeout)
    return headers["X-Subject-Token"], body["token"]


class Identity:
    """The few Identity v3 calls the bootstrap makes, as the admin."""

    def __init__(self, auth_url, passwords):
        self.url = auth_url.rstrip("/")
        self.passwords = passwords
        user, project, _, key = ADMIN
        self.token, _ = password_token(self.url, user, passwords[key], project)
        self.known = {}  # roles, projects and regions already looked up in this run

    def call(self, method, path, body=None):
        return http(method, self.url + path, body, self.token)[1]

    def find(self, collection, **filters):
        """The first ``collection`` item matching ``filters`` (query), or None."""
        found = self.call("GET", f"/{collection}?{urllib.parse.urlencode(filters)}")
        return found[collection][0] if found[collection] else None

    def ensure(self, collection, filters, fields):
        """Find or create; returns (item, created)."""
        item = self.find(collection, **filters)
        if item is not None:
            return item, False
        singular = collection[:-1]  # projects -> project, users, roles, services...
        item = self.call("POST", f"/{collection}", {singular: {**filters, **fields}})[singular]
        print(f"created {singular} {filters.get('name') or filters.get('type')}")
        return item, True

    def role(self, name):
        if ("role", name) not in self.known:
            self.known["role", name] = self.ensure("roles", {"name": name}, {})[0]
        return self.known["role", name]

    def project(self, name, description):
        if ("project", name) not in self.known:
            self.known["project", name] = self.ensure(
                "projects", {"name": name, "domain_id": DOMAIN},
                {"description": description})[0]
        return self.known["project", name]

    def user(self, name, password, project):
        """A user whose password is the file's: a re-run that finds it checks
        the password and resets it if it differs (as keystone-manage bootstrap
        does for admin)."""
        user, created = self.ensure("users", {"name": name, "domain_id": DOMAIN},
                                    {"password": password,
                                     "default_project_id": project["id"]})
        if not created:
            try:
                password_token(self.url, name, password, project["name"])
            except IdentityError as exc:
                if exc.status != 401:
                    raise
                self.call("PATCH", f"/users/{user['id']}", {"user": {"password": password}})
                print(f"reset the password of user {name}")
        return user

    def grant(self, role, user, project):
        """PUT /v3/projects/{p}/users/{u}/roles/{r}: idempotent."""
        self.call("PUT", f"/projects/{project['id']}/users/{user['id']}/roles/{role['id']}")

    def region(self, region):
        if ("region", region) in self.known:
            return
        try:
            self.call("GET", f"/regions/{region}")
        except IdentityError as exc:
            if exc.status != 404:
                raise
            self.call("POST", "/regions", {"region": {"id": region}})
            print(f"created region {region}")
        self.known["region", region] = True

    def endpoint(self, service_type, name, description, url, region):
        """The service and its public endpoint in ``region``, at ``url`` (an
        endpoint that is there with another URL is moved, not duplicated)."""
        service, _ = self.ensure("services", {"type": service_type},
                                 {"name": name, "description": description})
        self.region(region)
        endpoint = self.find("endpoints", service_id=service["id"], interface="public",
                             region_id=region)
        if endpoint is None:
            self.call("POST", "/endpoints", {"endpoint": {
                "service_id": service["id"], "interface": "public",
                "region_id": region, "url": url}})
            print(f"created {service_type} endpoint {url} in {region}")
        elif endpoint["url"] != url:
            self.call("PATCH", f"/endpoints/{endpoint['id']}", {"endpoint": {"url": url}})
            print(f"moved {service_type} endpoint to {url} in {region}")


def add_service(identity, service_type, url, region):
    """One service in the catalog: its service user (roles admin and service
    on project ``service``, as devstack gives nova and glance) and its public
    endpoint, plus any alias types. The one call a new mininova service needs."""
    service = SERVICES[service_type]
    project = identity.project(SERVICE_PROJECT, "Service users of mininova's services")
    user = identity.user(service.user, identity.passwords["SERVICE_PASSWORD"], project)
    for role in ("admin", "service"):
        identity.grant(identity.role(role), user, project)
    identity.endpoint(service_type, service.name, service.description, url, region)
    for alias, name in service.aliases:
        identity.endpoint(alias, name, service.description, url, region)


def remove_service(identity, service_type):
    """The service and its aliases out of the catalog (their endpoints go with
    them); the service user stays, as it may still own things."""
    for kind in [service_type, *(alias for alias, _name in SERVICES[service_type].aliases)]:
        service = identity.find("services", type=kind)
        if service is not None:
            identity.call("DELETE", f"/services/{service['id']}")
            print(f"removed service {kind}")


def cmd_bootstrap(args):
    identity = Identity(args.auth_url, read_passwords(args.passwords))
    user, project_name, role, key = DEMO
    project = identity.project(project_name, "The demo user's project")
    identity.grant(identity.role(role), identity.user(user, identity.passwords[key], project),
                   project)
    for service_type in INITIAL_SERVICES:
        add_service(identity, service_type,
                    SERVICES[service_type].url.format(host=args.host), args.region)
    print("keystone bootstrapped: admin, demo, service users "
          f"{', '.join(SERVICES[t].user for t in INITIAL_SERVICES)}; "
          f"catalog {', '.join(INITIAL_SERVICES)} in {args.region}")


def cmd_add_service(args):
    identity = Identity(args.auth_url, read_passwords(args.passwords))
    url = args.url or SERVICES[args.type].url.format(host=args.host)
    add_service(identity, args.type, url, args.region)


def cmd_remove_service(args):
    remove_service(Identity(args.auth_url, read_passwords(args.passwords)), args.type)


def cmd_wait(args):
    """Until Keystone issues the admin a token (its workers are up, its
    database and keys work), or fail at once when its process is gone."""
    user, project, _, key = ADMIN
    password = read_passwords(args.passwords)[key]
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            # A short timeout: something else on the port may accept and never answer.
            password_token(args.auth_url.rstrip("/"), user, password, project, timeout=10)
            return
        except IdentityError as exc:
            if exc.status < 500:
                fail(f"keystone answers but refuses the admin's token: {exc}")
            problem = str(exc)
        except (OSError, ValueError, KeyError) as exc:  # not up yet, or not Keystone
            problem = f"{type(exc).__name__}: {exc}"
        if args.pid and not _alive(args.pid):
            fail(f"keystone (pid {args.pid}) exited; see its log")
        if time.monotonic() > deadline:
            fail(f"no token from {args.auth_url} within {args.timeout} s: {problem}")
        time.sleep(0.2)


def _alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# --- openrc and clouds.yaml --------------------------------------------------------------

OPENRC = """\
# The OpenStack clients' settings for mininova's Keystone. In bash:
#     source {dir}/openrc admin      (or demo)
#     openstack token issue
# Written by bin/lib/keystone_setup.py (client-config). It holds no password:
# it reads it from {passwords}, which only root can read.
case "${{1:-admin}}" in
    admin) OS_USERNAME=admin; OS_PROJECT_NAME=admin; _mininova_key=ADMIN_PASSWORD ;;
    demo) OS_USERNAME=demo; OS_PROJECT_NAME=demo; _mininova_key=DEMO_PASSWORD ;;
    *) echo "usage: source {dir}/openrc [admin|demo]" >&2; return 2 ;;
esac
OS_PASSWORD=$(sed -n "s/^$_mininova_key=//p" {passwords}) || return 1
unset _mininova_key
export OS_USERNAME OS_PROJECT_NAME OS_PASSWORD
export OS_AUTH_URL={auth_url}
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_IDENTITY_API_VERSION=3
export OS_REGION_NAME={region}
export OS_INTERFACE=public
"""

CLOUD = """\
  mininova-{user}:
    auth:
      auth_url: {auth_url}
      username: {user}
      password: "{password}"
      project_name: {project}
      user_domain_name: Default
      project_domain_name: Default
    region_name: {region}
    interface: public
    identity_api_version: 3
"""


def cmd_client_config(args):
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    passwords = read_passwords(args.passwords)
    openrc = directory / "openrc"
    openrc.write_text(OPENRC.format(dir=directory, passwords=Path(args.passwords).resolve(),
                                    auth_url=args.auth_url, region=args.region))
    openrc.chmod(0o644)
    clouds = directory / "clouds.yaml"
    text = (f"# mininova's clouds for openstack --os-cloud, openstacksdk, gophercloud and\n"
            f"# Terraform: export OS_CLIENT_CONFIG_FILE={clouds}\n"
            f"# Written by bin/lib/keystone_setup.py (client-config); root only (passwords).\n"
            "clouds:\n")
    for user, project, _, key in (ADMIN, DEMO):
        text += CLOUD.format(user=user, project=project, password=passwords[key],
                             auth_url=args.auth_url, region=args.region)
    # Written to a new 0600 file, then renamed over the old one.
    new = clouds.with_suffix(".yaml.new")
    new.unlink(missing_ok=True)
    with os.fdopen(os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(text)
    new.replace(clouds)
    print(f"wrote {openrc} and {clouds}")


# --- command line ------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name, function, help):
        sub = commands.add_parser(name, help=help)
        sub.set_defaults(function=function)
        return sub

    def api(sub):
        sub.add_argument("--auth-url", required=True, help="http://HOST:PORT/v3")
        sub.add_argument("--passwords", required=True)

    sub = command("passwords", cmd_passwords, "generate the passwords file once")
    sub.add_argument("file")

    sub = command("configure", cmd_configure, "write keystone.conf if it is missing")
    sub.add_argument("--conf", required=True)
    sub.add_argument("--state-dir", required=True, help="where the SQLite file goes")
    sub.add_argument("--log-dir", required=True)
    database = sub.add_mutually_exclusive_group()
    database.add_argument("--database", help="a database URL (default: SQLite in --state-dir)")
    database.add_argument("--mininova-conf",
                          help="put the database beside this mininova.conf's [database]")

    sub = command("init", cmd_init, "database, keys and keystone-manage bootstrap")
    sub.add_argument("--conf", required=True)
    sub.add_argument("--passwords", required=True)
    sub.add_argument("--public-url", required=True, help="the identity endpoint, .../v3")
    sub.add_argument("--region", default=REGION)

    sub = command("serve", cmd_serve, "run Keystone under gunicorn (exec)")
    sub.add_argument("--conf", required=True)
    sub.add_argument("--bind", required=True, help="HOST:PORT")
    sub.add_argument("--workers", type=int, default=None,
                     help="gunicorn's workers (default: 2, or 1 on SQLite)")

    sub = command("wait", cmd_wait, "until the admin gets a token")
    api(sub)
    sub.add_argument("--timeout", type=float, default=60)
    sub.add_argument("--pid", type=int, help="fail at once if this process exits")

    sub = command("bootstrap", cmd_bootstrap, "demo, service users, the catalog")
    api(sub)
    sub.add_argument("--host", default="127.0.0.1", help="the services' host in the catalog")
    sub.add_argument("--region", default=REGION)

    sub = command("add-service", cmd_add_service, "one service in the catalog, with its user")
    api(sub)
    sub.add_argument("type", choices=sorted(SERVICES))
    sub.add_argument("url", nargs="?", help="default: the service's usual port on --host")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--region", default=REGION)

    sub = command("remove-service", cmd_remove_service, "a service out of the catalog")
    api(sub)
    sub.add_argument("type", choices=sorted(SERVICES))

    sub = command("client-config", cmd_client_config, "write openrc and clouds.yaml")
    api(sub)
    sub.add_argument("--dir", required=True)
    sub.add_argument("--region", default=REGION)

    args = parser.parse_args(argv)
    try:
        args.function(args)
    except IdentityError as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
