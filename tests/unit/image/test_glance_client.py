"""The glance client's pure parts: error mapping, identity headers, upload bodies,
JSON pointers, download progress."""

import io
import logging

import pytest

from mininova import context as mn_context
from mininova import exception
from mininova.image import glance, streaming


class FakeResponse:
    def __init__(self, status_code, body=None, text=""):
        self.status_code = status_code
        self._body = body
        self.text = text
        self.reason = "Reason"
        self.url = "http://image:9292/v2/images/x"

    def json(self):
        if self._body is None:
            raise ValueError("no JSON")
        return self._body


def error(code, message):
    return FakeResponse(code, {"error": {"code": code, "title": "t", "message": message}})


@pytest.mark.parametrize("code", [200, 201, 204, 300])
def test_success_is_not_an_error(code):
    glance._raise_for_status(FakeResponse(code))


@pytest.mark.parametrize("code, image_id, expected", [
    (404, "abc", exception.ImageNotFound),
    (404, None, exception.NotFound),
    (401, None, exception.NotAuthenticated),
    (403, None, exception.Forbidden),
    (409, None, exception.Conflict),
    (410, None, exception.Conflict),
    (400, None, exception.Invalid),
    (415, None, exception.Invalid),
    (500, None, exception.ImageServiceUnavailable),
    (503, None, exception.ImageServiceUnavailable),
])
def test_error_answers_become_mininova_exceptions(code, image_id, expected):
    with pytest.raises(expected) as caught:
        glance._raise_for_status(error(code, "the server's words"), image_id)
    assert type(caught.value) is expected


def test_the_servers_message_is_kept():
    with pytest.raises(exception.Invalid, match="not a valid qcow2 image"):
        glance._raise_for_status(error(400, "Image x was rejected: not a valid qcow2 image"))
    with pytest.raises(exception.ImageNotFound, match="Image abc could not be found"):
        glance._raise_for_status(error(404, "No image found with ID abc"), "abc")


def test_a_non_json_error_body_is_quoted():
    with pytest.raises(exception.ImageServiceUnavailable, match="HTTP 502: Bad gateway"):
        glance._raise_for_status(FakeResponse(502, text="Bad gateway"))


def test_identity_headers_carry_user_project_and_request_id():
    ctx = mn_context.RequestContext(user_id="alice", project_id="p1", overwrite=False)
    headers = glance._identity_headers(ctx)
    assert headers == {"X-Auth-Token": "alice:p1", "X-OpenStack-Request-ID": ctx.request_id}
    assert ctx.request_id.startswith("req-")


def test_a_context_without_user_speaks_as_admin():
    headers = glance._identity_headers(mn_context.get_admin_context())
    assert headers["X-Auth-Token"] == "admin:admin"


def test_upload_body_reads_a_file_in_chunks():
    data = b"x" * (glance.CHUNK_SIZE + 10)
    body = glance._UploadBody(io.BytesIO(data), len(data))
    assert len(body) == len(data) and bool(body)
    chunks = list(body)
    assert [len(c) for c in chunks] == [glance.CHUNK_SIZE, 10]


def test_upload_body_of_unknown_size_is_still_true():
    # requests would send an empty body for a false one.
    body = glance._UploadBody(iter([b"a", b"b"]), None)
    assert len(body) == 0 and bool(body)
    assert b"".join(body) == b"ab"


@pytest.mark.parametrize("data", [b"short", b"far too long"])
def test_upload_body_must_match_its_declared_size(data):
    body = glance._UploadBody(io.BytesIO(data), 8)
    with pytest.raises(exception.InvalidInput, match="declared size 8"):
        list(body)


# --- JSON pointers for PATCH ----------------------------------------------------------

@pytest.mark.parametrize("name, pointer", [
    ("name", "/name"),
    ("a/b", "/a~1b"),
    ("x~y", "/x~0y"),
    ("~1", "/~01"),  # "~" first, else "~1" would come back as "/"
])
def test_property_names_become_escaped_json_pointers(name, pointer):
    assert glance._pointer(name) == pointer


# --- download progress ---------------------------------------------------------------

MiB = 1024 * 1024


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def progress_lines(caplog):
    return [r.getMessage() for r in caplog.records if "download:" in r.getMessage()]


def test_large_download_logs_every_tenth(caplog):
    caplog.set_level(logging.INFO, logger="mininova.image.streaming")
    clock = FakeClock()
    total = 100 * MiB
    progress = streaming.DownloadProgress("img", total, clock=clock)

    for written in range(MiB, total + 1, MiB):
        clock.now += 0.01  # 100 MB/s
        progress.update(written)

    lines = progress_lines(caplog)
    assert [line.split(": ")[1].split("%")[0] for line in lines] == [
        "10", "20", "30", "40", "50", "60", "70", "80", "90"]
    assert lines[0] == "Image img download: 10% (10.00 of 100.00 MB) at 100.00 MB/s"


def test_slow_download_logs_every_five_seconds_between_tenths(caplog):
    caplog.set_level(logging.INFO, logger="mininova.image.streaming")
    clock = FakeClock()
    progress = streaming.DownloadProgress("img", 1000 * MiB, clock=clock)

    for written in range(MiB, 30 * MiB, MiB):  # 1 MB/s, under 3% in all
        clock.now += 1.0
        progress.update(written)

    assert len(progress_lines(caplog)) == 5  # at 5, 10, 15, 20 and 25 s


def test_download_of_unknown_size_logs_by_time_once_large(caplog):
    caplog.set_level(logging.INFO, logger="mininova.image.streaming")
    clock = FakeClock()
    progress = streaming.DownloadProgress("img", None, clock=clock)

    for written in range(MiB, 80 * MiB, MiB):
        clock.now += 1.0
        progress.update(written)

    lines = progress_lines(caplog)
    # Nothing until 64 MiB had come, then every 5 s: at 64 and 69, 74, 79 MB.
    assert lines == ["Image img download: 64.00 MB at 1.00 MB/s",
                     "Image img download: 69.00 MB at 1.00 MB/s",
                     "Image img download: 74.00 MB at 1.00 MB/s",
                     "Image img download: 79.00 MB at 1.00 MB/s"]


def test_small_download_logs_no_progress(caplog):
    caplog.set_level(logging.INFO, logger="mininova.image.streaming")
    clock = FakeClock()
    progress = streaming.DownloadProgress("img", 10 * MiB, clock=clock)

    for written in range(MiB, 10 * MiB + 1, MiB):
        clock.now += 10.0
        progress.update(written)

    assert progress_lines(caplog) == []
