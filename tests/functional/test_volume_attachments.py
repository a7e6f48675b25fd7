"""``os-volume_attachments`` and the volumes in a server's body, with the
in-process cloud's real mininova-volume: list and show per microversion,
the answers Nova gives to a bad attach or detach, the server's
``os-extended-volumes:volumes_attached`` and its ``image`` ("" when booted
from a volume), the API's own volume clean-up when it deletes a server
whose compute is down, and the actions refused for servers with volumes.

Attaching to and detaching from a running guest goes through the compute
(``reserve_block_device_name``, ``attach_volume``, ``detach_volume``): those
tests run when the compute side is there (the bdm-compute branch) and are
skipped, saying so, when it is not."""

import uuid

import pytest

from mininova import context as mn_context
from mininova.compute import manager as compute_manager
from mininova.conf import CONF
from mininova.db import api as db
from tests.functional import helpers
from tests.functional.block_devices import Volumes, rows, volume_boot
from tests.functional.helpers import api, fault

pytestmark = pytest.mark.usefixtures("builds_settle")

needs_compute_side = pytest.mark.skipif(
    not hasattr(compute_manager.ComputeManager, "reserve_block_device_name"),
    reason="the compute's attach and detach (reserve_block_device_name, attach_volume, "
           "detach_volume) are not on this branch")


@pytest.fixture
def volumes(cloud):
    return Volumes(cloud)


@pytest.fixture
def bootable(volumes, image):
    def make(size=1):
        return volumes.create(size=size, imageRef=image["id"])
    return make


def boot(client, body, version=None):
    response = api(client, "POST", "/servers", version, json={"server": dict(
        {"name": "vm", "flavorRef": "42"}, **body)})
    assert response.status_code == 202, response.text
    return helpers.wait_for_status(client, response.json()["server"]["id"], "ACTIVE")


@pytest.fixture
def bfv(demo, bootable):
    """An ACTIVE server booted from a volume (delete_on_termination true)."""
    volume = bootable()
    server = boot(demo, {"networks": "auto", "block_device_mapping_v2": [
        volume_boot(volume["id"], delete_on_termination=True, tag="root")]}, "2.42")
    return server, volume


@pytest.fixture
def server(demo, image):
    return boot(demo, {"imageRef": image["id"]})


def attachments(client, server_id, version=None):
    response = api(client, "GET", f"/servers/{server_id}/os-volume_attachments", version)
    assert response.status_code == 200, response.text
    return response.json()["volumeAttachments"]


def attach(client, server_id, volume_id, version=None, **fields):
    return api(client, "POST", f"/servers/{server_id}/os-volume_attachments", version,
               json={"volumeAttachment": dict({"volumeId": volume_id}, **fields)})


def detach(client, server_id, volume_id, version=None):
    return api(client, "DELETE", f"/servers/{server_id}/os-volume_attachments/{volume_id}",
               version)


# --- list, show and the server's body ------------------------------------------------------

@pytest.mark.parametrize("version, extra", [
    (None, {}), ("2.70", {"tag": "root"}),
    ("2.79", {"tag": "root", "delete_on_termination": True})])
def test_list_and_show_per_microversion(demo, bfv, version, extra):
    server, volume = bfv
    expected = dict({"id": volume["id"], "volumeId": volume["id"], "serverId": server["id"]},
                    **extra)
    [listed] = attachments(demo, server["id"], version)
    listed.pop("device", None)  # the compute names it when it attaches
    assert listed == expected
    response = api(demo, "GET", f"/servers/{server['id']}/os-volume_attachments/"
                                f"{volume['id']}", version)
    shown = response.json()["volumeAttachment"]
    shown.pop("device", None)
    assert shown == expected


def test_an_image_boot_lists_no_attachment(demo, server):
    assert attachments(demo, server["id"]) == []


def test_show_of_a_volume_the_server_does_not_have(demo, server):
    missing = str(uuid.uuid4())
    response = api(demo, "GET", f"/servers/{server['id']}/os-volume_attachments/{missing}")
    assert fault(response) == (
        404, f"Instance {server['id']} is not attached to volume {missing}")


def test_another_projects_server_is_not_found(cloud, bfv):
    server, _volume = bfv
    other = helpers.make_client(cloud, "other:other")
    response = api(other, "GET", f"/servers/{server['id']}/os-volume_attachments")
    assert response.status_code == 404


def test_the_server_body_shows_its_volumes_and_no_image(demo, bfv):
    server, volume = bfv
    assert server["image"] == ""
    assert server["os-extended-volumes:volumes_attached"] == [{"id": volume["id"]}]
    shown = api(demo, "GET", f"/servers/{server['id']}", "2.3").json()["server"]
    assert shown["os-extended-volumes:volumes_attached"] == [
        {"id": volume["id"], "delete_on_termination": True}]
    [listed] = [s for s in api(demo, "GET", "/servers/detail", "2.79").json()["servers"]
                if s["id"] == server["id"]]
    assert listed["os-extended-volumes:volumes_attached"] == [
        {"id": volume["id"], "delete_on_termination": True}]


def test_an_image_boot_shows_its_image_and_no_volume(demo, server, image):
    assert server["image"]["id"] == image["id"]
    assert server["os-extended-volumes:volumes_attached"] == []


# --- what an attach or a detach is refused -------------------------------------------------

def test_attach_an_unknown_volume(demo, server):
    missing = str(uuid.uuid4())
    assert fault(attach(demo, server["id"], missing)) == (
        404, f"Volume {missing} could not be found.")


def test_attach_a_volume_another_server_has(demo, bfv, server):
    _bfv_server, volume = bfv
    assert fault(attach(demo, server["id"], volume["id"])) == (
        400, f"Invalid volume: volume {volume['id']} is already attached to instances: "
             f"{_bfv_server['id']}")


def test_attach_a_volume_the_server_has(demo, bfv):
    server, volume = bfv
    assert fault(attach(demo, server["id"], volume["id"])) == (
        400, f"Invalid volume: volume {volume['id']} already attached")


def test_attach_with_a_device_path_nova_refuses(demo, server, volumes):
    volume = volumes.create()
    assert fault(attach(demo, server["id"], volume["id"], device="vdb")) == (
        400, "Invalid input for field/attribute device. Value: vdb. 'vdb' does not match "
             "'(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'")


def test_attach_fields_of_later_microversions(demo, server, volumes):
    volume = volumes.create()
    status, message = fault(attach(demo, server["id"], volume["id"], "2.48", tag="data"))
    assert status == 400 and "'tag' was unexpected" in message
    status, message = fault(attach(demo, server["id"], volume["id"], "2.78",
                                   delete_on_termination=True))
    assert status == 400 and "'delete_on_termination' was unexpected" in message


def test_attach_to_a_locked_server(demo, admin, server, volumes):
    volume = volumes.create()
    assert helpers.server_action(admin, server["id"], {"lock": None}).status_code == 202
    assert fault(attach(demo, server["id"], volume["id"])) == (
        409, f"Instance {server['id']} is locked")
    assert volumes.get(volume["id"])["status"] == "available"


def test_attach_to_a_server_in_error(demo, server, volumes):
    volume = volumes.create()
    db.instance_update(mn_context.get_admin_context(), server["id"], {"vm_state": "error"})
    assert fault(attach(demo, server["id"], volume["id"])) == (
        409, f"Cannot 'attach_volume' instance {server['id']} while it is in vm_state error")


def test_a_reader_may_list_but_not_attach(demo, bfv, volumes):
    server, _volume = bfv
    reader = helpers.as_role(demo, "reader")
    assert len(attachments(reader, server["id"])) == 1
    assert attach(reader, server["id"], volumes.create()["id"]).status_code == 403


def test_detach_the_root_volume(demo, bfv):
    server, volume = bfv
    assert fault(detach(demo, server["id"], volume["id"])) == (
        400, "Cannot detach a root device volume")


def test_detach_a_volume_the_server_does_not_have(demo, server, volumes):
    volume = volumes.create()
    assert fault(detach(demo, server["id"], volume["id"])) == (
        404, f"Instance {server['id']} is not attached to volume {volume['id']}")
    missing = str(uuid.uuid4())
    assert fault(detach(demo, server["id"], missing)) == (
        404, f"Volume {missing} could not be found.")


def test_swap_is_not_there(demo, bfv):
    server, volume = bfv
    response = api(demo, "PUT", f"/servers/{server['id']}/os-volume_attachments/"
                                f"{volume['id']}", json={"volumeAttachment": {
                                    "volumeId": volume["id"]}})
    assert response.status_code == 405


# --- actions refused for servers with volumes ---------------------------------------------

@pytest.mark.parametrize("action, body", [
    ("resize", {"resize": {"flavorRef": "1"}}), ("migrate", {"migrate": None}),
    ("rebuild", None), ("createImage", {"createImage": {"name": "snap"}})])
def test_a_volume_backed_server_is_not_moved_rebuilt_or_snapshotted(admin, bfv, image, action,
                                                                     body):
    server, _volume = bfv
    if body is None:
        body = {"rebuild": {"imageRef": image["id"]}}
    response = helpers.server_action(admin, server["id"], body)
    assert fault(response) == (
        409, f"Cannot '{action}' instance {server['id']} while it is booted from a volume: "
             "mininova does not resize, migrate, rebuild or snapshot volume-backed servers.")


# --- the API's own delete -------------------------------------------------------------------

@pytest.mark.hosts("host1", "host2")
@pytest.mark.parametrize("delete_on_termination", [True, False])
def test_a_delete_while_the_compute_is_down_frees_or_deletes_the_volume(
        cloud, demo, admin, bootable, volumes, delete_on_termination):
    volume = bootable()
    server = boot(demo, {"block_device_mapping_v2": [
        volume_boot(volume["id"], delete_on_termination=delete_on_termination)]})
    # Only now: on a busy machine a 1 s heartbeat window could make every
    # host look down to the scheduler.
    CONF.set_override("service_down_time", 1)
    host = admin.get_server(server["id"])["OS-EXT-SRV-ATTR:host"]
    cloud.computes[host].stop()
    helpers.wait_until(lambda: [s for s in admin.list_services()
                                if s["host"] == host and s["binary"] == "mininova-compute"],
                       lambda services: services[0]["state"] == "down", what="compute down")
    demo.delete_server(server["id"])
    assert rows(server["id"]) == []
    if delete_on_termination:
        helpers.wait_until(lambda: volumes.gone(volume["id"]), bool, what="volume deleted")
    else:
        assert volumes.wait_status(volume["id"], "available")["attachments"] == []


# --- attach and detach through the compute --------------------------------------------------

@needs_compute_side
def test_attach_then_detach_a_volume(demo, server, volumes):
    volume = volumes.create()
    response = attach(demo, server["id"], volume["id"], "2.79", tag="data",
                      delete_on_termination=True)
    assert response.status_code == 200, response.text
    attachment = response.json()["volumeAttachment"]
    assert attachment["device"].startswith("/dev/vd") and attachment["tag"] == "data"
    assert attachment["delete_on_termination"] is True
    volumes.wait_status(volume["id"], "in-use")
    [listed] = attachments(demo, server["id"], "2.79")
    assert listed == attachment
    assert detach(demo, server["id"], volume["id"]).status_code == 202
    volumes.wait_status(volume["id"], "available")
    helpers.wait_until(lambda: attachments(demo, server["id"]), lambda found: found == [],
                       what="the attachment gone")


@needs_compute_side
def test_attach_to_a_stopped_server_and_delete_on_termination(demo, server, volumes):
    response = helpers.server_action(demo, server["id"], {"os-stop": None})
    assert response.status_code == 202
    helpers.wait_for_settled(demo, server["id"], "SHUTOFF")
    kept, deleted = volumes.create(), volumes.create()
    for volume, delete in ((kept, False), (deleted, True)):
        assert attach(demo, server["id"], volume["id"], "2.79",
                      delete_on_termination=delete).status_code == 200
        volumes.wait_status(volume["id"], "in-use")
    demo.delete_server(server["id"])
    helpers.wait_for_gone(demo, server["id"])
    assert volumes.wait_status(kept["id"], "available")["attachments"] == []
    helpers.wait_until(lambda: volumes.gone(deleted["id"]), bool, what="volume deleted")
