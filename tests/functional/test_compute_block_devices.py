"""The compute's side of block devices, in the in-process cloud (fake
driver, the real mininova-volume): boots from volumes of every source, the
names the disks get, attach and detach through the compute's RPC methods,
the delete honouring delete_on_termination, a failed build leaving no
attachment and no volume of its own, and a restart settling an attach the
old process did not finish."""

import pytest
from oslo_log import formatters

from mininova import context as mn_context
from mininova.compute import rpcapi as compute_rpcapi
from mininova.conf import CONF
from tests.functional import helpers
from tests.functional.block_devices import Volumes, image_root, rows, volume_boot
from tests.functional.helpers import api

pytestmark = pytest.mark.usefixtures("builds_settle")


@pytest.fixture
def volumes(cloud):
    # A volume made by the build is looked at every second, not every 3.
    CONF.set_override("block_device_allocate_retries_interval", 1)
    return Volumes(cloud)


@pytest.fixture
def log_lines():
    capture = helpers.LogCapture(formatters.ContextFormatter())
    yield capture.lines
    capture.remove()


@pytest.fixture
def compute(cloud):
    return cloud.computes["host1"].manager


def boot(client, mappings, image=None, flavor="42"):
    server = {"name": "vm", "flavorRef": flavor, "block_device_mapping_v2": mappings}
    if image is not None:
        server["imageRef"] = image["id"]
    response = api(client, "POST", "/servers", json={"server": server})
    assert response.status_code == 202, response.text
    return response.json()["server"]["id"]


def guest(compute, server_id):
    return compute.driver.instances[server_id]


def delete(client, server_id):
    client.delete_server(server_id)
    helpers.wait_for_gone(client, server_id)


def test_boot_from_an_image_backed_volume(demo, image, volumes, compute, log_lines):
    server_id = boot(demo, [{"boot_index": 0, "uuid": image["id"], "source_type": "image",
                             "destination_type": "volume", "volume_size": 1,
                             "delete_on_termination": True, "device_name": "/dev/sdz"}])
    helpers.wait_for_status(demo, server_id, "ACTIVE")
    [root] = rows(server_id)
    assert root["device_name"] == "/dev/vda"
    assert root["volume_id"] and root["attachment_id"]
    assert root["connection_info"]["driver_volume_type"] == "nbd"
    assert root["connection_info"]["serial"] == root["volume_id"]
    volume = volumes.get(root["volume_id"])
    assert volume["status"] == "in-use" and volume["bootable"] == "true"
    assert guest(compute, server_id)["volumes"] == {"/dev/vda": root["volume_id"]}
    log = "\n".join(log_lines())
    assert f"Booting with volume-backed-image {image['id']} at /dev/vda" in log
    assert ("Ignoring supplied device name: /dev/sdz. Libvirt can't honour "
            "user-supplied dev names") in log
    delete(demo, server_id)
    # delete_on_termination: the volume goes with the server.
    helpers.wait_until(lambda: volumes.gone(root["volume_id"]), bool,
                       what="the volume deleted")


def test_boot_from_an_existing_volume_keeps_it(demo, image, volumes, compute):
    volume = volumes.create(imageRef=image["id"])
    server_id = boot(demo, [volume_boot(volume["id"])])
    helpers.wait_for_status(demo, server_id, "ACTIVE")
    assert volumes.get(volume["id"])["status"] == "in-use"
    delete(demo, server_id)
    assert volumes.get(volume["id"])["status"] == "available"


def test_every_source_with_swap_and_ephemeral(demo, image, volumes, compute, admin):
    admin.create_flavor("eph.swap", 64, 1, 1, flavor_id="77", ephemeral=1, swap=64)
    snapshot = volumes.snapshot(volumes.create()["id"])
    server_id = boot(demo, [
        image_root(image["id"]),
        {"boot_index": 1, "uuid": snapshot["id"], "source_type": "snapshot",
         "destination_type": "volume", "delete_on_termination": True},
        {"boot_index": -1, "source_type": "blank", "destination_type": "volume",
         "volume_size": 1, "delete_on_termination": True}], image=image, flavor="77")
    helpers.wait_for_status(demo, server_id, "ACTIVE")
    names = {(r["source_type"], r["destination_type"], r["guest_format"]): r["device_name"]
             for r in rows(server_id)}
    # Nova's order: root, ephemerals, swap, volumes.
    assert names == {("image", "local", None): "/dev/vda",
                     ("blank", "local", None): "/dev/vdb",
                     ("blank", "local", "swap"): "/dev/vdc",
                     ("snapshot", "volume", None): "/dev/vdd",
                     ("blank", "volume", None): "/dev/vde"}
    made = [r["volume_id"] for r in rows(server_id) if r["destination_type"] == "volume"]
    assert all(volumes.get(v)["status"] == "in-use" for v in made)
    fake = guest(compute, server_id)
    assert fake["local_disks"] == {"/dev/vdb": "disk.eph0", "/dev/vdc": "disk.swap"}
    assert set(fake["volumes"]) == {"/dev/vdd", "/dev/vde"}
    delete(demo, server_id)
    for volume_id in made:
        helpers.wait_until(lambda v=volume_id: volumes.gone(v), bool, what="volume deleted")


def test_attach_and_detach_through_the_compute(demo, image, volumes, compute):
    server_id = boot(demo, [image_root(image["id"])], image=image)
    instance = dict(helpers.wait_for_status(demo, server_id, "ACTIVE"),
                    uuid=server_id, host="host1")
    volume = volumes.create()
    ctxt = mn_context.RequestContext(user_id="demo", project_id="demo")
    rpc = compute_rpcapi.ComputeAPI()
    bdm = rpc.reserve_block_device_name(ctxt, instance, "/dev/vdq", volume["id"], None,
                                        None, "data")
    assert bdm["device_name"] == "/dev/vdb" and bdm["tag"] == "data"
    attachment = volumes.reserve(volume["id"], server_id)
    compute.conductor_api.block_device_mapping_update(ctxt, bdm["id"],
                                                      {"attachment_id": attachment["id"]})
    rpc.attach_volume(ctxt, instance, dict(bdm, attachment_id=attachment["id"]))
    volumes.wait_status(volume["id"], "in-use")
    assert guest(compute, server_id)["volumes"] == {"/dev/vdb": volume["id"]}

    api_volumes = compute.volume_api
    api_volumes.begin_detaching(ctxt, volume["id"])
    rpc.detach_volume(ctxt, instance, volume["id"], attachment["id"])
    volumes.wait_status(volume["id"], "available")
    assert guest(compute, server_id)["volumes"] == {}
    # Nova's order: the attachment is deleted (the volume is available),
    # then the compute destroys the row, a moment later.
    helpers.wait_until(lambda: [r["source_type"] for r in rows(server_id)],
                       lambda sources: sources == ["image"], what="the volume's row destroyed")
    delete(demo, server_id)


def test_a_failed_hot_plug_gives_the_volume_back(demo, image, volumes, compute):
    server_id = boot(demo, [image_root(image["id"])], image=image)
    instance = dict(helpers.wait_for_status(demo, server_id, "ACTIVE"),
                    uuid=server_id, host="host1")
    volume = volumes.create()
    ctxt = mn_context.RequestContext(user_id="demo", project_id="demo")
    bdm = compute.reserve_block_device_name(ctxt, instance, None, volume["id"])
    attachment = volumes.reserve(volume["id"], server_id)
    compute.conductor_api.block_device_mapping_update(ctxt, bdm["id"],
                                                      {"attachment_id": attachment["id"]})
    compute.driver.fail_next("attach_volume")
    compute.attach_volume(ctxt, instance, bdm)
    assert volumes.get(volume["id"])["status"] == "available"
    assert [r["source_type"] for r in rows(server_id)] == ["image"]
    delete(demo, server_id)


def test_a_failed_build_leaves_no_attachment_and_no_volume_of_its_own(demo, image,
                                                                      volumes, compute):
    mine = volumes.create(imageRef=image["id"])
    compute.driver.fail_next("spawn")
    server_id = boot(demo, [volume_boot(mine["id"]),
                            {"boot_index": -1, "source_type": "blank",
                             "destination_type": "volume", "volume_size": 1}])
    failed = helpers.wait_for_status(demo, server_id, "ERROR")
    assert "fake driver: spawn failed" in failed["fault"]["message"]
    assert volumes.get(mine["id"])["status"] == "available"
    blank = [r for r in rows(server_id) if r["source_type"] == "blank"][0]
    assert blank["volume_id"] is None and blank["attachment_id"] is None
    listed = volumes.session.get(f"{volumes.url}/volumes").json()["volumes"]
    assert [v["id"] for v in listed] == [mine["id"]]
    delete(demo, server_id)
    assert volumes.get(mine["id"])["status"] == "available"


def test_a_volume_the_service_cannot_make_aborts_the_build(demo, image, volumes, compute):
    # A volume from a snapshot whose creation ends in error.
    volume = volumes.create(imageRef=image["id"])
    snapshot = volumes.snapshot(volumes.create()["id"])
    server_id = boot(demo, [volume_boot(volume["id"]),
                            {"boot_index": 1, "uuid": snapshot["id"],
                             "source_type": "snapshot", "destination_type": "volume",
                             "volume_size": 1}])
    compute_volumes = compute.volume_api
    original_get = compute_volumes.get

    def creation_fails(ctxt, volume_id, microversion=None):
        found = original_get(ctxt, volume_id, microversion)
        return dict(found, status="error") if volume_id != volume["id"] else found
    compute_volumes.get = creation_fails
    try:
        failed = helpers.wait_for_status(demo, server_id, "ERROR")
    finally:
        compute_volumes.get = original_get
    assert failed["fault"]["message"] == (
        f"Build of instance {server_id} aborted: Failure prepping block device.")
    assert volumes.get(volume["id"])["status"] == "available"
    delete(demo, server_id)


def test_restart_settles_an_attach_the_old_process_did_not_finish(demo, image, volumes,
                                                                  compute):
    server_id = boot(demo, [image_root(image["id"])], image=image)
    instance = dict(helpers.wait_for_status(demo, server_id, "ACTIVE"),
                    uuid=server_id, host="host1")
    ctxt = mn_context.RequestContext(user_id="demo", project_id="demo")
    reserved, attaching = volumes.create(), volumes.create()
    for volume in (reserved, attaching):
        bdm = compute.reserve_block_device_name(ctxt, instance, None, volume["id"])
        attachment = volumes.reserve(volume["id"], server_id)
        compute.conductor_api.block_device_mapping_update(
            ctxt, bdm["id"], {"attachment_id": attachment["id"]})
        if volume is attaching:
            # Killed between the attachment update and os-complete.
            compute.volume_api.attachment_update(
                ctxt, attachment["id"], compute.driver.get_volume_connector(instance),
                bdm["device_name"])
    assert volumes.get(attaching["id"])["status"] == "attaching"
    compute.init_host()
    for volume in (reserved, attaching):
        assert volumes.get(volume["id"])["status"] == "available"
    assert [r["source_type"] for r in rows(server_id)] == ["image"]
    delete(demo, server_id)


def test_a_server_with_ephemeral_or_swap_does_not_move(demo, admin, image, volumes):
    admin.create_flavor("eph.swap", 64, 1, 1, flavor_id="77", ephemeral=1, swap=64)
    server_id = boot(demo, [image_root(image["id"])], image=image, flavor="77")
    helpers.wait_for_status(demo, server_id, "ACTIVE")
    response = helpers.server_action(admin, server_id, {"migrate": None})
    assert response.status_code == 409, response.text
    assert "while it has ephemeral or swap disks" in response.text
    delete(demo, server_id)
