"""The ``mininova`` command's scheduling side: aggregates, zones, server
groups, service enable/disable, flavor extra specs, boot hints and
server-explain, printed as novaclient prints them."""

import pytest

from mininova import context
from mininova.cli import servers, shell
from mininova.db import scheduling as scheduling_db
from mininova.db import services as services_db
from tests.functional import helpers
from tests.functional.helpers import table_rows


def test_aggregate_lifecycle(mininova):
    code, out, _err = mininova("aggregate-create", "rack1", "az1")
    assert code == 0
    header, row = table_rows(out)
    assert header == ["Id", "UUID", "Name", "Availability Zone", "Hosts", "Metadata"]
    assert [row[0], row[2], row[3], row[4], row[5]] == [
        "1", "rack1", "az1", "", "'availability_zone=az1'"]

    code, out, _err = mininova("aggregate-add-host", "rack1", "host1")
    assert code == 0
    assert out.splitlines()[0] == "Host host1 has been successfully added for aggregate 1 "
    assert table_rows(out)[1][4] == "'host1'"

    code, out, _err = mininova("aggregate-set-metadata", "rack1", "ssd=true", "gpu=a100")
    assert out.splitlines()[0] == "Metadata has been successfully updated for aggregate 1."
    assert table_rows(out)[1][5] == "'availability_zone=az1', 'gpu=a100', 'ssd=true'"
    # A bare key unsets it.
    code, out, _err = mininova("aggregate-set-metadata", "1", "gpu")
    assert table_rows(out)[1][5] == "'availability_zone=az1', 'ssd=true'"

    code, out, _err = mininova("aggregate-update", "rack1", "--name", "rack-one")
    assert out.splitlines()[0] == "Aggregate rack1 has been successfully updated."
    assert table_rows(out)[1][2] == "rack-one"

    code, out, _err = mininova("aggregate-list")
    assert [row[2:] for row in table_rows(out)] == [["Name", "Availability Zone"],
                                                    ["rack-one", "az1"]]
    code, out, _err = mininova("aggregate-show", "rack-one")
    assert table_rows(out)[1][4] == "'host1'"

    code, _out, err = mininova("aggregate-delete", "rack-one")
    assert code == 1
    assert err.startswith("ERROR (BadRequest): ")
    assert "Host aggregate is not empty" in err

    code, out, _err = mininova("aggregate-remove-host", "rack-one", "host1")
    assert out.splitlines()[0] == "Host host1 has been successfully removed from aggregate 1 "
    code, out, _err = mininova("aggregate-delete", "rack-one")
    assert (code, out.strip()) == (0, "Aggregate rack-one has been successfully deleted.")
    code, out, _err = mininova("aggregate-list")
    assert table_rows(out)[1:] == []


def test_aggregate_errors_name_what_is_wrong(mininova):
    code, _out, err = mininova("aggregate-show", "nope")
    assert code == 1
    assert "No aggregate with a name or ID of 'nope' exists." in err
    mininova("aggregate-create", "rack1", "az1")
    mininova("aggregate-create", "rack2", "az2")
    mininova("aggregate-add-host", "rack1", "host1")
    code, _out, err = mininova("aggregate-add-host", "rack2", "host1")
    assert code == 1
    assert err.startswith("ERROR (Conflict): Cannot add host to aggregate 2. Reason: One or "
                          "more hosts already in availability zone(s) ['az1']. (HTTP 409)")
    code, _out, err = mininova("aggregate-add-host", "rack2", "ghost")
    assert err.startswith("ERROR (NotFound): Compute host ghost could not be found.")


@pytest.mark.hosts("host1", "host2")
def test_availability_zone_list_is_a_tree_for_admins(mininova, monkeypatch):
    mininova("aggregate-create", "rack2", "az2")
    mininova("aggregate-add-host", "rack2", "host2")
    code, out, _err = mininova("availability-zone-list")
    assert code == 0
    rows = table_rows(out)
    assert rows[0] == ["Name", "Status"]
    names = [row[0] for row in rows[1:]]
    assert names[:3] == ["az2", "|- host2", "| |- mininova-compute"]
    assert "internal" in names
    assert names[-3:] == ["nova", "|- host1", "| |- mininova-compute"]
    assert rows[1][1] == "available"
    assert rows[2][1] == ""
    assert rows[3][1].startswith("enabled :-) ")
    assert rows[3][1].endswith("Z")

    # A user may not see the detail: the zones alone.
    monkeypatch.setenv("MININOVA_TOKEN", "demo:demo")
    code, out, _err = mininova("availability-zone-list")
    assert code == 0
    assert table_rows(out) == [["Name", "Status"], ["az2", "available"], ["nova", "available"]]


def test_a_stopped_compute_shows_xxx(mininova, cloud):
    ctxt = context.get_admin_context()
    service = services_db.service_get_by_host_and_binary(ctxt, "host1", "mininova-compute")
    services_db.service_update(ctxt, service["id"], {"forced_down": True})
    _code, out, _err = mininova("availability-zone-list")
    [status] = [row[1] for row in table_rows(out) if row[0] == "| |- mininova-compute"]
    assert status.startswith("enabled XXX ")


def test_server_groups(mininova, monkeypatch):
    code, out, _err = mininova("server-group-create", "web", "anti-affinity")
    assert code == 0
    header, row = table_rows(out)
    assert header == ["Id", "Name", "Project Id", "User Id", "Policies", "Members", "Metadata"]
    group_id = row[0]
    assert row[1:] == ["web", "admin", "admin", "['anti-affinity']", "[]", "{}"]

    code, out, _err = mininova("server-group-list")
    assert [r[0] for r in table_rows(out)[1:]] == [group_id]
    code, out, _err = mininova("server-group-show", "web")
    assert table_rows(out)[1][0] == group_id

    code, _out, err = mininova("server-group-create", "db", "best-effort")
    assert code == 1
    assert err.startswith("ERROR (BadRequest): Invalid input for field/attribute 0. "
                          "Value: best-effort. 'best-effort' is not one of")

    monkeypatch.setenv("MININOVA_TOKEN", "demo:demo")
    code, _out, err = mininova("server-group-show", group_id)
    assert code == 1
    assert f"No server group with a name or ID of '{group_id}' exists." in err
    monkeypatch.setenv("MININOVA_TOKEN", "admin:admin")

    code, out, _err = mininova("server-group-delete", "web")
    assert (code, out.strip()) == (0, "Server group web has been successfully deleted.")
    code, out, _err = mininova("server-group-list")
    assert table_rows(out)[1:] == []


def test_service_disable_and_enable(mininova):
    code, out, _err = mininova("service-disable", "--reason", "new RAM", "host1",
                               "mininova-compute")
    assert code == 0
    assert table_rows(out) == [["Host", "Binary", "Status", "Disabled Reason"],
                               ["host1", "mininova-compute", "disabled", "new RAM"]]
    _code, out, _err = mininova("service-list")
    [compute] = [r for r in table_rows(out) if r[1] == "mininova-compute"]
    assert (compute[4], compute[7]) == ("disabled", "new RAM")

    code, out, _err = mininova("service-enable", "host1", "mininova-compute")
    assert table_rows(out) == [["Host", "Binary", "Status"],
                               ["host1", "mininova-compute", "enabled"]]
    code, out, _err = mininova("service-disable", "host1", "mininova-compute")
    assert table_rows(out) == [["Host", "Binary", "Status"],
                               ["host1", "mininova-compute", "disabled"]]
    code, _out, err = mininova("service-enable", "host9", "mininova-compute")
    assert code == 1
    assert "Could not find binary mininova-compute on host host9." in err


def test_flavor_key_and_flavor_show(mininova):
    code, out, _err = mininova("flavor-key", "m1.nano", "set", "capabilities:cpu_arch=x86_64",
                               "hw:numa_nodes=1")
    assert (code, out) == (0, "")
    _code, out, _err = mininova("flavor-show", "m1.nano")
    rows = dict(table_rows(out)[1:])
    assert rows["name"] == "m1.nano"
    assert rows["ram"] == "64"
    assert rows["extra_specs"] == '{"capabilities:cpu_arch": "x86_64", "hw:numa_nodes": "1"}'
    assert "links" not in rows

    mininova("flavor-key", "42", "unset", "hw:numa_nodes")
    _code, out, _err = mininova("flavor-show", "42")
    assert dict(table_rows(out)[1:])["extra_specs"] == '{"capabilities:cpu_arch": "x86_64"}'

    code, _out, err = mininova("flavor-key", "m1.nano", "unset", "nope")
    assert code == 1
    assert "Flavor 42 has no extra specs with key nope." in err
    with pytest.raises(SystemExit) as exit_:
        mininova("flavor-key", "m1.nano", "set", "novalue")
    assert "flavor-key set takes key=value" in str(exit_.value)


@pytest.mark.hosts("host1", "host2")
def test_boot_with_a_group_hint_keeps_anti_affinity(mininova, image):
    _code, out, _err = mininova("server-group-create", "web", "anti-affinity")
    group_id = table_rows(out)[1][0]
    hosts = []
    for name in ("web-1", "web-2"):
        code, out, _err = mininova("boot", "--image", "tiny", "--flavor", "m1.nano",
                                   "--hint", f"group={group_id}", "--wait", name)
        assert code == 0
        hosts.append(dict(table_rows(out)[1:])["OS-EXT-SRV-ATTR:host"])
    assert sorted(hosts) == ["host1", "host2"]
    _code, out, _err = mininova("server-group-show", group_id)
    assert table_rows(out)[1][5].count("'") == 4  # two members

    # A third one has nowhere to go.
    code, _out, err = mininova("boot", "--image", "tiny", "--flavor", "m1.nano",
                               "--hint", f"group={group_id}", "--wait", "web-3")
    assert code == 1
    assert "No valid host was found." in err


def test_boot_hints_repeat_into_lists(admin, image, monkeypatch):
    sent = {}

    def fake_create(self, name, image_id, flavor_id, scheduler_hints=None, **extra):
        sent.update(scheduler_hints)
        return {"id": "x"}

    monkeypatch.setattr("mininova.cli.client.Client.create_server", fake_create)
    monkeypatch.setattr("mininova.cli.client.Client.get_server",
                        lambda self, server_id: {"id": server_id, "flavor": {"id": "42"},
                                                 "image": {"id": image["id"]}})
    client = admin
    args = shell.build_parser().parse_args([
        "boot", "--image", image["id"], "--flavor", "42", "--hint", "same_host=a",
        "--hint", "same_host=b", "--hint", "cell=c", "vm"])
    assert servers.do_boot(client, args) == 0
    assert sent == {"same_host": ["a", "b"], "cell": "c"}


def _record(instance_uuid):
    """Attempt 1 failed on h2 after the claim; attempt 2 chose h3."""
    ctxt = context.get_admin_context()
    hosts = [["h1", "h1"], ["h2", "h2"], ["h3", "h3"]]
    for attempt, filters, weights, selected in (
        (1, [{"name": "RamFilter", "start": 3, "end": 2, "verdicts": [
              {"host": "h1", "node": "h1", "passed": False,
               "reason": "free RAM 320 MB < requested 512 MB"}]},
             {"name": "ComputeFilter", "start": 2, "end": 2, "verdicts": []}],
         [{"host": "h2", "node": "h2", "weight": 1.0, "parts": {"RAMWeigher": [4096, 1.0]}},
          {"host": "h3", "node": "h3", "weight": 0.0, "parts": {"RAMWeigher": [2048, 0.0]}}],
         "h2"),
        (2, [{"name": "RetryFilter", "start": 3, "end": 2, "verdicts": [
              {"host": "h2", "node": "h2", "passed": False, "reason": "tried before"}]},
             {"name": "RamFilter", "start": 2, "end": 1, "verdicts": [
              {"host": "h1", "node": "h1", "passed": False,
               "reason": "free RAM 320 MB < requested 512 MB"}]}],
         [{"host": "h3", "node": "h3", "weight": 0.0, "parts": {"RAMWeigher": [2048, 0.0]}}],
         "h3"),
        (3, [{"name": "RamFilter", "start": 3, "end": 0, "verdicts": [
              {"host": h, "node": h, "passed": False, "reason": "no RAM"}
              for h in ("h1", "h2", "h3")]}], [], None),
    ):
        scheduling_db.scheduling_decision_create(ctxt, {
            "instance_uuid": instance_uuid, "request_id": f"req-{attempt}", "attempt": attempt,
            "hosts": hosts, "filters": filters, "weights": weights,
            "selected_host": selected, "selected_node": selected})


def test_server_explain_prints_filters_by_hosts_weights_and_choice(mininova, admin, image):
    server = admin.create_server("vm", image["id"], "42")
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
    # Replace the real record's view with known attempts: only ours have req-<n> ids.
    _record(server["id"])
    code, out, _err = mininova("server-explain", "vm")
    assert code == 0
    sections = out.split("\n\n")
    assert len(sections) == 4   # the real boot, then our three attempts
    first, second, third = sections[1:]

    lines = first.splitlines()
    assert lines[0].startswith("Attempt 1 (request req-1, ")
    assert lines[0].endswith("Z)")
    rows = table_rows(first)
    assert rows[0] == ["Filter", "h1", "h2", "h3"]
    assert rows[1] == ["RamFilter (3 → 2)", "FAIL: free RAM 320 MB < requested 512 MB",
                       "pass", "pass"]
    # h1 is gone: the next filter never looked at it.
    assert rows[2] == ["ComputeFilter (2 → 2)", "", "pass", "pass"]
    assert rows[3] == ["Host", "Weight", "RAMWeigher"]
    assert rows[4] == ["h2", "1.0", "4096 → 1.0"]
    assert rows[5] == ["h3", "0.0", "2048 → 0.0"]
    assert lines[-1] == "Selected: h2 (h2)"

    rows = table_rows(second)
    assert rows[1] == ["RetryFilter (3 → 2)", "pass", "FAIL: tried before", "pass"]
    assert rows[2] == ["RamFilter (2 → 1)", "FAIL: free RAM 320 MB < requested 512 MB", "",
                       "pass"]
    assert second.splitlines()[-1] == "Selected: h3 (h3)"

    rows = table_rows(third)
    assert rows[1] == ["RamFilter (3 → 0)"] + ["FAIL: no RAM"] * 3
    assert "Host" not in [row[0] for row in rows]
    assert third.splitlines()[-1] == "No valid host was found."


def test_server_explain_of_a_real_no_valid_host(mininova, image):
    code, _out, _err = mininova("boot", "--image", "tiny", "--flavor", "m1.xlarge",
                                "--wait", "big")
    assert code == 1
    code, out, _err = mininova("server-explain", "big")
    assert code == 0
    assert out.startswith("Attempt 1 (request req-")
    failed = [row for row in table_rows(out) if row[1].startswith("FAIL: ")]
    assert failed and failed[0][0].startswith("RamFilter")
    assert out.splitlines()[-1] == "No valid host was found."


def test_server_explain_of_another_projects_server(mininova, admin, image, monkeypatch):
    server = admin.create_server("vm", image["id"], "42")
    monkeypatch.setenv("MININOVA_TOKEN", "demo:demo")
    code, _out, err = mininova("server-explain", server["id"])
    assert code == 1
    assert f"No server with a name or ID of '{server['id']}' exists." in err
