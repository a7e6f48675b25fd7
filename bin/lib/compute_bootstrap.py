#!/usr/bin/env python3
"""What a controller hands a compute host, and the configuration a compute
host writes from it: the two ends of ``bin/mininova-quickstart --role``.

Stands for devstack's multi-node set-up, where a subnode's ``local.conf``
names the controller (``SERVICE_HOST``, the RabbitMQ host and password, the
service password) and ``stack.sh`` writes ``nova-cpu.conf`` from it. Nova's
compute then finds Glance, Neutron and Cinder in Keystone's catalog on
every request (keystoneauth adapters); mininova's compute takes fixed URLs
(``[glance] api_servers``, ``[neutron] endpoint_override``, ``[cinder]
endpoint_template``), so this looks the catalog up once, when the file is
written, as the service user would.

    controller-bootstrap --file F --transport-url URL --auth-url URL --passwords FILE
        on the controller: write the compute's bootstrap file (root only)
    compute-config --bootstrap F --output FILE --host NAME ...
        on a compute host: token and catalog from Keystone, then its
        mininova-compute.conf (no [database] section: a compute reaches the
        database only through the conductor)

The bootstrap file holds the broker URL (with the computes' RabbitMQ user,
not guest, which RabbitMQ only lets in from localhost), Keystone's URL and
the service user nova; never database credentials. Left out on purpose:
per-host service users, TLS, and re-reading the catalog at run time.

Standard library only: it runs before or without mininova's virtualenv.
"""

import argparse
import configparser
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

BOOTSTRAP_SECTION = "bootstrap"
# Every key the bootstrap file must have; the compute's configuration is
# made of these and of the catalog.
BOOTSTRAP_KEYS = ("transport_url", "auth_url", "region_name", "username", "password",
                  "project_name", "user_domain_name", "project_domain_name")
# The service user of mininova's services, as keystone_setup.py makes it.
SERVICE_USER = {"username": "nova", "project_name": "service",
                "user_domain_name": "Default", "project_domain_name": "Default"}
# What a compute host needs from the catalog: image (the base images it
# downloads), network (ports it binds), block-storage (volumes it attaches).
# volumev3 is the older name of block-storage some catalogs still use.
CATALOG_TYPES = {"image": ("image",), "network": ("network",),
                 "block-storage": ("block-storage", "volumev3")}


class BootstrapError(Exception):
    """Something the operator must fix; the message says what."""


# --- the controller's end ------------------------------------------------------------

def read_passwords(path):
    """KEY=value lines, as keystone_setup.py writes them."""
    values = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def bootstrap_values(transport_url, auth_url, service_password, region="RegionOne"):
    values = {"transport_url": transport_url, "auth_url": auth_url,
              "region_name": region, "password": service_password, **SERVICE_USER}
    check_values(values, "the bootstrap")
    return values


def check_values(values, where):
    missing = [key for key in BOOTSTRAP_KEYS if not values.get(key)]
    if missing:
        raise BootstrapError(f"{where} lacks {', '.join(missing)}")
    for key, value in values.items():
        # A newline would let one value write another option.
        if "\n" in value or "\r" in value:
            raise BootstrapError(f"{where}: {key} has a line break")


def render_bootstrap(values):
    lines = ["# What a mininova compute host needs from its controller. Written by",
             "# bin/mininova-quickstart --role controller; read by --role compute",
             "# (fetched over SSH or given with --bootstrap). Root only: it holds the",
             "# broker's and the service user's passwords (and no database's).",
             f"[{BOOTSTRAP_SECTION}]"]
    lines += [f"{key} = {values[key]}" for key in BOOTSTRAP_KEYS]
    return "\n".join(lines) + "\n"


def write_private(path, text):
    """Write to a new 0600 file, then rename it over the old one: never
    readable by others, not even briefly, and never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = path.with_name(path.name + ".new")
    new.unlink(missing_ok=True)
    with os.fdopen(os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(text)
    new.replace(path)


# --- the compute's end -----------------------------------------------------------------

def load_bootstrap(path):
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path) as f:
            parser.read_file(f)
    except OSError as e:
        raise BootstrapError(f"cannot read the bootstrap file {path}: {e.strerror}") from e
    except configparser.Error as e:
        raise BootstrapError(f"{path} is not a bootstrap file: {e}") from e
    if not parser.has_section(BOOTSTRAP_SECTION):
        raise BootstrapError(f"{path} has no [{BOOTSTRAP_SECTION}] section")
    values = dict(parser.items(BOOTSTRAP_SECTION))
    check_values(values, str(path))
    return values


def token_request(values):
    """The body of POST /v3/auth/tokens: the service user's password,
    scoped to its project, so the answer carries the catalog."""
    return {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": values["username"], "password": values["password"],
            "domain": {"name": values["user_domain_name"]}}}},
        "scope": {"project": {"name": values["project_name"],
                              "domain": {"name": values["project_domain_name"]}}}}}


def fetch_catalog(values, timeout=30):
    url = values["auth_url"].rstrip("/") + "/auth/tokens"
    request = urllib.request.Request(
        url, data=json.dumps(token_request(values)).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            token = json.load(response)["token"]
    except urllib.error.HTTPError as e:
        raise BootstrapError(f"Keystone at {url} refused the service user "
                             f"{values['username']}: HTTP {e.code}") from e
    except (urllib.error.URLError, OSError) as e:
        raise BootstrapError(f"cannot reach Keystone at {url}: {e}") from e
    return token.get("catalog", []), token["project"]["id"]


def endpoints_from_catalog(catalog, region):
    """The public URL of each service a compute needs, by our name for it."""
    found = {}
    for name, types in CATALOG_TYPES.items():
        for service_type in types:
            url = public_url(catalog, service_type, region)
            if url:
                found[name] = url
                break
        else:
            raise BootstrapError(
                f"Keystone's catalog has no public {'/'.join(types)} endpoint in "
                f"{region}: is that service set up on the controller?")
    return found


def public_url(catalog, service_type, region):
    for service in catalog:
        if service.get("type") != service_type:
            continue
        for endpoint in service.get("endpoints", []):
            if endpoint.get("interface") == "public" and \
                    region in (endpoint.get("region_id"), endpoint.get("region")):
                return endpoint["url"]
    return None


def cinder_template(url, project_id):
    """Nova's ``[cinder] endpoint_template`` takes ``%(project_id)s`` where
    the endpoint has ``$(project_id)s``: a token's catalog has it replaced
    by the token's project (the service project here), so that id is put
    back as the placeholder; a raw endpoint URL has Keystone's form."""
    url = url.replace("$(project_id)s", "%(project_id)s")
    return url.replace(f"/{project_id}", "/%(project_id)s") if project_id else url


def render_compute_conf(values, endpoints, host, state_path, log_dir, project_id=None,
                        my_ip=None, ssh_identity_file=None):
    """``my_ip``: this host's address on the hosts' network, where the
    others reach it (a resize's destination gives it to the source, which
    copies the disk there over SSH) and where its VXLAN tunnels end (the L2
    agent's ``[vxlan] local_ip``). ``ssh_identity_file``: the key those
    copies use."""
    auth = "\n".join(f"{key} = {values[key]}" for key in (
        "username", "password", "project_name", "user_domain_name", "project_domain_name"))
    my_ip_line = f"my_ip = {my_ip}\n" if my_ip else ""
    extra = ""
    if my_ip:
        extra += ("\n[vxlan]\n"
                  "# Where this host's VXLAN tunnels end (mininova-network-agent).\n"
                  f"local_ip = {my_ip}\n")
    if ssh_identity_file:
        extra += ("\n[libvirt]\n"
                  "# Resize and cold migration copy disks to other computes over SSH.\n"
                  f"ssh_identity_file = {ssh_identity_file}\n")
    return f"""\
# mininova-compute and mininova-network-agent on the compute host {host}.
# Written by bin/mininova-quickstart --role compute from compute-bootstrap.conf
# and Keystone's catalog at {values['auth_url']}; every run writes it anew.
# No [database] section: a compute host reaches the database only through
# the conductor. Every option: etc/mininova/mininova.conf.sample
[DEFAULT]
host = {host}
{my_ip_line}state_path = {state_path}
log_dir = {log_dir}
debug = True
transport_url = {values['transport_url']}

[glance]
api_servers = {endpoints['image']}

[neutron]
enabled = True
endpoint_override = {endpoints['network']}
region_name = {values['region_name']}

[cinder]
endpoint_template = {cinder_template(endpoints['block-storage'], project_id)}

[api]
auth_strategy = keystone

[keystone_authtoken]
www_authenticate_uri = {values['auth_url']}
auth_url = {values['auth_url']}
auth_type = password
{auth}
region_name = {values['region_name']}

[service_user]
send_service_user_token = True
auth_type = password
auth_url = {values['auth_url']}
{auth}
{extra}"""


def render_openrc(values):
    """The service user's credentials for the mininova command on the
    compute host (service-list, hypervisor-list: nova is admin of service)."""
    return "".join(f"export {name}={values[key]}\n" for name, key in (
        ("OS_AUTH_URL", "auth_url"), ("OS_REGION_NAME", "region_name"),
        ("OS_USERNAME", "username"), ("OS_PASSWORD", "password"),
        ("OS_PROJECT_NAME", "project_name"), ("OS_USER_DOMAIN_NAME", "user_domain_name"),
        ("OS_PROJECT_DOMAIN_NAME", "project_domain_name"))) + "export OS_IDENTITY_API_VERSION=3\n"


# --- command line ----------------------------------------------------------------------

def cmd_controller_bootstrap(args):
    passwords = read_passwords(args.passwords)
    if "SERVICE_PASSWORD" not in passwords:
        raise BootstrapError(f"{args.passwords} has no SERVICE_PASSWORD")
    values = bootstrap_values(args.transport_url, args.auth_url,
                              passwords["SERVICE_PASSWORD"], args.region)
    write_private(args.file, render_bootstrap(values))
    print(f"wrote {args.file}")


def cmd_compute_config(args):
    values = load_bootstrap(args.bootstrap)
    catalog, project_id = fetch_catalog(values)
    endpoints = endpoints_from_catalog(catalog, values["region_name"])
    write_private(args.output, render_compute_conf(
        values, endpoints, args.host, args.state_path, args.log_dir, project_id,
        args.my_ip, args.ssh_identity_file))
    if args.openrc:
        write_private(args.openrc, render_openrc(values))
    print(f"wrote {args.output}: image {endpoints['image']}, network "
          f"{endpoints['network']}, block-storage {endpoints['block-storage']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sub = commands.add_parser("controller-bootstrap", help="write the computes' bootstrap file")
    sub.set_defaults(function=cmd_controller_bootstrap)
    sub.add_argument("--file", required=True)
    sub.add_argument("--transport-url", required=True, help="rabbit://USER:PASS@HOST:5672/")
    sub.add_argument("--auth-url", required=True, help="http://HOST:5000/v3")
    sub.add_argument("--passwords", required=True, help="keystone_setup.py's passwords file")
    sub.add_argument("--region", default="RegionOne")
    sub = commands.add_parser("compute-config", help="write a compute host's configuration")
    sub.set_defaults(function=cmd_compute_config)
    sub.add_argument("--bootstrap", required=True)
    sub.add_argument("--output", required=True)
    sub.add_argument("--openrc", help="also write the service user's openrc here")
    sub.add_argument("--host", required=True, help="this compute host's name")
    sub.add_argument("--my-ip", help="this host's address where the other hosts reach it")
    sub.add_argument("--ssh-identity-file", help="the SSH key for disk copies to other computes")
    sub.add_argument("--state-path", default="/var/lib/mininova")
    sub.add_argument("--log-dir", default="/var/log/mininova")
    args = parser.parse_args(argv)
    try:
        args.function(args)
    except BootstrapError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
