"""A compute host's configuration from a real Keystone's catalog:
bin/lib/compute_bootstrap.py as bin/mininova-quickstart --role controller
and --role compute run it, against the throw-away Keystone of the other
integration tests (its endpoints put in a region of their own, so the
other tests' catalog stays as it is)."""

import subprocess
import sys
from pathlib import Path

from oslo_config import cfg

from mininova.conf import opts

HELPER = Path(__file__).resolve().parents[2] / "bin" / "lib" / "compute_bootstrap.py"
REGION = "LabRegion"


def helper(*args):
    return subprocess.run([sys.executable, HELPER, *map(str, args)], capture_output=True,
                          text=True, timeout=60)


def read_conf(path):
    conf = cfg.ConfigOpts()
    for group, group_opts in opts.list_opts():
        if group in ("DEFAULT", "glance", "neutron", "cinder"):
            conf.register_opts(group_opts, group=None if group == "DEFAULT" else group)
    conf(args=[], default_config_files=[str(path)])
    return conf


def test_compute_config_from_keystones_catalog(keystone, workdir, network_in_catalog):
    keystone.add_service("image", "http://127.0.0.1:19292", REGION)
    keystone.add_service("network", "http://127.0.0.1:19696", REGION)
    keystone.add_service("block-storage", "http://127.0.0.1:18776/v3/$(project_id)s", REGION)
    bootstrap = workdir / "compute-bootstrap.conf"
    result = helper("controller-bootstrap", "--file", bootstrap,
                    "--transport-url", "rabbit://mininova:pw@127.0.0.1:5672/",
                    "--auth-url", keystone.auth_url, "--passwords", keystone.passwords_file,
                    "--region", REGION)
    assert result.returncode == 0, result.stderr

    output, openrc = workdir / "mininova-compute.conf", workdir / "openrc-compute"
    result = helper("compute-config", "--bootstrap", bootstrap, "--output", output,
                    "--openrc", openrc, "--host", "lab-compute1")
    assert result.returncode == 0, result.stderr

    conf = read_conf(output)
    assert conf.host == "lab-compute1"
    assert conf.transport_url == "rabbit://mininova:pw@127.0.0.1:5672/"
    assert conf.glance.api_servers == ["http://127.0.0.1:19292"]
    assert conf.neutron.endpoint_override == "http://127.0.0.1:19696"
    assert conf.neutron.region_name == REGION
    assert conf.cinder.endpoint_template == "http://127.0.0.1:18776/v3/%(project_id)s"
    assert "[database]" not in output.read_text().splitlines()
    assert output.stat().st_mode & 0o777 == 0o600
    # The service user of the openrc really gets a token (nova, project service).
    assert f"export OS_AUTH_URL={keystone.auth_url}\n" in openrc.read_text()
    assert f"export OS_PASSWORD={keystone.passwords['SERVICE_PASSWORD']}\n" in openrc.read_text()


def test_a_wrong_service_password_is_refused(keystone, workdir):
    keystone.add_service("image", "http://127.0.0.1:19292", REGION)
    passwords = workdir / "passwords"
    passwords.write_text("SERVICE_PASSWORD=not-the-password\n")
    bootstrap = workdir / "compute-bootstrap.conf"
    assert helper("controller-bootstrap", "--file", bootstrap, "--transport-url", "rabbit://x/",
                  "--auth-url", keystone.auth_url, "--passwords", passwords,
                  "--region", REGION).returncode == 0
    output = workdir / "mininova-compute.conf"
    result = helper("compute-config", "--bootstrap", bootstrap, "--output", output,
                    "--host", "lab-compute1")
    assert result.returncode == 1
    assert "refused the service user nova: HTTP 401" in result.stderr
    assert not output.exists()
