"""/servers/<id>/metadata: index, show, merge, replace, set one, delete
one, with Nova's validation, 403 quota, 409 states and policy."""

import threading

import pytest

from mininova import context as mn_context
from mininova.db import api as db
from tests.functional import helpers
from tests.functional.helpers import api, as_role, fault

# Servers booted here finish building before the cloud stops.
pytestmark = pytest.mark.usefixtures("builds_settle")


@pytest.fixture
def server(demo, image):
    created = demo.create_server("vm", image["id"], "42", metadata={"role": "web"})
    return helpers.wait_for_status(demo, created["id"], "ACTIVE")


def path(server, key=None):
    base = f"/servers/{server['id']}/metadata"
    return f"{base}/{key}" if key else base


def test_index_and_show(demo, server):
    assert api(demo, "GET", path(server)).json() == {"metadata": {"role": "web"}}
    assert api(demo, "GET", path(server, "role")).json() == {"meta": {"role": "web"}}
    assert fault(api(demo, "GET", path(server, "nope"))) == (
        404, "Metadata item was not found")


def test_post_merges_and_put_replaces(demo, server):
    merged = api(demo, "POST", path(server), json={"metadata": {"tier": "1"}})
    assert merged.status_code == 200
    assert merged.json() == {"metadata": {"role": "web", "tier": "1"}}
    replaced = api(demo, "PUT", path(server), json={"metadata": {"owner": "me"}})
    assert replaced.json() == {"metadata": {"owner": "me"}}
    assert demo.get_server(server["id"])["metadata"] == {"owner": "me"}
    assert api(demo, "PUT", path(server), json={"metadata": {}}).json() == {"metadata": {}}


def test_put_one_key_and_delete_it(demo, server):
    answer = api(demo, "PUT", path(server, "tier"), json={"meta": {"tier": "2"}})
    assert answer.status_code == 200 and answer.json() == {"meta": {"tier": "2"}}
    assert demo.get_server(server["id"])["metadata"] == {"role": "web", "tier": "2"}
    assert api(demo, "DELETE", path(server, "tier")).status_code == 204
    assert demo.get_server(server["id"])["metadata"] == {"role": "web"}
    assert fault(api(demo, "DELETE", path(server, "tier"))) == (
        404, "Metadata item was not found")


@pytest.mark.parametrize("method, key, body, message", [
    ("PUT", "tier", {"meta": {"other": "2"}}, "Request body and URI mismatch"),
    ("PUT", "tier", {"meta": {"tier": "2", "b": "3"}},
     "Invalid input for field/attribute meta."),
    ("PUT", "tier", {"meta": {}}, "Invalid input for field/attribute meta."),
    ("POST", None, {"metadata": {"a/b": "1"}}, "Invalid input for field/attribute metadata."),
    ("POST", None, {"metadata": {"k": "v" * 256}}, "Invalid input for field/attribute k."),
    ("POST", None, {"metadata": {"k": 1}}, "Invalid input for field/attribute k."),
    ("POST", None, {"meta": {"k": "v"}}, "'metadata' is a required property"),
])
def test_bad_bodies_are_400s(demo, server, method, key, body, message):
    status, text = fault(api(demo, method, path(server, key), json=body))
    assert status == 400
    assert message in text, text


def test_the_metadata_items_quota_is_a_403_and_changes_nothing(demo, server):
    too_many = {f"k{i}": "v" for i in range(128)}
    assert fault(api(demo, "POST", path(server), json={"metadata": too_many})) == (
        403, "Maximum number of metadata items exceeds 128")
    assert fault(api(demo, "PUT", path(server), json={"metadata": dict(
        too_many, extra="v")})) == (403, "Maximum number of metadata items exceeds 128")
    assert demo.get_server(server["id"])["metadata"] == {"role": "web"}
    # Replacing with exactly 128 is fine.
    assert api(demo, "PUT", path(server), json={"metadata": too_many}).status_code == 200


def set_states(server, **states):
    db.instance_update(mn_context.get_admin_context(), server["id"], states)


def test_a_building_server_is_409(demo, server):
    set_states(server, vm_state="building", task_state="spawning")
    assert fault(api(demo, "POST", path(server), json={"metadata": {"a": "1"}})) == (
        409, f"Cannot 'update metadata' instance {server['id']} while it is in "
             "vm_state building")
    set_states(server, vm_state="active", task_state=None)


def test_a_server_in_a_task_is_409(demo, server):
    set_states(server, task_state="powering-off")
    assert fault(api(demo, "DELETE", path(server, "role"))) == (
        409, f"Cannot 'delete metadata' instance {server['id']} while it is in "
             "task_state powering-off")
    # Reading is always fine.
    assert api(demo, "GET", path(server)).status_code == 200
    set_states(server, task_state=None)


def test_concurrent_merges_keep_every_key(demo, server):
    barrier = threading.Barrier(8)

    def add(index):
        barrier.wait()
        api(demo, "POST", path(server), json={"metadata": {f"k{index}": "v"}})

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert set(demo.get_server(server["id"])["metadata"]) == {"role"} | {
        f"k{i}" for i in range(8)}


@pytest.mark.parametrize("role, project, read, write", [
    ("admin", "demo", 200, 200),
    ("member", "demo", 200, 200),
    ("reader", "demo", 200, 403),
    ("member", "other", 404, 404),
])
def test_policy(admin, server, role, project, read, write):
    user = as_role(admin, role, project)
    assert api(user, "GET", path(server)).status_code == read
    assert api(user, "GET", path(server, "role")).status_code == read
    assert api(user, "POST", path(server), json={"metadata": {"a": "1"}}).status_code == write
    assert api(user, "PUT", path(server, "a"), json={"meta": {"a": "2"}}).status_code == write
    if write == 403:
        assert fault(api(user, "DELETE", path(server, "role"))) == (
            403, "Policy doesn't allow os_compute_api:server-metadata:delete to be performed.")
