"""The same cloud on PostgreSQL and on MariaDB: schema from the Alembic
migrations, a real boot through libvirt, and its deletion."""

import pytest

from mininova.db import migration
from tests.integration import conftest
from tests.integration import deployment as dep


@pytest.fixture(params=["postgresql", "mysql"])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def cloud_on(workdir, rabbit_url, database_url):
    yield from conftest.run_deployment(workdir, rabbit_url, database_url)


def test_boot_and_delete(cloud_on, database_url):
    cloud = cloud_on
    assert cloud.manage("db", "version").stdout.strip() == migration.head_revision()
    admin = cloud.client()
    # By flavor id, as Nova sorts them: "1" (m1.tiny), "2" (m1.small)...
    assert [f["name"] for f in admin.list_flavors()][:2] == ["m1.tiny", "m1.small"]
    image = dep.upload_tiny_image(admin)
    server = admin.create_server("vm", image["id"], "42")
    server = dep.wait_for_status(admin, server["id"], "ACTIVE")
    assert cloud.domain_names() == [server["OS-EXT-SRV-ATTR:instance_name"]]
    dep.wait_for_usage(admin, memory_mb_used=512 + 64, running_vms=1)
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    assert cloud.domain_names() == []
