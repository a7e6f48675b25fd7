"""The download's hash, read back from the page cache behind the writer
(:class:`mininova.image.streaming.FileHasher`), and
:meth:`mininova.image.glance.API.download_then_check`, whose caller works on
the file while the hash catches up: real files, a real image service."""

import hashlib
import io
import os
import threading

import pytest

from mininova import exception, utils
from mininova.image import glance, streaming
from mininova.virt import images
from tests.functional.helpers import image_service_running


def write_in_pieces(path, pieces, hasher):
    """What copy_to_file does: write, then tell the hasher how far."""
    written = 0
    with open(path, "ab") as out:
        for piece in pieces:
            out.write(piece)
            out.flush()
            written += len(piece)
            hasher.written_up_to(written)
    hasher.transfer_ended()


def test_file_hasher_follows_a_writer_to_the_end(tmp_path, monkeypatch):
    # Reads smaller than the pieces, so it often catches up with the writer.
    monkeypatch.setattr(streaming, "HASH_READ_SIZE", 1000)
    pieces = [bytes([n]) * (4096 + 37 * n) for n in range(60)]
    path = tmp_path / "file"
    path.touch()
    hasher = streaming.FileHasher(str(path), ["sha512", "md5"])
    writer = threading.Thread(target=write_in_pieces, args=(path, pieces, hasher))
    writer.start()
    writer.join()

    data = b"".join(pieces)
    assert hasher.hexdigests() == {"sha512": hashlib.sha512(data).hexdigest(),
                                   "md5": hashlib.md5(data).hexdigest()}


def test_file_hasher_runs_at_nice_19_during_the_transfer_only(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"x" * 10)
    writers_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    hasher = streaming.FileHasher(str(path), ["sha512"])
    assert os.getpriority(os.PRIO_PROCESS, hasher._thread.native_id) == 19

    hasher.written_up_to(10)
    hasher.transfer_ended()

    assert os.getpriority(os.PRIO_PROCESS, hasher._thread.native_id) == writers_nice
    assert hasher.hexdigests() == {"sha512": hashlib.sha512(b"x" * 10).hexdigest()}


def test_file_hasher_hashes_what_is_on_disk_not_beyond_what_was_written(tmp_path):
    # Bytes past what the writer announced are not the download's.
    path = tmp_path / "file"
    path.write_bytes(b"announced" + b"not yet announced")
    hasher = streaming.FileHasher(str(path), ["sha512"])
    hasher.written_up_to(len(b"announced"))

    assert hasher.hexdigests() == {"sha512": hashlib.sha512(b"announced").hexdigest()}


def test_file_hasher_says_when_the_file_shrank_under_it(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"x" * 10)
    hasher = streaming.FileHasher(str(path), ["sha512"])
    os.truncate(path, 4)
    hasher.written_up_to(10)

    with pytest.raises(OSError, match="the file ended at 4 of 10 bytes written"):
        hasher.hexdigests()


def test_an_abandoned_file_hasher_stops_and_closes_its_file(tmp_path):
    path = tmp_path / "file"
    path.touch()
    open_before = len(os.listdir("/proc/self/fd"))
    hasher = streaming.FileHasher(str(path), ["sha512"])

    hasher.abandon()

    assert len(os.listdir("/proc/self/fd")) == open_before


def test_a_file_hasher_without_algorithms_reads_nothing(tmp_path):
    hasher = streaming.FileHasher(str(tmp_path / "never-opened"), [])
    hasher.written_up_to(10)
    assert hasher.hexdigests() == {}


def upload(api, alice, data, disk_format="raw"):
    image = api.create(alice, "img", disk_format)
    api.upload(alice, image["id"], io.BytesIO(data))
    return api.show(alice, image["id"])


def tamper(store_dir, image_id, offset=0, data=b"EVIL"):
    with open(os.path.join(store_dir, image_id), "r+b") as stored:
        stored.seek(offset)
        stored.write(data)


def test_the_block_gets_the_whole_file_and_the_check_comes_after(image_server, alice,
                                                                 tmp_path):
    api = glance.API()
    record = upload(api, alice, b"good data" * 100000)
    target = tmp_path / "downloaded"

    with api.download_then_check(alice, record["id"], str(target), image_meta=record) as size:
        assert size == 900000
        assert target.read_bytes() == b"good data" * 100000

    assert target.exists()


@pytest.fixture
def tampered(image_server, alice, store_dir):
    """An image whose stored file was altered after its upload: (client, record)."""
    api = glance.API()
    record = upload(api, alice, b"good data" * 1000)
    tamper(store_dir, record["id"])
    return api, record


def test_wrong_data_fails_when_the_block_ends_and_leaves_nothing(tampered, alice, tmp_path):
    api, record = tampered
    target = tmp_path / "downloaded"
    made_inside = tmp_path / "converted"

    with pytest.raises(exception.ImageDataInvalid, match="checksum mismatch: .* sha512"):
        with api.download_then_check(alice, record["id"], str(target), image_meta=record):
            made_inside.write_bytes(target.read_bytes())

    assert not target.exists()


def test_a_failed_block_on_wrong_data_is_reported_as_wrong_data(tampered, alice, tmp_path):
    api, record = tampered
    target = tmp_path / "downloaded"

    with pytest.raises(exception.ImageDataInvalid) as raised:
        with api.download_then_check(alice, record["id"], str(target), image_meta=record):
            raise ValueError("the convert choked on it")

    assert isinstance(raised.value.__context__, ValueError)
    assert not target.exists()


def test_a_failed_block_on_good_data_raises_its_own_error(image_server, alice, tmp_path):
    api = glance.API()
    record = upload(api, alice, b"good data" * 1000)
    target = tmp_path / "downloaded"

    with pytest.raises(ValueError, match="the convert choked"):
        with api.download_then_check(alice, record["id"], str(target), image_meta=record):
            raise ValueError("the convert choked on it")


def test_fetch_to_raw_publishes_nothing_converted_from_wrong_data(image_server, alice,
                                                                  store_dir, tmp_path):
    # A qcow2 altered in the store past its header: it still converts, and
    # only the hash tells. The converted file must never reach _base.
    source = tmp_path / "x.qcow2"
    utils.execute("qemu-img", "create", "-f", "qcow2", str(source), "4M")
    utils.execute("qemu-io", "-f", "qcow2", "-c", "write -P 0x61 0 1M", str(source))
    api = glance.API()
    record = upload(api, alice, source.read_bytes(), disk_format="qcow2")
    tamper(store_dir, record["id"], offset=os.path.getsize(source) - 4096, data=b"\x62" * 16)
    base_dir = tmp_path / "_base"
    base_dir.mkdir()

    with pytest.raises(exception.ImageDataInvalid, match="checksum mismatch"):
        images.fetch_to_raw(alice, record, str(base_dir / "abc"))

    assert os.listdir(base_dir) == []


@pytest.fixture
def sha256_image_server(image_conf):
    """mininova-image with ``[image_service] hashing_algorithm = sha256``."""
    image_conf.set_override("hashing_algorithm", "sha256", "image_service")
    try:
        with image_service_running() as server:
            yield server
    finally:
        image_conf.clear_override("hashing_algorithm", "image_service")


def test_the_configured_hash_is_the_one_shown_and_checked(sha256_image_server, alice,
                                                          store_dir, tmp_path):
    api = glance.API()
    data = b"good data" * 1000
    record = upload(api, alice, data)
    assert (record["os_hash_algo"], record["os_hash_value"]) == (
        "sha256", hashlib.sha256(data).hexdigest())
    api.download(alice, record["id"], str(tmp_path / "good"), image_meta=record)
    assert (tmp_path / "good").read_bytes() == data

    tamper(store_dir, record["id"])
    with pytest.raises(exception.ImageDataInvalid, match="checksum mismatch: .* sha256"):
        api.download(alice, record["id"], str(tmp_path / "bad"), image_meta=record)
    assert not (tmp_path / "bad").exists()


def test_a_hash_hashlib_does_not_have_is_refused_by_the_configuration(image_conf):
    with pytest.raises(ValueError, match="Valid values are .*sha512.*but found 'crc32'"):
        image_conf.set_override("hashing_algorithm", "crc32", "image_service")
