"""The image service's client (mirrors ``nova/image/glance.py``).

What mininova-api (to show images, to make snapshots) and mininova-compute
(to download an image into its ``_base`` cache) use to talk to
mininova-image, over HTTP with ``requests``.

Each call goes to the first of ``[glance] api_servers`` that answers: a
server that cannot be reached is logged and the next one is tried. Only a
GET is sent again after it may have reached a server (a read that timed out,
a connection cut): a create or a delete might have been done already, and an
upload's data stream cannot be replayed.

Identity: with Keystone, the user's own token (as Nova passes it to Glance),
and for work no user asked for (a periodic task) the service user's token
(``[service_user]``, :mod:`mininova.service_auth`). With noauth2,
``X-Auth-Token: <user>:<project>`` (see
:func:`mininova.context.from_auth_token`); a context without a user speaks
as ``admin:admin``.
``X-OpenStack-Request-ID`` carries the context's request id, so the image
service logs the download under the same ``req-…`` as the compute host.

Downloads are streamed to disk 1 MiB at a time, whatever the image's size
(each chunk read off the connection once and written with ``os.write``, no
other copy), and checked: the byte count against ``Content-Length``, and the data against
the image's "multihash" (``os_hash_algo``, ``os_hash_value``: sha512 unless
mininova-image's ``hashing_algorithm`` names another), or
against its md5 ``checksum`` for an image that has no multihash, as
glanceclient checks what Nova downloads. The hash is computed in a thread of
its own (hashlib lets go of the GIL) that reads the file back from the page
cache behind the writer (:class:`mininova.image.streaming.FileHasher`), so the transfer never waits
for it: on a small machine the hash is the slower of the two (sha512,
~450 MB/s on one core here, where the transfer alone reaches curl's
~800 MB/s). :meth:`API.download_then_check` hands the file over as soon as
its last byte is written, so that the caller's own work on it (the format
checks, the convert) overlaps the rest of the hash, and gives the verdict
when the caller is done, before the caller publishes anything made from it.
A failed download never leaves a partial file behind.
A large download logs its progress (percentage and MB/s) every tenth of the
way or every few seconds, and every download ends with Nova's line
``Image download 283.00 MB at 74.68 MB/s``.

:meth:`API.update` changes metadata with Glance's JSON patch, built as
glanceclient builds it: ``add`` for a property the image lacks, ``replace``
for one it has, ``remove`` for those named in ``remove_props``.

Thread-safe: each thread has its own ``requests.Session`` (a Session's
connection pool is not meant to be shared between threads).

Left out: finding the image service in the Keystone catalog (it is
``[glance] api_servers``, as in older Nova), Glance API v1, image
members, download handlers for other stores (``[glance]
allowed_direct_url_schemes``), and signature verification.
"""

import contextlib
import hashlib
import json
import os
import threading
import time
import urllib.parse

import requests
import urllib3
from oslo_log import log as logging
from oslo_utils import units

from mininova import exception, service_auth
from mininova.conf import CONF
from mininova.image import streaming

LOG = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
JSON_PATCH_MEDIA_TYPE = "application/openstack-images-v2.1-json-patch"

class API:
    """Calls to mininova-image on behalf of a request context."""

    def __init__(self):
        self._local = threading.local()

    # --- image records ------------------------------------------------------------

    def show(self, context, image_id):
        """The image's metadata, as Glance v2 shows it."""
        response = self._call(context, "GET", _image_path(image_id), image_id=image_id)
        return response.json()

    def get_all(self, context, **filters):
        """Images the context may see; filters: ``name=``, ``status=``."""
        response = self._call(context, "GET", "/v2/images", params=filters)
        return response.json()["images"]

    def create(self, context, name, disk_format, container_format="bare", min_disk=0,
               min_ram=0, properties=None, visibility=None):
        """Create a queued image; ``properties`` become top-level custom keys."""
        body = dict(properties or {})
        body.update(name=name, disk_format=disk_format, container_format=container_format,
                    min_disk=min_disk, min_ram=min_ram)
        if visibility is not None:
            body["visibility"] = visibility
        return self._call(context, "POST", "/v2/images", json=body).json()

    def update(self, context, image_id, changes, remove_props=()):
        """Set the fields and custom properties in ``changes`` (a dict, such
        as ``{"name": "cirros", "hw_architecture": "x86_64"}``) and remove
        the custom properties named in ``remove_props``; return the image.

        The patch depends on the image as it is now (``add`` or
        ``replace``); should another client change it meanwhile, the image
        service answers 409 and this raises Conflict.
        """
        current = self.show(context, image_id)
        patch = [{"op": "replace" if name in current else "add", "path": _pointer(name),
                  "value": value} for name, value in changes.items()]
        patch += [{"op": "remove", "path": _pointer(name)} for name in remove_props]
        response = self._call(context, "PATCH", _image_path(image_id), image_id=image_id,
                              data=json.dumps(patch),
                              headers={"Content-Type": JSON_PATCH_MEDIA_TYPE})
        return response.json()

    def delete(self, context, image_id):
        self._call(context, "DELETE", _image_path(image_id), image_id=image_id)
        return True

    # --- image data --------------------------------------------------------------------

    def upload(self, context, image_id, data, size=None):
        """Upload ``data`` (a binary file object or an iterable of bytes) as the
        image's content, streamed; returns the image, now active.

        With ``size``, the request has a Content-Length and ``data`` must
        hold exactly that many bytes; without, it is sent chunked.
        """
        body = _UploadBody(data, size)
        self._call(context, "PUT", _image_path(image_id) + "/file", image_id=image_id,
                   data=body, headers={"Content-Type": "application/octet-stream"})
        return self.show(context, image_id)

    def download(self, context, image_id, dst_path, expected_checksum=None, sync=True,
                 image_meta=None):
        """Stream the image's data to ``dst_path``, check it; return its size
        in bytes (:meth:`download_then_check` with nothing to do in between).
        """
        with self.download_then_check(context, image_id, dst_path, expected_checksum, sync,
                                      image_meta) as size:
            return size

    @contextlib.contextmanager
    def download_then_check(self, context, image_id, dst_path, expected_checksum=None,
                            sync=True, image_meta=None):
        """Stream the image's data to ``dst_path`` and yield its size in
        bytes as soon as the last byte is written, while the hash is still
        being checked; leaving the ``with`` block waits for the check.

        What was written must have the multihash of ``image_meta`` (the
        image's record, as the caller read it) or, for an image without one
        (or a caller without its record), its md5 checksum (the
        ``Content-MD5`` header); and the md5 ``expected_checksum`` when
        given. When the transfer or the check fails, ``dst_path`` is removed
        and ImageDownloadFailed raised (its ImageDataInvalid kind when the
        data itself is wrong), or ImageNotFound. The block may read the file
        (inspect it, convert it) but must not publish what it makes until the
        block has ended: only then is the data known to be the image's. When
        the block fails, the check still has its say first (wrong data
        explains a failed convert better than the convert's error does);
        otherwise the block's error is raised, and its files are its own.
        ``sync=False`` skips the fsync, for a file that is converted into
        another (which is then the one that must reach the disk).
        """
        started = time.monotonic()
        with _removed_on_failure(image_id, dst_path):
            size, check = self._download_to(context, image_id, dst_path, expected_checksum,
                                            sync, image_meta or {})
        # Nova's line, when the bytes are all on disk (the hash may still be
        # catching up: its verdict is the block's end).
        elapsed = max(time.monotonic() - started, 1e-6)
        LOG.info("Image download %(size).2f MB at %(rate).2f MB/s",
                 {"size": size / units.Mi, "rate": size / units.Mi / elapsed})
        try:
            yield size
        finally:
            # Also when the block failed: wrong data, if it is, is the
            # error to raise (the block's own stays as its context).
            with _removed_on_failure(image_id, dst_path):
                check()

    def _download_to(self, context, image_id, dst_path, expected_checksum, sync, image_meta):
        """The transfer; returns (bytes written, a function that waits for the
        hash and raises ImageDataInvalid when it is not the expected one)."""
        # ``identity``: the bytes as stored, which the hashes are of (see
        # streaming.copy_to_file; Glance never compresses image data anyway).
        response = self._send(context, "GET", _image_path(image_id) + "/file", stream=True,
                              headers={"Accept-Encoding": "identity"})
        with response:
            if response.status_code == 204:
                raise exception.ImageDataInvalid(
                    image_id=image_id,
                    reason="the image service has no data for it: the image is not active "
                    "(still queued or saving, or killed by a failed upload); check its "
                    "status with 'image show' and upload its data")
            _raise_for_status(response, image_id)
            expected = _expected_digests(image_id, image_meta, expected_checksum,
                                         response.headers.get("Content-MD5"))
            written, hasher = streaming.copy_to_file(response, image_id, dst_path, expected, sync)
        try:
            _check_length(image_id, written, response.headers.get("Content-Length"))
        except BaseException:
            hasher.abandon()
            raise

        def check():
            _check_digests(image_id, hasher.hexdigests(), expected)
        return written, check

    # --- HTTP -------------------------------------------------------------------------

    def _call(self, context, method, path, image_id=None, **kwargs):
        """Send a request and turn an error answer into a mininova exception."""
        response = self._send(context, method, path, **kwargs)
        _raise_for_status(response, image_id)
        return response

    def _send(self, context, method, path, headers=None, **kwargs):
        servers = CONF.glance.api_servers
        errors = []
        for server in servers:
            url = server.rstrip("/") + path
            try:
                return self._session().request(
                    method, url, headers={**_identity_headers(context), **(headers or {})},
                    timeout=CONF.glance.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                LOG.warning("Error contacting glance server '%(server)s' for '%(method)s', "
                            "%(extra)s.", {"server": server, "method": method, "extra": exc})
                errors.append(f"{server}: {exc}")
                if method != "GET" and not _never_reached_server(exc):
                    break
        raise exception.ImageServiceUnavailable(url=", ".join(servers),
                                                reason="; ".join(errors) or "no api_servers")

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session


def _never_reached_server(exc):
    """Whether the request failed while connecting, so nothing was sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", None), urllib3.exceptions.NewConnectionError)


def _pointer(name):
    """A JSON pointer to a top-level member, escaped as RFC 6901 says."""
    return "/" + name.replace("~", "~0").replace("/", "~1")


def _image_path(image_id):
    # An id is one path segment, whatever characters it holds.
    return "/v2/images/" + urllib.parse.quote(str(image_id), safe="")


def _identity_headers(context):
    """Who the image service is told is asking (see
    :func:`mininova.service_auth.identity_headers`)."""
    return service_auth.identity_headers(context)


def _raise_for_status(response, image_id=None):
    code = response.status_code
    if code < 400:
        return
    message = _error_message(response)
    if code == 404 and image_id is not None:
        raise exception.ImageNotFound(image_id=image_id)
    if code == 404:
        raise exception.NotFound(message)
    if code == 401:
        raise exception.NotAuthenticated()
    if code == 403:
        raise exception.Forbidden(message)
    if code in (409, 410):
        raise exception.Conflict(message)
    if code >= 500:
        raise exception.ImageServiceUnavailable(url=response.url,
                                                reason=f"HTTP {code}: {message}")
    raise exception.Invalid(message)


def _error_message(response):
    try:
        return response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason


class _UploadBody:
    """An upload's data as an iterable of chunks for ``requests``.

    Having ``__len__`` (the declared size, 0 when unknown) tells requests to
    send a Content-Length instead of a chunked body.
    """

    def __init__(self, data, size):
        self._data = data
        self._size = size

    def __len__(self):
        return self._size or 0

    def __bool__(self):
        # requests replaces a false body with an empty one, and a length of
        # 0 would make us false.
        return True

    def __iter__(self):
        sent = 0
        for chunk in self._chunks():
            sent += len(chunk)
            if self._size is not None and sent > self._size:
                break
            yield chunk
        if self._size is not None and sent != self._size:
            # Sending fewer bytes than announced would leave the server
            # waiting for the rest; more would corrupt the connection.
            raise exception.InvalidInput(
                reason=f"the image data does not have the declared size {self._size}")

    def _chunks(self):
        if hasattr(self._data, "read"):
            while chunk := self._data.read(CHUNK_SIZE):
                yield chunk
        else:
            yield from self._data


def _check_length(image_id, written, content_length):
    if content_length is not None and written != int(content_length):
        raise exception.ImageDownloadFailed(
            image_id=image_id,
            reason=f"short read: got {written} of {content_length} bytes; the connection "
            f"to the image service was cut")


def _expected_digests(image_id, image_meta, expected_checksum, content_md5):
    """``{algorithm: [hex digests the data must have]}``.

    As glanceclient (through which Nova downloads): the multihash when the
    image has one, else the md5 checksum (the record's or the
    ``Content-MD5`` header's); an md5 the caller expects is checked too.
    """
    expected = {}
    algorithm, value = image_meta.get("os_hash_algo"), image_meta.get("os_hash_value")
    if algorithm and value:
        if algorithm in hashlib.algorithms_available:
            expected[algorithm] = [value]
        else:
            LOG.warning("Image %(id)s has a %(algo)s hash, which this host cannot compute: "
                        "checking its md5 checksum instead", {"id": image_id, "algo": algorithm})
    if not expected:
        md5s = {c for c in (image_meta.get("checksum"), content_md5) if c}
        if md5s:
            expected["md5"] = sorted(md5s)
    if expected_checksum:
        expected.setdefault("md5", []).append(expected_checksum)
    return expected


def _check_digests(image_id, digests, expected):
    if not expected:
        LOG.warning("Image %s has no checksum: its download cannot be verified", image_id)
    for algorithm, wanted in expected.items():
        for value in wanted:
            if digests[algorithm] != value:
                raise exception.ImageDataInvalid(
                    image_id=image_id,
                    reason=f"checksum mismatch: the downloaded data has {algorithm} "
                    f"{digests[algorithm]}, expected {value}; the image file in the image "
                    f"store is corrupt or was altered (upload the image again)")


@contextlib.contextmanager
def _removed_on_failure(image_id, dst_path):
    """On any failure inside, remove ``dst_path`` and raise ImageNotFound or
    ImageDownloadFailed (as is when it is already one of ours: the build
    tells a host's trouble, which it reschedules, from the image's, which
    it aborts, by their class)."""
    try:
        yield
    except BaseException as exc:
        _remove_if_present(dst_path)
        if (isinstance(exc, (exception.ImageDownloadFailed, exception.ImageNotFound))
                or not isinstance(exc, Exception)):
            raise
        raise exception.ImageDownloadFailed(image_id=image_id, reason=_reason(exc)) from exc


def _reason(exc):
    if isinstance(exc, exception.MininovaException):
        return exc.format_message()
    return f"{type(exc).__name__}: {exc}"


def _remove_if_present(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
