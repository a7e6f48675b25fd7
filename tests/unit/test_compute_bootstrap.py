"""bin/lib/compute_bootstrap.py: the controller's bootstrap file for the
compute hosts, and the mininova-compute.conf a compute host writes from it
and Keystone's catalog (the catalog here is a token response's, as
Keystone returns it; tests/integration/test_compute_bootstrap.py asks a
real Keystone)."""

import configparser
import importlib.util
from pathlib import Path

import pytest
from oslo_config import cfg

from mininova.conf import opts

HELPER = Path(__file__).resolve().parents[2] / "bin" / "lib" / "compute_bootstrap.py"
spec = importlib.util.spec_from_file_location("compute_bootstrap", HELPER)
cb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cb)

CATALOG = [
    {"type": "identity", "endpoints": [
        {"interface": "public", "region_id": "RegionOne", "url": "http://10.9.0.10:5000/v3"}]},
    {"type": "image", "endpoints": [
        {"interface": "internal", "region_id": "RegionOne", "url": "http://internal:9292"},
        {"interface": "public", "region_id": "RegionTwo", "url": "http://other-region:9292"},
        {"interface": "public", "region_id": "RegionOne", "url": "http://10.9.0.10:9292"}]},
    {"type": "network", "endpoints": [
        {"interface": "public", "region_id": "RegionOne", "url": "http://10.9.0.10:9696"}]},
    {"type": "block-storage", "endpoints": [
        {"interface": "public", "region_id": "RegionOne",
         "url": "http://10.9.0.10:8776/v3/$(project_id)s"}]},
]


def values(**overrides):
    return dict(cb.bootstrap_values("rabbit://mininova:s3cret@10.9.0.10:5672/",
                                    "http://10.9.0.10:5000/v3", "servicepw"), **overrides)


def test_endpoints_are_the_public_ones_of_the_region():
    assert cb.endpoints_from_catalog(CATALOG, "RegionOne") == {
        "image": "http://10.9.0.10:9292", "network": "http://10.9.0.10:9696",
        "block-storage": "http://10.9.0.10:8776/v3/$(project_id)s"}


def test_volumev3_stands_in_for_block_storage():
    catalog = [dict(s, type="volumev3") if s["type"] == "block-storage" else s for s in CATALOG]
    assert cb.endpoints_from_catalog(catalog, "RegionOne")["block-storage"] == \
        "http://10.9.0.10:8776/v3/$(project_id)s"


def test_a_missing_service_says_which():
    catalog = [s for s in CATALOG if s["type"] != "network"]
    with pytest.raises(cb.BootstrapError, match="no public network endpoint in RegionOne"):
        cb.endpoints_from_catalog(catalog, "RegionOne")


def test_another_region_is_not_taken():
    # RegionTwo has an image endpoint, but no network one.
    with pytest.raises(cb.BootstrapError, match="no public network endpoint in RegionTwo"):
        cb.endpoints_from_catalog(CATALOG, "RegionTwo")


def test_bootstrap_file_round_trip_and_private(tmp_path):
    path = tmp_path / "etc" / "compute-bootstrap.conf"
    cb.write_private(path, cb.render_bootstrap(values()))
    assert path.stat().st_mode & 0o777 == 0o600
    assert cb.load_bootstrap(path) == values()
    assert "database" not in path.read_text().lower().replace("no database", "")


def test_controller_bootstrap_command(tmp_path):
    passwords = tmp_path / "passwords"
    passwords.write_text("# comment\nADMIN_PASSWORD=a\nSERVICE_PASSWORD=svc\n")
    out = tmp_path / "compute-bootstrap.conf"
    assert cb.main(["controller-bootstrap", "--file", str(out), "--transport-url",
                    "rabbit://mininova:pw@10.9.0.10:5672/", "--auth-url",
                    "http://10.9.0.10:5000/v3", "--passwords", str(passwords)]) == 0
    loaded = cb.load_bootstrap(out)
    assert loaded["password"] == "svc"
    assert loaded["username"] == "nova" and loaded["project_name"] == "service"


def test_controller_bootstrap_without_service_password(tmp_path, capsys):
    passwords = tmp_path / "passwords"
    passwords.write_text("ADMIN_PASSWORD=a\n")
    assert cb.main(["controller-bootstrap", "--file", str(tmp_path / "b"), "--transport-url",
                    "rabbit://x", "--auth-url", "http://k/v3",
                    "--passwords", str(passwords)]) == 1
    assert "has no SERVICE_PASSWORD" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("text, message", [
    ("[other]\nx = 1\n", "no \\[bootstrap\\] section"),
    ("[bootstrap]\ntransport_url = rabbit://x\n", "lacks auth_url, region_name"),
    ("not an ini file\n", "is not a bootstrap file"),
])
def test_bad_bootstrap_files_say_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "b.conf"
    path.write_text(text)
    with pytest.raises(cb.BootstrapError, match=message):
        cb.load_bootstrap(path)


def test_missing_bootstrap_file(tmp_path):
    with pytest.raises(cb.BootstrapError, match="cannot read the bootstrap file"):
        cb.load_bootstrap(tmp_path / "absent.conf")


def test_a_line_break_in_a_value_is_refused():
    with pytest.raises(cb.BootstrapError, match="password has a line break"):
        cb.check_values(values(password="x\ndebug = False"), "the bootstrap")


def load_with_mininova_options(path):
    """The file as mininova's daemons read it: the options of the groups a
    compute reads registered as mininova registers them, so a misspelt
    option would not be read back. ([nova] is mininova-network's, with
    required keystoneauth options the compute does not have.)"""
    conf = cfg.ConfigOpts()
    for group, group_opts in opts.list_opts():
        if group in ("DEFAULT", "glance", "neutron", "cinder", "api"):
            conf.register_opts(group_opts, group=None if group == "DEFAULT" else group)
    conf(args=[], default_config_files=[str(path)])
    return conf


def test_compute_conf_is_read_by_mininova(tmp_path):
    endpoints = cb.endpoints_from_catalog(CATALOG, "RegionOne")
    path = tmp_path / "mininova-compute.conf"
    path.write_text(cb.render_compute_conf(values(), endpoints, "compute1",
                                           "/var/lib/mininova", "/var/log/mininova"))
    conf = load_with_mininova_options(path)
    assert conf.host == "compute1"
    assert conf.transport_url == "rabbit://mininova:s3cret@10.9.0.10:5672/"
    assert conf.glance.api_servers == ["http://10.9.0.10:9292"]
    assert conf.neutron.enabled is True
    assert conf.neutron.endpoint_override == "http://10.9.0.10:9696"
    assert conf.cinder.endpoint_template == "http://10.9.0.10:8776/v3/%(project_id)s"
    assert conf.api.auth_strategy == "keystone"
    # A compute host reaches the database only through the conductor.
    assert "[database]" not in path.read_text().splitlines()


def test_cinder_template_from_a_tokens_catalog():
    # A token's catalog has the token's project where the endpoint says $(project_id)s.
    assert cb.cinder_template("http://c:8776/v3/0a1b2c", "0a1b2c") == \
        "http://c:8776/v3/%(project_id)s"
    assert cb.cinder_template("http://c:8776/v3/$(project_id)s", None) == \
        "http://c:8776/v3/%(project_id)s"


def test_compute_conf_for_many_hosts():
    """What the hosts branch reads (docs/multihost.md): my_ip, the L2
    agent's [vxlan] local_ip, the SSH key of disk copies."""
    text = cb.render_compute_conf(values(), cb.endpoints_from_catalog(CATALOG, "RegionOne"),
                                  "c1", "/s", "/l", my_ip="192.168.56.11",
                                  ssh_identity_file="/root/.ssh/mininova_lab")
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(text)
    assert parsed["DEFAULT"]["my_ip"] == "192.168.56.11"
    assert parsed["vxlan"]["local_ip"] == "192.168.56.11"
    assert parsed["libvirt"]["ssh_identity_file"] == "/root/.ssh/mininova_lab"


def test_compute_conf_without_an_address_has_no_tunnel():
    text = cb.render_compute_conf(values(), cb.endpoints_from_catalog(CATALOG, "RegionOne"),
                                  "c1", "/s", "/l")
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(text)
    assert "my_ip" not in parsed["DEFAULT"]
    assert not parsed.has_section("vxlan") and not parsed.has_section("libvirt")


def test_compute_conf_has_the_service_user(tmp_path):
    text = cb.render_compute_conf(values(), cb.endpoints_from_catalog(CATALOG, "RegionOne"),
                                  "c1", "/s", "/l")
    for section in ("[keystone_authtoken]", "[service_user]"):
        block = text.split(section, 1)[1].split("\n[", 1)[0]
        assert "username = nova" in block and "password = servicepw" in block
        assert "auth_url = http://10.9.0.10:5000/v3" in block


def test_openrc_names_the_service_user():
    text = cb.render_openrc(values())
    assert "export OS_USERNAME=nova\n" in text
    assert "export OS_PROJECT_NAME=service\n" in text
    assert "export OS_AUTH_URL=http://10.9.0.10:5000/v3\n" in text


def test_unreachable_keystone_is_an_error_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "b.conf"
    # Port 9 on loopback (discard): nothing listens, the connection is refused.
    cb.write_private(path, cb.render_bootstrap(values(auth_url="http://127.0.0.1:9/v3")))
    assert cb.main(["compute-config", "--bootstrap", str(path), "--output",
                    str(tmp_path / "out.conf"), "--host", "c1"]) == 1
    assert "cannot reach Keystone at http://127.0.0.1:9/v3/auth/tokens" in capsys.readouterr().err
    assert not (tmp_path / "out.conf").exists()
