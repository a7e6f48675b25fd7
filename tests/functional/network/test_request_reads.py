"""What the network service reads to answer the requests of every boot
(mininova/network/api/base.py, plugin.py, quota.py): a port's policy target
takes its network's own row, not the network's subnets and segment, and a
quota check reads its limit and its count in one transaction."""

import contextlib

import sqlalchemy as sa

from mininova.network import quota

SERVER = "e00902fe-14b8-49ea-97aa-cbd93c491065"


@contextlib.contextmanager
def statements(engine):
    """The SQL the engine runs inside the block, BEGIN and COMMIT included."""
    seen = []

    def on_execute(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    def on_commit(_conn):
        seen.append("COMMIT")

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        sa.event.remove(engine, "commit", on_commit)


def tables_read(seen):
    return {statement.split(" FROM ")[1].split()[0] for statement in seen
            if statement.startswith("SELECT") and " FROM " in statement}


def test_binding_a_port_reads_its_networks_row_only(network_service, admin):
    net, _subnet = admin.network_with_subnet("10.0.0.0/24")
    port = admin.create("port", network_id=net["id"], device_id=SERVER,
                        device_owner="compute:nova")
    with statements(network_service.plugin.engine) as seen:
        response = admin.put(f"ports/{port['id']}", {"port": {"binding:host_id": "h1"}})
    assert response.status_code == 200, response.text
    assert response.json()["port"]["binding:vif_type"] == "bridge"
    read = tables_read(seen)
    assert "networks" in read
    assert not read & {"subnets", "networksegments"}, seen


def test_the_network_itself_still_shows_its_subnets_and_segment(network_service, admin):
    net, subnet = admin.network_with_subnet("10.0.0.0/24")
    shown = admin.get(f"networks/{net['id']}").json()["network"]
    assert shown["subnets"] == [subnet["id"]]
    assert shown["provider:network_type"] == net["provider:network_type"]
    plugin = network_service.plugin
    assert plugin.get_network(None, net["id"], fields=["project_id", "shared"]) == {
        "project_id": net["project_id"], "shared": False}
    assert plugin.get_network(None, net["id"], fields=["subnets"]) == {
        "subnets": [subnet["id"]]}


def test_a_quota_check_reads_limit_and_count_in_one_transaction(network_service, admin):
    net, _subnet = admin.network_with_subnet("10.0.0.0/24")
    admin.create("port", network_id=net["id"])
    engine = network_service.plugin.engine
    with statements(engine) as seen:
        quota.check(engine, "port", net["project_id"])
    assert seen.count("COMMIT") == 1, seen
    assert tables_read(seen) == {"quotas", "ports"}
    # And it still counts: at the limit, one more is refused.
    response = admin.put(f"quotas/{net['project_id']}", {"quota": {"port": 2}})
    assert response.status_code == 200, response.text
    quota.check(engine, "port", net["project_id"])       # 1 used + 1 new <= 2
    admin.create("port", network_id=net["id"])
    response = admin.post("ports", {"port": {"network_id": net["id"]}})
    assert response.status_code == 409, response.text
    assert response.json()["NeutronError"]["type"] == "OverQuota"
