"""mininova-api and mininova-image behind the real Keystone: tokens checked
by keystonemiddleware, the context made from them (user, project, roles),
Nova's policy applied, and the image service reached with the user's token
during a boot. Also the mininova command authenticating from OS_* variables
and reading the endpoints from the catalog."""

import os
import subprocess

import requests

from tests.integration import deployment as dep


def token(keystone, user):
    return keystone.token(user)


def get(cloud, path, token=None):
    headers = {"X-Auth-Token": token} if token else {}
    return requests.get(f"http://127.0.0.1:{cloud.api_port}{path}", headers=headers, timeout=30)


def test_no_token_or_a_forged_one_is_401(keystone_cloud):
    assert get(keystone_cloud, "/v2.1/servers").status_code == 401
    assert get(keystone_cloud, "/v2.1/servers", token="admin:admin").status_code == 401
    # The version documents answer anyone.
    assert get(keystone_cloud, "/v2.1").status_code == 200


def test_policy_follows_keystones_roles(keystone_cloud, keystone):
    admin, demo = token(keystone, "admin"), token(keystone, "demo")
    assert get(keystone_cloud, "/v2.1/os-services", admin).status_code == 200
    response = get(keystone_cloud, "/v2.1/os-services", demo)
    assert response.status_code == 403
    assert response.json()["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:os-services:list to be performed.")
    assert get(keystone_cloud, "/v2.1/servers", demo).status_code == 200


def test_the_mininova_command_boots_with_a_keystone_token(keystone_cloud, keystone):
    """From OS_* variables, as after `source openrc demo`; the endpoints come
    from the catalog. The compute downloads the image with the demo user's
    token (keystonemiddleware checks it at the image service)."""
    cloud = keystone_cloud
    creds = keystone.credentials("demo")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("OS_", "MININOVA_"))}
    env.update(OS_AUTH_URL=keystone.auth_url, OS_USERNAME="demo",
               OS_PASSWORD=creds["password"], OS_PROJECT_NAME="demo",
               OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
               OS_REGION_NAME="RegionOne")

    def mininova(*args):
        return subprocess.run([str(dep.BIN / "mininova"), *args], env=env, text=True,
                              capture_output=True, timeout=300)
    upload = mininova("image-create", "--file", str(dep.TINY_IMAGE), "--disk-format",
                      "qcow2", "tiny-demo")
    assert upload.returncode == 0, upload.stderr
    boot = mininova("boot", "--image", "tiny-demo", "--flavor", "m1.nano", "--wait", "kvm1")
    assert boot.returncode == 0, boot.stdout + boot.stderr
    listed = mininova("list")
    assert " kvm1 " in listed.stdout and " ACTIVE " in listed.stdout
    image_log = cloud.log("mininova-image")
    assert "GET /v2/images/" in image_log
    deleted = mininova("delete", "kvm1")
    assert deleted.returncode == 0, deleted.stderr
    admin = requests.Session()
    admin.headers["X-Auth-Token"] = token(keystone, "admin")
    dep.wait_until(lambda: admin.get(f"http://127.0.0.1:{cloud.api_port}/v2.1/servers",
                                     params={"all_tenants": 1}).json()["servers"],
                   lambda servers: servers == [], what="kvm1 deleted")
    assert cloud.domain_names() == []
