"""Key pairs' keys and fingerprints (mirrors the key pair part of
``nova/crypto.py``), with the ``cryptography`` package.

- An **ssh** key pair's fingerprint is the MD5 of the key's base64 body,
  as colon-separated hex (``ab:12:...``): what ``ssh-keygen -l -E md5``
  prints. A generated one is a 2048-bit RSA key: the private half in the
  traditional PEM form (``-----BEGIN RSA PRIVATE KEY-----``), returned once
  and never stored, the public half in OpenSSH's one-line form.
- An **x509** key pair (for Windows guests' WinRM) holds a certificate:
  its fingerprint is the SHA-1 of the certificate, colon-separated hex. A
  generated one is a self-signed client certificate for ``CN=<user>``
  valid ten years; the private part returned is its key in PKCS#12,
  base64, without a password.

Differences from Nova: Nova generates the RSA key with paramiko and the
certificate with the ``openssl`` command; ``cryptography`` makes the same
formats in-process. A generated public key ends with the comment
``Generated-by-mininova`` (Nova's says ``Generated-by-Nova``).
"""

import base64
import binascii
import datetime
import hashlib

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from mininova import exception

# Microsoft's User Principal Name, the name WinRM matches the certificate to.
UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
CERTIFICATE_DAYS = 3650


def _colon_hex(digest):
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate_fingerprint(public_key):
    """MD5 fingerprint of an OpenSSH public key line; InvalidKeypair (400)
    if it is not one."""
    try:
        serialization.load_ssh_public_key(public_key.encode("utf-8"))
        key_body = base64.b64decode(public_key.split(" ")[1])
    except (ValueError, IndexError, UnicodeError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise exception.InvalidKeypair(reason="failed to generate fingerprint") from exc
    return _colon_hex(hashlib.md5(key_body, usedforsecurity=False).hexdigest())


def generate_x509_fingerprint(pem_certificate):
    """SHA-1 fingerprint of a PEM certificate; InvalidKeypair (400) if it
    is not one."""
    try:
        certificate = x509.load_pem_x509_certificate(pem_certificate.encode("utf-8"))
    except (ValueError, TypeError, UnicodeError) as exc:
        raise exception.InvalidKeypair(
            reason=f"failed to generate X509 fingerprint. Error message: {exc}") from exc
    return _colon_hex(certificate.fingerprint(hashes.SHA1()).hex())


def generate_key_pair(bits=2048):
    """``(private_key, public_key, fingerprint)`` of a new RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_key = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode("ascii")
    public_key = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH)
    public_key = f"{public_key.decode('ascii')} Generated-by-mininova"
    return private_key, public_key, generate_fingerprint(public_key)


def generate_winrm_x509_cert(user_id, bits=2048):
    """``(private_key, certificate, fingerprint)``: a self-signed client
    certificate for ``user_id`` and its key in base64 PKCS#12."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id)])
    now = datetime.datetime.now(datetime.timezone.utc)
    upn = x509.OtherName(UPN_OID, _der_utf8_string(f"{user_id}@localhost"))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName([upn]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    bundle = pkcs12.serialize_key_and_certificates(
        None, key, certificate, None, serialization.NoEncryption())
    return base64.b64encode(bundle).decode("ascii"), pem, generate_x509_fingerprint(pem)


def _der_utf8_string(text):
    """``text`` as a DER UTF8String (tag 12), the value of an otherName."""
    data = text.encode("utf-8")
    if len(data) < 128:
        return bytes([12, len(data)]) + data
    length = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([12, 0x80 | len(length)]) + length + data
