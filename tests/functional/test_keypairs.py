"""os-keypairs: generated or imported, ssh or x509, per user, with Nova's
fingerprints, answers and errors; key_name at boot."""

import base64
import hashlib
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from mininova import context, crypto
from mininova.db import api as db
from tests.functional.helpers import api, as_role, fault

# Servers booted here finish building before the cloud stops.
pytestmark = pytest.mark.usefixtures("builds_settle")


def create(client, version=None, **values):
    return api(client, "POST", "/os-keypairs", version, json={"keypair": values})


def md5_fingerprint(public_key):
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def test_a_generated_key_pair_is_returned_once_with_its_private_key(demo):
    response = create(demo, name="mykey")
    assert response.status_code == 200
    key_pair = response.json()["keypair"]
    assert set(key_pair) == {"name", "public_key", "fingerprint", "user_id", "private_key"}
    assert key_pair["user_id"] == "demo"
    assert key_pair["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert key_pair["public_key"].startswith("ssh-rsa ")
    assert key_pair["fingerprint"] == md5_fingerprint(key_pair["public_key"])
    # The private half really belongs to the public half.
    private = serialization.load_pem_private_key(key_pair["private_key"].encode(), None)
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH)
    assert key_pair["public_key"].startswith(public.decode())

    shown = api(demo, "GET", "/os-keypairs/mykey").json()["keypair"]
    assert "private_key" not in shown
    assert {k: shown[k] for k in ("name", "public_key", "fingerprint", "user_id")} == {
        k: key_pair[k] for k in ("name", "public_key", "fingerprint", "user_id")}
    assert shown["deleted"] is False and shown["deleted_at"] is None
    assert shown["updated_at"] is None and isinstance(shown["id"], int)
    assert shown["created_at"][:4].isdigit()


def test_an_imported_key_keeps_its_public_key_and_ssh_keygens_fingerprint(demo, tmp_path):
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@here", "-f",
                    str(key)], check=True)
    public_key = (tmp_path / "id.pub").read_text().strip()
    listed = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(key) + ".pub"],
                            check=True, capture_output=True, text=True).stdout
    imported = create(demo, name="laptop", public_key=public_key).json()["keypair"]
    assert "private_key" not in imported
    assert imported["public_key"] == public_key
    assert f"MD5:{imported['fingerprint']} " in listed


def test_list_show_delete(demo):
    for name in ("b-key", "a-key"):
        create(demo, name=name)
    listed = api(demo, "GET", "/os-keypairs").json()
    assert [k["keypair"]["name"] for k in listed["keypairs"]] == ["a-key", "b-key"]
    assert set(listed["keypairs"][0]["keypair"]) == {"name", "public_key", "fingerprint"}
    assert api(demo, "DELETE", "/os-keypairs/a-key").status_code == 202
    assert fault(api(demo, "GET", "/os-keypairs/a-key")) == (
        404, "Keypair a-key not found for user demo")
    assert fault(api(demo, "DELETE", "/os-keypairs/a-key")) == (
        404, "Keypair a-key not found for user demo")


def test_key_pairs_are_per_user(demo):
    create(demo, name="mine")
    alice = as_role(demo, "member")  # another user of the same project
    assert api(alice, "GET", "/os-keypairs").json() == {"keypairs": []}
    assert api(alice, "GET", "/os-keypairs/mine").status_code == 404
    # The same name is free for another user.
    assert create(alice, name="mine").status_code == 200


@pytest.mark.parametrize("values, status, message", [
    ({"name": "a/b"}, 400, "Invalid input for field/attribute name."),
    ({"name": ""}, 400, "Invalid input for field/attribute name."),
    ({"name": " lead"}, 400, "Invalid input for field/attribute name."),
    ({"name": "k" * 256}, 400, "Invalid input for field/attribute name."),
    ({"name": "k", "public_key": "ssh-rsa not-a-key"}, 400,
     "Keypair data is invalid: failed to generate fingerprint"),
    ({"name": "k", "public_key": ""}, 400,
     "Keypair data is invalid: failed to generate fingerprint"),
    ({"name": "k", "type": "ssh"}, 400, "Invalid input for field/attribute keypair."),
    ({}, 400, "Invalid input for field/attribute keypair."),
])
def test_bad_requests(demo, values, status, message):
    answer_status, text = fault(create(demo, **values))
    assert answer_status == status
    assert text.startswith(message), text


def test_a_duplicate_name_is_a_409(demo):
    create(demo, name="twice")
    assert fault(create(demo, name="twice")) == (409, "Key pair 'twice' already exists.")


# --- microversions ---------------------------------------------------------------------------

def test_type_201_and_204_from_2_2(demo):
    response = create(demo, "2.2", name="typed")
    assert response.status_code == 201
    assert response.json()["keypair"]["type"] == "ssh"
    assert "type" not in api(demo, "GET", "/os-keypairs/typed").json()["keypair"]
    assert api(demo, "GET", "/os-keypairs/typed", "2.2").json()["keypair"]["type"] == "ssh"
    [listed] = api(demo, "GET", "/os-keypairs", "2.2").json()["keypairs"]
    assert listed["keypair"]["type"] == "ssh"
    assert api(demo, "DELETE", "/os-keypairs/typed", "2.2").status_code == 204


def test_an_x509_key_pair_is_a_certificate_with_its_sha1_fingerprint(demo):
    generated = create(demo, "2.2", name="win", type="x509").json()["keypair"]
    certificate = x509.load_pem_x509_certificate(generated["public_key"].encode())
    assert certificate.subject.rfc4514_string() == "CN=demo"
    sha1 = certificate.fingerprint(hashes.SHA1()).hex()
    assert generated["fingerprint"] == ":".join(sha1[i:i + 2] for i in range(0, 40, 2))
    assert base64.b64decode(generated["private_key"])  # PKCS#12, base64

    _key, pem, fingerprint = crypto.generate_winrm_x509_cert("someone")
    imported = create(demo, "2.2", name="cert", type="x509", public_key=pem).json()
    assert imported["keypair"]["fingerprint"] == fingerprint
    status, text = fault(create(demo, "2.2", name="bad", type="x509", public_key="nope"))
    assert status == 400
    assert text.startswith("Keypair data is invalid: failed to generate X509 fingerprint.")


def test_admins_act_on_other_users_key_pairs_from_2_10(admin, demo):
    made = create(admin, "2.10", name="for-demo", user_id="demo").json()["keypair"]
    assert made["user_id"] == "demo"
    assert api(demo, "GET", "/os-keypairs/for-demo").status_code == 200
    listed = api(admin, "GET", "/os-keypairs?user_id=demo", "2.10").json()["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == ["for-demo"]
    # Before 2.10 the user_id is not the admin's to give.
    assert api(admin, "GET", "/os-keypairs?user_id=demo", "2.9").json() == {"keypairs": []}
    assert api(admin, "GET", "/os-keypairs/for-demo?user_id=demo", "2.10").status_code == 200
    assert api(admin, "DELETE", "/os-keypairs/for-demo?user_id=demo", "2.10"
               ).status_code == 204
    # A user naming another user is refused by the policy.
    assert fault(api(demo, "GET", "/os-keypairs?user_id=admin", "2.10")) == (
        403, "Policy doesn't allow os_compute_api:os-keypairs:index to be performed.")
    assert fault(create(demo, "2.10", name="x", user_id="admin")) == (
        403, "Policy doesn't allow os_compute_api:os-keypairs:create to be performed.")


def test_pages_from_2_35(demo):
    for name in ("k1", "k2", "k3"):
        create(demo, name=name)
    # Before 2.35 limit means nothing.
    assert len(api(demo, "GET", "/os-keypairs?limit=1", "2.34").json()["keypairs"]) == 3
    page = api(demo, "GET", "/os-keypairs?limit=2", "2.35").json()
    assert [k["keypair"]["name"] for k in page["keypairs"]] == ["k1", "k2"]
    [link] = page["keypairs_links"]
    assert link["href"].endswith("/v2.1/os-keypairs?limit=2&marker=k2")
    rest = api(demo, "GET", "/os-keypairs?limit=2&marker=k2", "2.35").json()
    assert [k["keypair"]["name"] for k in rest["keypairs"]] == ["k3"]
    assert "keypairs_links" not in rest
    assert fault(api(demo, "GET", "/os-keypairs?marker=nope", "2.35")) == (
        400, "Marker nope could not be found.")
    assert fault(api(demo, "GET", "/os-keypairs?colour=red", "2.75"))[0] == 400


# --- policy ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "member", "reader"])
def test_every_role_manages_its_own_key_pairs(admin, role):
    user = as_role(admin, role)
    assert create(user, name="own").status_code == 200
    assert api(user, "GET", "/os-keypairs/own").status_code == 200
    assert api(user, "DELETE", "/os-keypairs/own").status_code == 202


# --- key_name at boot -------------------------------------------------------------------------

def test_key_name_at_boot_is_checked_and_kept_with_its_public_key(demo, image):
    key_pair = create(demo, name="boot-key").json()["keypair"]
    body = {"server": {"name": "vm", "imageRef": image["id"], "flavorRef": "42",
                       "key_name": "nope"}}
    assert fault(api(demo, "POST", "/servers", json=body)) == (
        400, "Invalid key_name provided.")
    body["server"]["key_name"] = "boot-key"
    server = api(demo, "POST", "/servers", json=body).json()["server"]
    assert demo.get_server(server["id"])["key_name"] == "boot-key"
    # The instance keeps the public key, even once the key pair is gone.
    api(demo, "DELETE", "/os-keypairs/boot-key")
    instance = db.instance_get_by_uuid(context.get_admin_context(), server["id"])
    assert instance["key_data"] == key_pair["public_key"]


def test_another_users_key_pair_cannot_be_booted_with(demo, image):
    create(demo, name="demos")
    alice = as_role(demo, "member")
    body = {"server": {"name": "vm", "imageRef": image["id"], "flavorRef": "42",
                       "key_name": "demos"}}
    assert fault(api(alice, "POST", "/servers", json=body)) == (
        400, "Invalid key_name provided.")
