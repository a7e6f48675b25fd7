"""Attachments with real NBD exports: qemu-storage-daemon started per
attachment, read and written over NBD with qemu-io and qemu-img as a
compute's QEMU would, closed (killed and reaped) on detach, surviving a
reattach and a restart of the volume service."""

import logging
import os
import signal
import socket

import pytest

from mininova.conf import CONF
from mininova.volume.service import app as volume_app
from mininova.volume.service import db, nbd
from tests.functional.volume.helpers import (
    ADMIN,
    GIB,
    MIB,
    daemons_under,
    fault,
    nbd_url,
    pattern_reads_back,
    qemu_img_info,
    qemu_io,
)

SERVER_A = "5e7a0000-0000-4000-8000-00000000000a"
SERVER_B = "5e7a0000-0000-4000-8000-00000000000b"


def target(app):
    return app.extensions["mininova-volume"].manager.target


def running(pid):
    return nbd._running(pid)


def detach(http, volume_id, attachment_id):
    """Nova's detach: begin_detaching, then the attachment deleted."""
    assert http.post(f"/volumes/{volume_id}/action",
                     json={"os-begin_detaching": None}).status_code == 202
    assert http.volume(volume_id)["status"] == "detaching"
    response = http.delete(f"/attachments/{attachment_id}")
    assert response.status_code == 200, response.get_json()


def test_attach_exports_the_volume_over_nbd(http, app, tmp_path):
    volume = http.create_volume()
    attachment = http.attach(volume["id"], SERVER_A)

    info = attachment["connection_info"]
    assert attachment["status"] == "attaching"  # the PUT's answer; completed after
    assert info["driver_volume_type"] == "nbd"
    assert info["name"] == f"volume-{volume['id']}"
    assert info["host"] == "127.0.0.1" and info["hosts"] == ["127.0.0.1"]
    assert CONF.volume.nbd_port_min <= info["port"] <= CONF.volume.nbd_port_max
    assert info["ports"] == [str(info["port"])]
    assert info["attachment_id"] == attachment["id"] and info["volume_id"] == volume["id"]

    described = qemu_img_info(nbd_url(info))
    assert "file format: raw" in described and "virtual size: 1 GiB" in described
    qemu_io(nbd_url(info), f"write -P 0x7c 0 {MIB}")
    assert pattern_reads_back(str(tmp_path / "volumes" / f"volume-{volume['id']}"),
                              "0x7c", 0, MIB)

    shown = http.volume(volume["id"])
    assert (shown["status"], shown["attachments"][0]["server_id"]) == ("in-use", SERVER_A)
    (listed,) = shown["attachments"]
    assert listed["attachment_id"] == attachment["id"] and listed["device"] == "/dev/vdb"
    assert listed["host_name"] is None  # the admin's (and services') to see
    assert http.volume(volume["id"], user=ADMIN)["attachments"][0]["host_name"] == "compute1"
    complete = http.get(f"/attachments/{attachment['id']}").get_json()["attachment"]
    assert complete["status"] == "attached" and complete["attach_mode"] == "rw"
    assert len(daemons_under(str(tmp_path))) == 1


def test_what_an_in_use_volume_refuses(http, tmp_path):
    volume = http.create_volume()
    http.attach(volume["id"], SERVER_A)

    response = http.delete(f"/volumes/{volume['id']}")
    assert fault(response)[:2] == ("badRequest", 400)
    response = http.post("/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": SERVER_B}})
    assert fault(response) == ("badRequest", 400,
                               f"Invalid volume: Volume {volume['id']} status must be "
                               f"available to reserve, but the current status is in-use.")
    response = http.post(f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 2}})
    assert fault(response) == ("badRequest", 400,
                               f"Invalid volume: Volume {volume['id']} status must be "
                               f"'{{'status': 'available'}}' to extend, currently in-use.")
    response = http.post("/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    assert fault(response)[:2] == ("badRequest", 400)
    snapshot = http.create_snapshot(volume["id"], force=True)
    assert snapshot["status"] == "available"


def test_detach_closes_the_export_and_reattach_sees_the_data(http, app, tmp_path):
    volume = http.create_volume()
    first = http.attach(volume["id"], SERVER_A)
    qemu_io(nbd_url(first["connection_info"]), f"write -P 0x3d {GIB - MIB} {MIB}")
    (pid,) = daemons_under(str(tmp_path))

    detach(http, volume["id"], first["id"])

    assert not running(pid)
    assert daemons_under(str(tmp_path)) == []
    assert os.listdir(tmp_path / "volumes" / "exports") == []
    assert http.volume(volume["id"])["status"] == "available"
    assert http.volume(volume["id"])["attachments"] == []

    second = http.attach(volume["id"], SERVER_B)
    assert pattern_reads_back(nbd_url(second["connection_info"]), "0x3d", GIB - MIB, MIB)
    detach(http, volume["id"], second["id"])
    assert daemons_under(str(tmp_path)) == []


def test_a_retried_update_keeps_its_export(http, app, tmp_path):
    volume = http.create_volume()
    created = http.post("/attachments", json={"attachment": {
        "volume_uuid": volume["id"], "instance_uuid": SERVER_A,
        "connector": {"host": "compute1"}}}).get_json()["attachment"]
    # A connector in the create does the update's work at once.
    assert created["status"] == "attaching" and created["connection_info"]["port"]
    again = http.put(f"/attachments/{created['id']}", json={"attachment": {
        "connector": {"host": "compute1"}}}).get_json()["attachment"]
    assert again["connection_info"] == created["connection_info"]
    assert len(daemons_under(str(tmp_path))) == 1


def test_an_export_that_cannot_open_leaves_the_volume_reserved(http, app, tmp_path):
    # The only port of the range is taken by someone else.
    CONF.set_override("nbd_port_max", CONF.volume.nbd_port_min, "volume")
    target(app).port_max = CONF.volume.nbd_port_min
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", CONF.volume.nbd_port_min))
        squatter.listen()
        volume = http.create_volume()
        attachment = http.post("/attachments", json={"attachment": {
            "volume_uuid": volume["id"], "instance_uuid": SERVER_A}}).get_json()["attachment"]
        response = http.put(f"/attachments/{attachment['id']}", json={"attachment": {
            "connector": {"host": "compute1"}}})

    name, code, message = fault(response)
    assert (name, code) == ("computeFault", 500)
    assert message.startswith("Unable to update attachment (Failed to export volume")
    assert "no free port left" in message
    assert http.volume(volume["id"])["status"] == "reserved"  # never attaching
    shown = http.get(f"/attachments/{attachment['id']}").get_json()["attachment"]
    assert shown["status"] == "error_attaching"
    http.delete(f"/attachments/{attachment['id']}")
    assert http.volume(volume["id"])["status"] == "available"
    assert daemons_under(str(tmp_path)) == []


def test_exports_survive_a_restart_of_the_volume_service(http, app, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="mininova")
    volume = http.create_volume()
    attachment = http.attach(volume["id"], SERVER_A)
    url = nbd_url(attachment["connection_info"])
    qemu_io(url, f"write -P 0x61 0 {MIB}")
    (pid,) = daemons_under(str(tmp_path))
    app.extensions["mininova-volume"].manager.stop()

    restarted = volume_app.create_app()
    try:
        # The same daemon, adopted: the guest's I/O never stopped.
        assert daemons_under(str(tmp_path)) == [pid]
        assert any("Adopted the NBD export" in r.getMessage() for r in caplog.records)
        assert pattern_reads_back(url, "0x61", 0, MIB)
        http.client = restarted.test_client()
        detach(http, volume["id"], attachment["id"])
        assert not running(pid)
    finally:
        restarted.extensions["mininova-volume"].manager.stop()


def test_an_export_gone_with_the_service_is_reopened_on_its_port(http, app, tmp_path):
    volume = http.create_volume()
    attachment = http.attach(volume["id"], SERVER_A)
    port = attachment["connection_info"]["port"]
    qemu_io(nbd_url(attachment["connection_info"]), f"write -P 0x62 0 {MIB}")
    app.extensions["mininova-volume"].manager.stop()
    (pid,) = daemons_under(str(tmp_path))
    os.kill(pid, signal.SIGKILL)  # as a reboot would
    nbd._reap(pid)

    restarted = volume_app.create_app()
    try:
        (new_pid,) = daemons_under(str(tmp_path))
        assert new_pid != pid
        # The connection_info Nova saved is still true.
        assert pattern_reads_back(nbd_url(attachment["connection_info"]), "0x62", 0, MIB)
        assert f"addr.port={port}" in open(f"/proc/{new_pid}/cmdline").read().replace(
            "\0", " ")
        assert http.volume(volume["id"])["status"] == "in-use"
    finally:
        restarted.extensions["mininova-volume"].manager.stop()


def test_a_daemon_no_attachment_owns_is_stopped_at_start(http, app, tmp_path):
    volume = http.create_volume()
    attachment = http.attach(volume["id"], SERVER_A)
    (pid,) = daemons_under(str(tmp_path))
    engine = app.extensions["mininova-volume"].engine
    db.attachment_destroy(engine, attachment["id"])  # behind the manager's back
    app.extensions["mininova-volume"].manager.stop()

    restarted = volume_app.create_app()
    try:
        assert not running(pid)
        assert daemons_under(str(tmp_path)) == []
    finally:
        restarted.extensions["mininova-volume"].manager.stop()


@pytest.mark.parametrize("attach_status", ["detached"])
def test_reset_status_detached_closes_the_exports(http, tmp_path, attach_status):
    volume = http.create_volume()
    http.attach(volume["id"], SERVER_A)
    assert len(daemons_under(str(tmp_path))) == 1
    http.post(f"/volumes/{volume['id']}/action", user=ADMIN, json={
        "os-reset_status": {"status": "available", "attach_status": attach_status}})
    assert daemons_under(str(tmp_path)) == []
    assert http.volume(volume["id"])["attachments"] == []
