"""The role scripts' choices that need no root and change nothing: which
daemons bin/mininova-services runs for each role, and the arguments
bin/mininova-quickstart refuses before it installs anything."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "bin" / "mininova-services"
QUICKSTART = ROOT / "bin" / "mininova-quickstart"

ROLE_DAEMONS = {
    "all": ["keystone", "mininova-image", "mininova-network", "mininova-volume",
            "mininova-conductor", "mininova-scheduler", "mininova-compute", "mininova-api"],
    "controller": ["keystone", "mininova-image", "mininova-network", "mininova-volume",
                   "mininova-conductor", "mininova-scheduler", "mininova-api"],
    "compute": ["mininova-network-agent", "mininova-compute"],
}


def run(*args, conf_dir, role_file=None):
    conf_dir.mkdir(exist_ok=True)
    if role_file is not None:
        (conf_dir / "role").write_text(role_file + "\n")
    env = dict(os.environ, MININOVA_CONF_DIR=str(conf_dir),
               MININOVA_RUN_DIR=str(conf_dir / "run"), MININOVA_LOG_DIR=str(conf_dir / "log"))
    return subprocess.run(["bash", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=30)


def daemons_in(status_output):
    return [line.split(":")[0] for line in status_output.splitlines() if line.endswith("stopped")]


@pytest.mark.parametrize("role", ROLE_DAEMONS)
def test_each_roles_daemons_from_the_role_file(tmp_path, role):
    result = run(SERVICES, "status", conf_dir=tmp_path / "etc", role_file=role)
    assert result.returncode == 3, result.stderr  # stopped, as an init script says
    assert daemons_in(result.stdout) == ROLE_DAEMONS[role]


def test_no_role_file_is_all(tmp_path):
    result = run(SERVICES, "status", conf_dir=tmp_path / "etc")
    assert daemons_in(result.stdout) == ROLE_DAEMONS["all"]


def test_role_option_overrides_the_file_and_mininova_leaves_out_keystone(tmp_path):
    result = run(SERVICES, "--role", "controller", "status", "mininova",
                 conf_dir=tmp_path / "etc", role_file="compute")
    assert daemons_in(result.stdout) == ROLE_DAEMONS["controller"][1:]


def test_an_unknown_role_is_refused(tmp_path):
    result = run(SERVICES, "status", conf_dir=tmp_path / "etc", role_file="storage")
    assert result.returncode == 1
    assert "unknown role 'storage' (all, controller or compute)" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--role", "storage"], "--role must be all, controller or compute, not 'storage'"),
    (["--role", "compute"], "--role compute needs --controller ADDRESS"),
    (["--colour", "blue"], "unknown argument --colour"),
])
def test_quickstart_refuses_bad_arguments_before_doing_anything(tmp_path, args, message):
    result = run(QUICKSTART, *args, conf_dir=tmp_path / "etc")
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_quickstart_help_shows_every_role(tmp_path):
    result = run(QUICKSTART, "--help", conf_dir=tmp_path / "etc")
    assert result.returncode == 0
    for usage in ("--role all", "--role controller [--address ADDRESS]",
                  "--role compute --controller ADDRESS [--bootstrap FILE]"):
        assert usage in result.stdout
