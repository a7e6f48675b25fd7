"""How a download from the image service reaches the disk, and how its hash
is checked on the way (the part of ``nova/image/glance.py``'s ``download``
and glanceclient's ``integrity_iter`` that moves the bytes).

:func:`copy_to_file` writes the HTTP body to a file in 1 MiB chunks, with
no copy beyond the one off the socket, while a :class:`FileHasher` reads
the file back behind it from the page cache and hashes it in a thread of
its own; :class:`DownloadProgress` logs how far a large download has got.
:class:`mininova.image.glance.API` decides what the hash must be and when
the verdict is asked for.

Left out: glanceclient's own chunked iterator and its ``Content-MD5``
check while iterating (the hash here is checked once, at the end, against
whichever value the image's record gives).
"""

import hashlib
import os
import threading
import time

import requests
import urllib3
from oslo_log import log as logging
from oslo_utils import units

from mininova import exception

LOG = logging.getLogger(__name__)

# Downloads read 1 MiB at a time: few trips through Python per byte, and a
# piece small enough to stay in the CPU's cache between the socket's copy
# and the page cache's, with the hash following close behind. (8 MiB was
# chosen when the chunks queued for the hash in memory, 30 Nov 2026; since
# the hash reads the file back, on 2 Dec 2026's machine 200 MiB read in
# 0.096 s with 1 MiB against 0.138 s with 8 MiB, and bench/image_prep.py
# with sha256 gave 0.87-0.96 against 0.85-0.89.)
DOWNLOAD_CHUNK_SIZE = 1024 * 1024
# What the hash thread reads back from the page cache at a time, into one
# buffer it keeps: big enough that a read is cheap per byte, small enough
# to follow close behind the writer.
HASH_READ_SIZE = 1024 * 1024

# Downloads from this size on log their progress, every tenth of the way or
# every PROGRESS_INTERVAL seconds, whichever comes first: a first boot of a
# big image on a slow link should not look stuck.
PROGRESS_MIN_BYTES = 64 * units.Mi
PROGRESS_INTERVAL = 5.0


def copy_to_file(response, image_id, dst_path, expected, sync=True):
    """Write the response body to ``dst_path`` while a :class:`FileHasher`
    hashes it with the algorithms ``expected`` names; return (bytes
    written, the hasher, still at work).

    The body is read from urllib3's response as it came off the socket
    (``decode_content=False``: the request asked for no encoding), each
    chunk one ``bytes`` object that is written with ``os.write``, never
    copied again: requests' ``iter_content`` and a buffered file object
    would each add a copy per chunk.
    """
    written = 0
    progress = DownloadProgress(image_id, _int_or_none(response.headers.get("Content-Length")))
    fd = os.open(dst_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        hasher = FileHasher(dst_path, expected)
        try:
            while chunk := response.raw.read(DOWNLOAD_CHUNK_SIZE, decode_content=False):
                _write_all(fd, chunk)
                written += len(chunk)
                hasher.written_up_to(written)
                progress.update(written)
            hasher.transfer_ended()
            if sync:
                # The caller renames this file into the image cache: it must
                # not be renamed with bytes still in the page cache, lost in a
                # crash.
                os.fsync(fd)
        except BaseException as exc:
            hasher.abandon()
            if isinstance(exc, (requests.RequestException, urllib3.exceptions.HTTPError)):
                raise exception.ImageDownloadFailed(
                    image_id=image_id,
                    reason=f"the connection to the image service broke during the download "
                    f"({written} bytes written): {exc}; try again, and check "
                    f"mininova-image's log if it persists") from exc
            raise
    finally:
        os.close(fd)
    return written, hasher


def _write_all(fd, data):
    """``os.write`` until all of ``data`` is written (a write may take less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class FileHasher:
    """Hashes a file while another thread writes it, by reading back (from
    the page cache) what the writer says it has written so far.

    Why read back rather than be handed the chunks: the hash is slower than
    the transfer here, so chunks passed in memory would have to wait in a
    queue as big as the image, or hold the transfer back (they did, through
    a bounded queue, until 1 Dec 2026: a 200 MiB download took 0.67 s where
    its hash alone takes 0.40 s). Read back, the hash costs one more copy
    out of the page cache and the writer never waits; and what it checks is
    what is on disk.

    Why two threads: while the transfer runs, the hash takes only the CPU
    the transfer leaves (its thread at nice 19). On two cores the image
    service's send, the receive and the hash would otherwise share them
    three ways, and the transfer, which everything after it waits for,
    would take longest (0.77 s instead of ~0.3 s here). When the last byte
    is written (``transfer_ended``), the rest of the hash goes on at the
    service's own priority, beside the caller's convert, in a thread the
    writer starts: a thread cannot raise its own priority back without
    privileges, and a new one gets its creator's. So a host whose CPUs are
    busy with guests slows the hash no more than the transfer itself.

    ``hexdigests`` waits for the end of the file and says ``{algorithm:
    hex digest}``; ``abandon`` stops early.
    """

    def __init__(self, path, algorithms):
        self._hashes = {name: hashlib.new(name, usedforsecurity=False) for name in algorithms}
        self._written = self._hashed = 0
        self._handing_over = self._finished = self._abandoned = False
        self._error = None
        self._changed = threading.Condition()
        self._fd = self._thread = None
        if self._hashes:
            self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            self._thread = self._start(during_transfer=True)

    def written_up_to(self, size):
        with self._changed:
            self._written = size
            self._changed.notify()

    def transfer_ended(self):
        """The writer's call, from its own thread, once every byte is written."""
        if self._thread is None:
            return
        with self._changed:
            self._handing_over = True
            self._changed.notify()
        self._thread.join()  # at most one read's worth of hashing away
        with self._changed:
            self._handing_over = False
        if self._error is None:
            self._thread = self._start(during_transfer=False)

    def hexdigests(self):
        self._stop(abandon=False)
        if self._error is not None:
            raise self._error
        return {name: digest.hexdigest() for name, digest in self._hashes.items()}

    def abandon(self):
        self._stop(abandon=True)

    def _stop(self, abandon):
        with self._changed:
            self._finished = True
            self._abandoned = self._abandoned or abandon
            self._changed.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _start(self, during_transfer):
        thread = threading.Thread(target=self._run, name="download-hash", daemon=True)
        thread.start()
        if during_transfer:
            _lower_priority(thread.native_id)
        return thread

    def _run(self):
        buffer = memoryview(bytearray(HASH_READ_SIZE))
        try:
            while (end := self._wait_beyond(self._hashed)) > self._hashed:
                while self._hashed < end and not self._handing_over:
                    self._hash_some(buffer, end)
        except Exception as exc:  # said by hexdigests(), in the caller's thread
            self._error = exc

    def _hash_some(self, buffer, end):
        count = os.preadv(self._fd, [buffer[:min(len(buffer), end - self._hashed)]],
                          self._hashed)
        if count == 0:
            raise OSError(f"the file ended at {self._hashed} of {end} bytes written "
                          f"while its hash was computed")
        for digest in self._hashes.values():
            digest.update(buffer[:count])
        self._hashed += count

    def _wait_beyond(self, hashed):
        """How far the file is written, once that is beyond ``hashed`` or the
        thread must stop (``hashed`` then: nothing more to do here)."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._written > hashed or self._finished or self._handing_over)
            if self._abandoned or self._handing_over:
                return hashed
            return self._written


def _lower_priority(thread_id):
    """Nice 19 for that thread alone (Linux's nice value is per thread).
    Only an optimisation: where it is refused, the hash runs as it is."""
    try:
        os.setpriority(os.PRIO_PROCESS, thread_id, 19)
    except OSError as exc:
        LOG.debug("Could not lower the download hash's priority: %s", exc)


class DownloadProgress:
    """Logs how far a large download has got, and how fast it goes."""

    def __init__(self, image_id, total, clock=time.monotonic):
        self.image_id = image_id
        self.total = total
        self._clock = clock
        self._started = self._last_logged = clock()
        self._tenths_logged = 0

    def update(self, written):
        if max(self.total or 0, written) < PROGRESS_MIN_BYTES:
            return
        if self.total is not None and written >= self.total:
            # The download's own closing line says it all.
            return
        now = self._clock()
        tenths = written * 10 // self.total if self.total else 0
        if tenths > self._tenths_logged or now - self._last_logged >= PROGRESS_INTERVAL:
            self._tenths_logged = max(tenths, self._tenths_logged)
            self._last_logged = now
            self._log(written, now)

    def _log(self, written, now):
        rate = written / units.Mi / max(now - self._started, 1e-6)
        if self.total:
            LOG.info("Image %(image_id)s download: %(percent)d%% (%(done).2f of "
                     "%(total).2f MB) at %(rate).2f MB/s",
                     {"image_id": self.image_id, "percent": written * 100 // self.total,
                      "done": written / units.Mi, "total": self.total / units.Mi, "rate": rate})
        else:
            LOG.info("Image %(image_id)s download: %(done).2f MB at %(rate).2f MB/s",
                     {"image_id": self.image_id, "done": written / units.Mi, "rate": rate})


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
