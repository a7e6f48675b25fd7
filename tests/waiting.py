"""Waiting for the cloud: builds and deletes run in other threads and
processes, so the tests poll the API until what they expect is there."""

import time

from mininova.cli.client import ClientException

TIMEOUT = 120
INTERVAL = 0.05


def wait_until(fetch, done, timeout=TIMEOUT, interval=INTERVAL, what="the condition"):
    """``fetch()`` again and again until ``done(value)``; return the value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached after {timeout} s: {value!r}")
        time.sleep(interval)


def wait_for_status(client, server_id, status, timeout=TIMEOUT):
    """The server once it has ``status``; fails at once if the build ends
    in another status (ERROR while waiting for ACTIVE), with its fault."""
    def settled(server):
        if server["status"] not in ("BUILD", status):
            raise AssertionError(f"server {server_id} is {server['status']}, expected "
                                 f"{status}: {server.get('fault')}")
        return server["status"] == status
    return wait_until(lambda: client.get_server(server_id), settled, timeout,
                      what=f"status {status} of server {server_id}")


def server_or_none(client, server_id):
    try:
        return client.get_server(server_id)
    except ClientException as exc:
        if exc.code == 404:
            return None
        raise


def wait_for_gone(client, server_id, timeout=TIMEOUT):
    wait_until(lambda: server_or_none(client, server_id), lambda server: server is None,
               timeout, what=f"deletion of server {server_id}")


def wait_for_settled(client, server_id, status, timeout=TIMEOUT):
    """The server once it has ``status`` and no task left: an action (stop,
    resize...) has finished. Fails at once on an ERROR that was not asked for."""
    def settled(server):
        if server["status"] == "ERROR" and status != "ERROR":
            raise AssertionError(f"server {server_id} went to ERROR: {server.get('fault')}")
        return server["status"] == status and server["OS-EXT-STS:task_state"] is None
    return wait_until(lambda: client.get_server(server_id), settled, timeout,
                      what=f"status {status} with no task of server {server_id}")
