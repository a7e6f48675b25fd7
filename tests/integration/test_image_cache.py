"""The ``_base`` image cache on a real host: two first boots of one image
download it once; a download cut half-way fails the build cleanly and a
retry works; the image cache manager removes a base file once its last
instance is gone, and never while one uses it.

One deployment serves the whole module. Its compute reaches the image
service through a small HTTP proxy started here (``[glance] api_servers``),
which can slow downloads down (so two boots surely overlap) or cut the next
one half-way; and its image cache manager runs every 2 s, removing base
files unused for 3 s. No test waits for a guest's login prompt: ACTIVE
(libvirt started the guest) is all the cache needs.
"""

import hashlib
import re
import threading
import time
from concurrent import futures

import pytest

from tests.integration import deployment as dep
from tests.integration.conftest import run_deployment

MANAGER_INTERVAL = 2
MINIMUM_AGE = 3


@pytest.fixture(scope="module")
def cloud(work_root, rabbit_url, proxy):
    """This module's deployment: the compute downloads through the proxy, and
    its image cache manager is fast."""
    path = work_root / "test_image_cache"
    path.mkdir(mode=0o755)
    compute_config = {
        "glance": {"api_servers": proxy.url},
        "image_cache": {"manager_interval": MANAGER_INTERVAL,
                        "remove_unused_original_minimum_age_seconds": MINIMUM_AGE},
    }
    for running in run_deployment(path, rabbit_url, f"sqlite:///{path}/mininova.sqlite",
                                  compute_config=compute_config):
        # Known once the deployment has chosen its ports; nothing downloads
        # before the tests boot.
        proxy.upstream_port = running.image_port
        yield running


def base_file(cloud, image):
    return cloud.instances_path / "_base" / hashlib.sha1(image["id"].encode()).hexdigest()


def instance_dirs(cloud):
    return sorted(p.name for p in cloud.instances_path.iterdir()
                  if p.name not in ("_base", "locks"))


def fetch_leftovers(cloud):
    return sorted(p.name for p in (cloud.instances_path / "_base").iterdir()
                  if p.suffix in (".part", ".converted"))


def delete_all(admin, servers):
    for server in servers:
        admin.delete_server(server["id"])
    for server in servers:
        dep.wait_for_gone(admin, server["id"])


class LogTail:
    """What a service logs from now on."""

    def __init__(self, cloud, service):
        self.cloud, self.service = cloud, service
        self.start = len(cloud.log(service))

    def text(self):
        return self.cloud.log(self.service)[self.start:]


def test_two_first_boots_of_one_image_download_it_once(cloud, admin, proxy):
    image = dep.upload_tiny_image(admin, "together")
    image_log, compute_log = LogTail(cloud, "mininova-image"), LogTail(cloud, "mininova-compute")
    # A download of about a second: the second build surely arrives while
    # the first one still downloads, and must wait for the image's lock.
    proxy.seconds_per_download = 1.0
    barrier = threading.Barrier(2)

    def boot(name):
        client = cloud.client()
        barrier.wait()
        return client.create_server(name, image["id"], "42")

    try:
        with futures.ThreadPoolExecutor(2) as pool:
            created = list(pool.map(boot, ["first", "second"]))
        servers = [dep.wait_for_status(admin, s["id"], "ACTIVE") for s in created]
    finally:
        proxy.seconds_per_download = 0.0

    downloads = re.findall(rf'"GET /v2/images/{image["id"]}/file" status: 200',
                           image_log.text())
    assert len(downloads) == 1
    log = compute_log.text()
    assert len(re.findall(r"Image download [\d.]+ MB at [\d.]+ MB/s", log)) == 1
    # Both builds reached the cache before the one download ended.
    download_ended = log.index("Image download ")
    for server in servers:
        assert log.index(f"[instance: {server['id']}] Creating image") < download_ended
    assert "is cached, not downloading" in log[download_ended:]
    delete_all(admin, servers)


def test_a_download_cut_half_way_fails_cleanly_and_a_retry_works(cloud, admin, proxy):
    image = dep.upload_tiny_image(admin, "cut")
    proxy.cut_next_download()

    server = admin.create_server("cut", image["id"], "42")
    server = dep.wait_for_status(admin, server["id"], "ERROR")

    assert proxy.cuts == 1
    # A broken connection is this host's trouble: rescheduled, and with one
    # host the retry finds none and says what failed.
    message = server["fault"]["message"]
    assert message.startswith(
        "No valid host was found. There are not enough hosts available. "
        f"RetryFilter: (start: 1, end: 0): {cloud.host}: already tried for this build; "
        f"it failed with: Failed to download image {image['id']}: "), message
    assert "connection" in message
    assert fetch_leftovers(cloud) == []
    assert not base_file(cloud, image).exists()
    assert instance_dirs(cloud) == []
    assert cloud.domain_names() == []
    delete_all(admin, [server])

    retry = admin.create_server("retry", image["id"], "42")
    dep.wait_for_status(admin, retry["id"], "ACTIVE")
    assert base_file(cloud, image).exists()
    delete_all(admin, [retry])


def test_the_cache_manager_keeps_a_base_in_use_and_removes_it_once_unused(cloud, admin):
    image = dep.upload_tiny_image(admin, "cached")
    base = base_file(cloud, image)
    server = admin.create_server("user", image["id"], "42")
    dep.wait_for_status(admin, server["id"], "ACTIVE")
    compute_log = LogTail(cloud, "mininova-compute")

    # Three passes, each older than the minimum age since the last: a
    # manager that did not see the instance would have removed the base.
    deadline = time.monotonic() + 5 * MANAGER_INTERVAL + 5
    while compute_log.text().count(f"Active base files: {base}") < 3:
        assert time.monotonic() < deadline, compute_log.text()[-3000:]
        time.sleep(0.2)
    assert base.exists()
    assert f"image {image['id']} at ({base}): checking" in compute_log.text()
    assert f"Removing base or swap file: {base}" not in compute_log.text()
    [cache] = admin.get_image_cache(host=cloud.host)
    [entry] = [b for b in cache["base_files"] if b["filename"] == base.name]
    assert entry["image_id"] == image["id"]
    assert entry["image_name"] == "cached"
    assert entry["used_by"] == [server["id"]]
    assert entry["will_be_removed"] is False

    delete_all(admin, [server])
    deleted = time.monotonic()
    while base.exists():
        assert time.monotonic() - deleted < 15, compute_log.text()[-3000:]
        time.sleep(0.2)
    log = compute_log.text()
    assert f"Removable base files: {base}" in log
    assert f"Removing base or swap file: {base}" in log
