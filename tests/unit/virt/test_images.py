"""fetch_to_raw and qemu_img_info (mininova/virt/images.py).

The download is replaced by a copy of a file crafted here; qemu-img itself
is real (info and convert of tiny images in ``tmp_path``), as in the
format inspector's tests: what is checked is that the right commands run in
the right order, and what they leave on disk.
"""

import contextlib
import logging
import shutil
import subprocess

import pytest

from mininova import context as mn_context
from mininova import exception, processutils
from mininova.image import glance
from mininova.virt import images

MiB = 1024 * 1024


def qemu_img(*args):
    subprocess.run(["qemu-img", *map(str, args)], check=True, capture_output=True)


@pytest.fixture
def pattern_raw(tmp_path):
    """A 4 MiB raw disk: 1 MiB of 0x5a, then zeros."""
    path = tmp_path / "pattern.raw"
    path.write_bytes(b"\x5a" * MiB + b"\0" * 3 * MiB)
    return path


@pytest.fixture
def serve(monkeypatch):
    """Make the image service's download a copy of the given file."""
    def serve_file(source):
        @contextlib.contextmanager
        def download_then_check(self, context, image_id, dst_path, expected_checksum=None,
                                sync=True, image_meta=None):
            shutil.copyfile(source, dst_path)
            yield source.stat().st_size
        monkeypatch.setattr(glance.API, "download_then_check", download_then_check)
    return serve_file


@pytest.fixture
def commands(monkeypatch):
    """Every command processutils runs, as a list of its arguments."""
    ran = []
    real_execute = processutils.execute

    def recording_execute(*cmd, **kwargs):
        ran.append([str(arg) for arg in cmd])
        return real_execute(*cmd, **kwargs)

    monkeypatch.setattr(processutils, "execute", recording_execute)
    return ran


def context():
    return mn_context.RequestContext(user_id="u", project_id="p")


def leftovers(base):
    return sorted(p.name for p in base.parent.iterdir() if p.name.startswith(base.name))


# --- qemu_img_info ---------------------------------------------------------------------------

def test_qemu_img_info_is_told_the_format_and_runs_under_limits(monkeypatch):
    seen = {}

    def fake_execute(*cmd, **kwargs):
        seen["cmd"], seen["kwargs"] = cmd, kwargs
        return '{"format": "qcow2", "virtual-size": 1}', ""

    monkeypatch.setattr(processutils, "execute", fake_execute)

    assert images.qemu_img_info("/x.part", "qcow2") == {"format": "qcow2", "virtual-size": 1}
    assert list(seen["cmd"]) == [
        "qemu-img", "info", "--force-share", "--output=json", "-f", "qcow2", "/x.part"]
    limits = seen["kwargs"]["limits"]
    assert (limits.cpu_time, limits.address_space) == (30, 2 * 1024 ** 3)
    assert seen["kwargs"]["timeout"] == 60   # [DEFAULT] command_timeout
    assert seen["kwargs"]["env_variables"] == {"LC_ALL": "C", "LANG": "C"}


def test_qemu_img_info_stopped_by_its_limits_refuses_the_file(monkeypatch):
    def stopped(*cmd, **kwargs):
        raise exception.ProcessLimitExceeded(cmd="qemu-img info",
                                             limit="CPU time limit (30 s)")

    monkeypatch.setattr(processutils, "execute", stopped)

    with pytest.raises(exception.InvalidDiskInfo) as caught:
        images.qemu_img_info("/x.part", "qcow2")
    assert caught.value.format_message() == (
        "Disk info file is invalid: /x.part: qemu-img info was stopped by its CPU time "
        "limit (30 s)")


@pytest.mark.parametrize("error", [
    exception.ProcessTimeout(cmd="qemu-img info", timeout=60),
    exception.ProcessKilled(cmd="qemu-img info", signal="SIGKILL", cpu_seconds=0.0),
])
def test_qemu_img_info_timed_out_or_killed_is_not_blamed_on_the_file(monkeypatch, error):
    def fails(*cmd, **kwargs):
        raise error

    monkeypatch.setattr(processutils, "execute", fails)

    with pytest.raises(type(error)) as caught:
        images.qemu_img_info("/x.part", "qcow2")
    assert caught.value is error


def test_qemu_img_info_failure_quotes_qemu(monkeypatch):
    def failed(*cmd, **kwargs):
        raise exception.ProcessExecutionFailed(cmd="qemu-img info",
                                               reason="Image is not in qcow2 format")

    monkeypatch.setattr(processutils, "execute", failed)

    with pytest.raises(exception.InvalidDiskInfo, match="/x.part: Image is not in qcow2 format$"):
        images.qemu_img_info("/x.part", "qcow2")


# --- fetch_to_raw: conversions ------------------------------------------------------------------

@pytest.mark.parametrize("fmt, options", [
    ("qcow2", []),
    ("vmdk", []),
    ("vmdk", ["-o", "subformat=streamOptimized"]),
    ("vdi", []),
])
def test_formats_are_converted_to_raw(tmp_path, pattern_raw, serve, commands, caplog, fmt,
                                      options):
    source = tmp_path / f"image.{fmt}"
    qemu_img("convert", "-f", "raw", "-O", fmt, *options, pattern_raw, source)
    serve(source)
    base = tmp_path / "_base" / "abc"
    base.parent.mkdir()
    caplog.set_level(logging.DEBUG, logger="mininova.virt.images")

    images.fetch_to_raw(context(), {"id": "img", "disk_format": fmt}, str(base))

    assert base.read_bytes() == pattern_raw.read_bytes()
    assert leftovers(base) == ["abc"]
    qemu_commands = [c[c.index("qemu-img"):] for c in commands if "qemu-img" in c]
    assert [c[:2] for c in qemu_commands] == [["qemu-img", "info"], ["qemu-img", "convert"]]
    convert = qemu_commands[1]
    assert convert[convert.index("-f") + 1] == fmt
    assert convert[convert.index("-O") + 1] == "raw"
    messages = [r.getMessage() for r in caplog.records]
    assert f"img was {fmt}, converting to raw" in messages
    (speed,) = [r for r in caplog.records if r.getMessage().startswith("Converted ")]
    assert speed.levelno == logging.INFO
    assert speed.getMessage().startswith("Converted 4.00 MB image at ")
    assert speed.getMessage().endswith(" MB/s")


@pytest.mark.parametrize("disk_format", ["raw", "iso"])
def test_raw_and_iso_are_renamed_without_conversion(tmp_path, pattern_raw, serve, commands,
                                                    disk_format):
    source = pattern_raw
    if disk_format == "iso":
        source = tmp_path / "image.iso"
        source.write_bytes(b"\0" * 0x8001 + b"CD001" + b"\0" * 0x7FFA)
    serve(source)
    base = tmp_path / "abc"

    images.fetch_to_raw(context(), {"id": "img", "disk_format": disk_format}, str(base))

    assert base.read_bytes() == source.read_bytes()
    assert leftovers(base) == ["abc"]
    (info,) = [c[c.index("qemu-img"):] for c in commands if "qemu-img" in c]
    # qemu has no "iso" driver: it is told raw.
    assert info[:2] == ["qemu-img", "info"] and info[info.index("-f") + 1] == "raw"


# --- fetch_to_raw: refusals leave nothing ---------------------------------------------------------

def test_refused_image_leaves_nothing_and_qemu_img_never_sees_it(tmp_path, serve, commands):
    (tmp_path / "host-secret").write_bytes(b"secret" * 100)
    source = tmp_path / "evil.qcow2"
    qemu_img("create", "-f", "qcow2", "-b", tmp_path / "host-secret", "-F", "raw", source, "1M")
    serve(source)
    commands.clear()
    base = tmp_path / "_base" / "abc"
    base.parent.mkdir()

    with pytest.raises(exception.ImageUnacceptable, match="has a backing file"):
        images.fetch_to_raw(context(), {"id": "img", "disk_format": "qcow2"}, str(base))

    assert leftovers(base) == []
    assert commands == []  # refused from its bytes, before any qemu-img


@pytest.mark.parametrize("declared", ["raw", "iso", "vmdk"])
def test_format_mismatch_leaves_nothing(tmp_path, serve, declared):
    source = tmp_path / "disguised"
    qemu_img("create", "-f", "qcow2", source, "1M")
    serve(source)
    base = tmp_path / "abc"

    with pytest.raises(exception.ImageUnacceptable,
                       match=f"format is qcow2, not the declared {declared}"):
        images.fetch_to_raw(context(), {"id": "img", "disk_format": declared}, str(base))

    assert leftovers(base) == []


def test_failed_conversion_leaves_nothing(tmp_path, pattern_raw, serve, monkeypatch):
    source = tmp_path / "image.qcow2"
    qemu_img("convert", "-f", "raw", "-O", "qcow2", pattern_raw, source)
    serve(source)
    base = tmp_path / "abc"

    def half_convert(src, dest, in_format, out_format, cache_mode="none"):
        with open(dest, "wb") as half:
            half.write(b"half")
        raise exception.ProcessExecutionFailed(cmd="qemu-img", reason="No space left on device")

    monkeypatch.setattr(images, "convert_image", half_convert)

    with pytest.raises(exception.ProcessExecutionFailed):
        images.fetch_to_raw(context(), {"id": "img", "disk_format": "qcow2"}, str(base))

    assert leftovers(base) == []


def test_qemu_img_killed_during_fetch_leaves_nothing(tmp_path, serve, monkeypatch):
    source = tmp_path / "image.qcow2"
    qemu_img("create", "-f", "qcow2", source, "1M")
    serve(source)
    base = tmp_path / "abc"

    def killed(*cmd, **kwargs):
        raise exception.ProcessLimitExceeded(cmd="qemu-img info",
                                             limit="CPU time limit (30 s)")

    monkeypatch.setattr(processutils, "execute", killed)

    with pytest.raises(exception.InvalidDiskInfo, match="stopped by its CPU time limit"):
        images.fetch_to_raw(context(), {"id": "img", "disk_format": "qcow2"}, str(base))

    assert leftovers(base) == []
