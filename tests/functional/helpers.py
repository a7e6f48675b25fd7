"""Helpers of the functional tests: waiting (builds run in other threads),
clients of the in-process cloud, log capture, reading CLI tables."""

import contextlib
import io
import logging

from mininova import service
from mininova.cli.client import Client
from mininova.conf import CONF
from mininova.image.service import app as image_app
from tests.waiting import wait_for_gone, wait_for_settled, wait_for_status, wait_until

TIMEOUT = 20
__all__ = ["wait_for_gone", "wait_for_settled", "wait_for_status", "wait_until"]


def server_action(client, server_id, body):
    """``POST /servers/<id>/action`` with Nova's body; the raw response."""
    return client.session.post(f"{client.compute_url}/servers/{server_id}/action",
                               json=body, timeout=client.timeout)


def api(client, method, path, version=None, **kwargs):
    """One compute API request at microversion ``version`` (2.1 when None):
    the raw response."""
    headers = dict(kwargs.pop("headers", None) or {})
    if version:
        headers["OpenStack-API-Version"] = f"compute {version}"
    return client.session.request(method, f"{client.compute_url}{path}", headers=headers,
                                  timeout=client.timeout, **kwargs)


def wait_for_task(client, server_id, task_state, timeout=TIMEOUT):
    wait_until(lambda: client.get_server(server_id)["OS-EXT-STS:task_state"],
               lambda task: task == task_state, timeout, interval=0.01,
               what=f"task {task_state} of server {server_id}")


def wait_for_all(client, count, status, timeout=TIMEOUT):
    def all_there(servers):
        return len(servers) == count and all(s["status"] == status for s in servers)
    return wait_until(client.list_servers, all_there, timeout,
                      what=f"{count} servers {status}")


def wait_for_memory_used(client, memory_mb_used, timeout=TIMEOUT):
    """The compute reports freed resources just after the row changes."""
    wait_until(lambda: client.list_hypervisors(detailed=True)[0]["memory_mb_used"],
               lambda used: used == memory_mb_used, timeout,
               what=f"memory_mb_used {memory_mb_used}")


class LogCapture:
    """Every mininova log record, formatted, while attached."""

    def __init__(self, formatter):
        self._buffer = io.StringIO()
        self._handler = logging.StreamHandler(self._buffer)
        self._handler.setFormatter(formatter)
        self._logger = logging.getLogger("mininova")
        self._old_level = self._logger.level
        self._logger.setLevel(logging.DEBUG)
        self._logger.addHandler(self._handler)

    def remove(self):
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._old_level)

    def lines(self):
        return self._buffer.getvalue().splitlines()


def make_client(cloud, token):
    """A client of the in-process cloud, as the user ``token`` names."""
    return Client(f"http://127.0.0.1:{cloud.api_service.port}/v2.1",
                  f"http://127.0.0.1:{cloud.image_service.port}", token, timeout=30)


def make_client_like(client, token):
    """Another user of the same cloud."""
    return Client(client.compute_url, client.image_url, token, timeout=client.timeout)


def table_rows(text):
    """The cells of every prettytable in ``text``, header rows included.

    Columns are cut where the table's ``+----+`` border has its ``+``, since
    cells may hold a ``|`` themselves (``|- host1``)."""
    rows, edges = [], []
    for line in text.splitlines():
        if line.startswith("+"):
            edges = [i for i, char in enumerate(line) if char == "+"]
        elif line.startswith("|") and edges:
            columns = zip(edges, edges[1:], strict=False)
            rows.append([line[start + 1:end].strip() for start, end in columns])
    return rows


def fault(response):
    """``(status, message)`` of an error answer."""
    (body,) = response.json().values()
    return response.status_code, body["message"]


def as_role(client, role, project="demo"):
    """A user of ``project`` with Keystone's roles for ``role`` (admin,
    member or reader), in noauth2 mode."""
    roles = {"admin": "admin,member,reader", "member": "member,reader", "reader": "reader"}
    token = "admin:admin" if role == "admin" else f"{role}-user:{project}"
    user = make_client_like(client, token)
    user.session.headers["X-Roles"] = roles[role]
    return user


@contextlib.contextmanager
def image_service_running():
    """mininova-image on waitress, on an ephemeral port, as [glance] api_servers."""
    server = service.WSGIService("mininova-image", image_app.create_app(), "127.0.0.1", 0, 4)
    server.start()
    CONF.set_override("api_servers", [f"http://127.0.0.1:{server.port}"], "glance")
    try:
        yield server
    finally:
        CONF.clear_override("api_servers", "glance")
        server.stop()
