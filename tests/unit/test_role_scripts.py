"""The role scripts' choices that need no root and change nothing: which
daemons bin/mininova-services runs for each role, the arguments
bin/mininova-quickstart refuses before it installs anything, and the
checks of bin/lib/common.sh that decide what a run again leaves alone (a
daemon found by its pid file, a venv that has what is asked)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "bin" / "mininova-services"
QUICKSTART = ROOT / "bin" / "mininova-quickstart"
COMMON = ROOT / "bin" / "lib" / "common.sh"

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


def common_sh(script, *args):
    """``script`` run by bash after sourcing bin/lib/common.sh; its exit status."""
    return subprocess.run(["bash", "-c", f'source "{COMMON}"; {script}', "bash", *args],
                          capture_output=True, text=True, timeout=30).returncode


def test_a_daemon_runs_when_its_pid_file_names_a_live_process(tmp_path):
    pid_file = tmp_path / "daemon.pid"
    check = 'running_from_pid_file "$1"'
    assert common_sh(check, pid_file) == 1  # no file
    pid_file.write_text("not a pid\n")
    assert common_sh(check, pid_file) == 1
    exited = subprocess.Popen(["true"])
    exited.wait()
    pid_file.write_text(f"{exited.pid}\n")
    assert common_sh(check, pid_file) == 1
    alive = subprocess.Popen(["sleep", "30"])
    try:
        pid_file.write_text(f"{alive.pid}\n")
        assert common_sh(check, pid_file) == 0
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.parametrize("stamps, wanted, current", [
    ([], "", False),
    (["test"], "", True),
    (["test"], "test", True),
    (["test"], "postgresql,mysql", True),   # the test extra has both drivers
    (["test"], "postgresql,mysql,other", False),
    (["postgresql,mysql"], "mysql", True),
    (["test", "postgresql,mysql"], "postgresql,mysql", True),
    (["postgresql"], "postgresql,mysql", False),
])
def test_a_venv_installed_with_more_extras_serves_fewer(tmp_path, stamps, wanted, current):
    (tmp_path / "setup.cfg").write_text("")
    os.utime(tmp_path / "setup.cfg", (1_000_000, 1_000_000))
    for extras in stamps:
        (tmp_path / f".installed-{extras}").write_text("")
    status = common_sh('REPO=$1 VENV=$1 venv_has_extras "$2"', tmp_path, wanted)
    assert status == (0 if current else 1)


def test_a_venv_older_than_setup_cfg_is_installed_again(tmp_path):
    (tmp_path / ".installed-test").write_text("")
    os.utime(tmp_path / ".installed-test", (1_000_000, 1_000_000))
    (tmp_path / "setup.cfg").write_text("")
    assert common_sh('REPO=$1 VENV=$1 venv_has_extras ""', tmp_path) == 1
