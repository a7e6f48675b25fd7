"""The ``mininova`` commands for flavors, key pairs, quotas, limits and
server metadata, as novaclient's."""

import pytest

from tests.functional import helpers
from tests.functional.helpers import table_rows

pytestmark = pytest.mark.usefixtures("builds_settle")


def ok(result):
    code, out, err = result
    assert code == 0, err
    return out


def test_flavor_create_access_and_delete(mininova):
    rows = table_rows(ok(mininova("flavor-create", "--is-public", "false", "m1.cli", "auto",
                                  "96", "0", "1")))
    assert rows[1][1:4] == ["m1.cli", "96", "0"] and rows[1][-1] == "False"
    ok(mininova("flavor-access-add", "m1.cli", "demo"))
    rows = table_rows(ok(mininova("flavor-access-list", "--flavor", "m1.cli")))
    assert rows[1][1] == "demo"
    ok(mininova("flavor-access-remove", "m1.cli", "demo"))
    assert table_rows(ok(mininova("flavor-access-list", "--flavor", "m1.cli"))) == [
        ["Flavor_ID", "Tenant_ID"]]
    ok(mininova("flavor-delete", "m1.cli"))
    code, _out, err = mininova("flavor-show", "m1.cli")
    assert code == 1 and "No flavor with a name or ID of 'm1.cli' exists." in err


def test_keypairs(mininova, tmp_path):
    out = ok(mininova("keypair-add", "generated"))
    assert out.startswith("-----BEGIN RSA PRIVATE KEY-----")
    public = tmp_path / "key.pub"
    public.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFX2X1OvcAqW3jqE9Gd3EX8L9g6cbmLRcX"
                      "f8DZeICnyu me@host\n")
    assert ok(mininova("keypair-add", "--pub-key", str(public), "imported")) == ""
    rows = table_rows(ok(mininova("keypair-list")))
    assert [row[:2] for row in rows] == [["Name", "Type"], ["generated", "ssh"],
                                         ["imported", "ssh"]]
    assert "me@host" in ok(mininova("keypair-show", "imported"))
    ok(mininova("keypair-delete", "imported"))
    code, _out, err = mininova("keypair-delete", "imported")
    assert code == 1 and "Keypair imported not found for user admin" in err


def test_quotas_and_limits(mininova):
    rows = dict(row for row in table_rows(ok(mininova("quota-show")))[1:])
    assert rows["instances"] == "10" and rows["ram"] == "51200"
    ok(mininova("quota-update", "demo", "--instances", "3", "--key-pairs", "2"))
    rows = dict(row for row in table_rows(ok(mininova("quota-show", "--tenant", "demo")))[1:])
    assert rows["instances"] == "3" and rows["key_pairs"] == "2"
    detail = table_rows(ok(mininova("quota-show", "--tenant", "demo", "--detail")))
    assert ["instances", "0", "0", "3"] in detail
    limits = table_rows(ok(mininova("limits", "--tenant", "demo")))
    assert ["Instances", "0", "3"] in limits
    ok(mininova("quota-delete", "--tenant", "demo"))
    rows = dict(row for row in table_rows(ok(mininova("quota-defaults")))[1:])
    assert rows["instances"] == "10"


def test_boot_with_a_key_and_set_metadata(mininova, admin, image):
    ok(mininova("keypair-add", "k"))
    ok(mininova("boot", "--image", image["id"], "--flavor", "m1.nano", "--key-name", "k",
                "--wait", "vm"))
    ok(mininova("meta", "vm", "set", "role=web", "tier=1"))
    ok(mininova("meta", "vm", "delete", "tier"))
    [server] = admin.list_servers()
    assert server["key_name"] == "k" and server["metadata"] == {"role": "web"}
    helpers.wait_for_status(admin, server["id"], "ACTIVE")
