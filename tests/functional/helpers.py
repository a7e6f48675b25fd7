"""Waiting helpers for the functional tests: builds run in other threads."""

import io
import logging
import time

from mininova.cli.client import Client, ClientException

TIMEOUT = 20


def wait_for_status(client, server_id, status, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        server = client.get_server(server_id)
        if server["status"] == status:
            return server
        if time.monotonic() > deadline:
            raise AssertionError(f"server {server_id} is {server['status']}, not {status}: "
                                 f"{server.get('fault')}")
        time.sleep(0.02)


def wait_for_task(client, server_id, task_state, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while client.get_server(server_id)["OS-EXT-STS:task_state"] != task_state:
        if time.monotonic() > deadline:
            raise AssertionError(f"server {server_id} never reached task {task_state}")
        time.sleep(0.01)


def wait_for_gone(client, server_id, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.get_server(server_id)
        except ClientException as exc:
            if exc.code == 404:
                return
            raise
        if time.monotonic() > deadline:
            raise AssertionError(f"server {server_id} was not deleted")
        time.sleep(0.02)


def wait_for_all(client, count, status, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        servers = client.list_servers()
        if len(servers) == count and all(s["status"] == status for s in servers):
            return servers
        if time.monotonic() > deadline:
            raise AssertionError(f"servers: {[(s['name'], s['status']) for s in servers]}")
        time.sleep(0.02)


def wait_until(fetch, done, timeout=TIMEOUT):
    """``fetch()`` again and again until ``done(value)``; return the value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still not done: {value!r}")
        time.sleep(0.02)


def wait_for_memory_used(client, memory_mb_used, timeout=TIMEOUT):
    """The compute reports freed resources just after the row changes."""
    deadline = time.monotonic() + timeout
    while client.list_hypervisors(detailed=True)[0]["memory_mb_used"] != memory_mb_used:
        if time.monotonic() > deadline:
            raise AssertionError(f"memory_mb_used never became {memory_mb_used}")
        time.sleep(0.02)


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
