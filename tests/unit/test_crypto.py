"""Key pair fingerprints as Nova computes them (MD5 of an ssh key's body,
SHA-1 of a certificate), and the keys mininova generates."""

import base64
import hashlib

import pytest

from mininova import crypto, exception

# RFC 4253's ssh-ed25519 encoding of an all-zero key: any fixed key will do.
_BODY = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes(32)
KEY = "ssh-ed25519 " + base64.b64encode(_BODY).decode() + " me@host"


def test_an_ssh_fingerprint_is_the_md5_of_the_key_body_in_colon_hex():
    digest = hashlib.md5(_BODY).hexdigest()
    assert crypto.generate_fingerprint(KEY) == ":".join(
        digest[i:i + 2] for i in range(0, 32, 2))


@pytest.mark.parametrize("bad", ["", "ssh-rsa", "ssh-rsa AAAA", "not a key at all"])
def test_what_is_not_an_ssh_key_is_refused(bad):
    with pytest.raises(exception.InvalidKeypair) as caught:
        crypto.generate_fingerprint(bad)
    assert caught.value.format_message() == (
        "Keypair data is invalid: failed to generate fingerprint")


def test_a_generated_key_pair_matches_its_fingerprint():
    private_key, public_key, fingerprint = crypto.generate_key_pair(bits=1024)
    assert private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert public_key.startswith("ssh-rsa ") and public_key.endswith(" Generated-by-mininova")
    assert fingerprint == crypto.generate_fingerprint(public_key)


def test_an_x509_certificate_and_its_sha1_fingerprint():
    private_key, certificate, fingerprint = crypto.generate_winrm_x509_cert("alice", 1024)
    assert certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert len(fingerprint.split(":")) == 20
    assert crypto.generate_x509_fingerprint(certificate) == fingerprint
    assert base64.b64decode(private_key)
    with pytest.raises(exception.InvalidKeypair):
        crypto.generate_x509_fingerprint("-----BEGIN CERTIFICATE-----\nnope")
