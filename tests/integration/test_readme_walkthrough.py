"""The README's walkthrough ("Using it") runs as it is written, top to
bottom, against a real deployment set up as the quickstart sets it up: one
compute host named after this machine, ``allow_resize_to_same_host`` on,
the tiny image uploaded as ``tiny`` and ``vm1`` at its login prompt."""

import os
import re
import subprocess

import pytest

from tests.integration import deployment as dep
from tests.integration.conftest import run_deployment

README = dep.REPO / "README.md"


def walkthrough():
    """The shell block that follows the ``<!-- walkthrough -->`` marker."""
    text = README.read_text()
    match = re.search(r"<!-- walkthrough -->\s*```sh\n(.*?)```", text, re.S)
    assert match, "README.md has no <!-- walkthrough --> shell block"
    return match.group(1)


@pytest.fixture(scope="module")
def quickstart_cloud(work_root, rabbit_url):
    path = work_root / "readme_walkthrough"
    path.mkdir(mode=0o755)
    yield from run_deployment(
        path, rabbit_url, f"sqlite:///{path}/mininova.sqlite",
        config={"DEFAULT": {"allow_resize_to_same_host": "True"}})


def mininova_manage_wrapper(cloud, bin_dir):
    """``mininova-manage`` reading the deployment's configuration, as the
    quickstart's reads /etc/mininova/mininova.conf; and ``hostname`` naming
    the deployment's compute host, as the quickstart's compute is named
    after the machine. The compute is not named after the machine itself:
    a quickstart cloud running beside the tests has that name, and a compute
    that starts finds the guests that name its host and destroys those it
    does not know (Nova's reaping of guests deleted while it was down), so
    the quickstart's vm1 would go."""
    bin_dir.mkdir()
    wrapper = bin_dir / "mininova-manage"
    wrapper.write_text(f'#!/bin/sh\nexec {dep.BIN}/mininova-manage '
                       f'--config-file {cloud.controller_conf} "$@"\n')
    wrapper.chmod(0o755)
    hostname = bin_dir / "hostname"
    hostname.write_text(f"#!/bin/sh\necho {cloud.host}\n")
    hostname.chmod(0o755)


def test_the_readme_walkthrough_runs_top_to_bottom(quickstart_cloud, tmp_path):
    cloud = quickstart_cloud
    admin = cloud.client()
    image = dep.upload_tiny_image(admin, "tiny")
    vm1 = admin.create_server("vm1", image["id"], "42")
    dep.wait_for_status(admin, vm1["id"], "ACTIVE")
    # An ACPI shutdown needs a guest that has booted far enough to hear it.
    dep.wait_for_console(admin, vm1["id"])
    mininova_manage_wrapper(cloud, tmp_path / "bin")
    env = dict(os.environ,
               PATH=f"{tmp_path / 'bin'}:{dep.BIN}:{os.environ['PATH']}",
               MININOVA_COMPUTE_URL=f"http://127.0.0.1:{cloud.api_port}/v2.1",
               MININOVA_IMAGE_URL=f"http://127.0.0.1:{cloud.image_port}",
               MININOVA_TOKEN="admin:admin")
    result = subprocess.run(["bash", "-euxo", "pipefail", "-c", walkthrough()], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (
        f"the walkthrough stopped (exit {result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    # It tidied up after itself: only vm1 is left, and it still runs.
    dep.wait_until(lambda: [s["name"] for s in admin.list_servers()],
                   lambda names: names == ["vm1"], what="only vm1 left")
    assert admin.get_server(vm1["id"])["status"] == "ACTIVE"
    admin.delete_server(vm1["id"])
    dep.wait_for_gone(admin, vm1["id"])
    assert cloud.domain_names() == []
