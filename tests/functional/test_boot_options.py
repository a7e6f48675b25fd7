"""POST /servers as real clients send it: the image boot disk in
block_device_mapping_v2 (``openstack server create --image``; every other
mapping: test_block_device_mapping.py), and ``networks`` before and from
microversion 2.37 (without a network service: no interface, or a clear
400)."""

import pytest

from mininova.api.openstack.compute import boot_options
from tests.functional import helpers
from tests.functional.helpers import api, fault

# Servers booted here finish building before the cloud stops.
pytestmark = pytest.mark.usefixtures("builds_settle")


def boot_disk(image_id, **changes):
    mapping = {"boot_index": 0, "uuid": image_id, "source_type": "image",
               "destination_type": "local", "delete_on_termination": True}
    mapping.update(changes)
    return mapping


def post(client, server, version=None):
    return api(client, "POST", "/servers", version, json={"server": server})


def server_body(image, **fields):
    return dict({"name": "vm", "flavorRef": "42", "imageRef": image["id"]}, **fields)


def test_the_image_boot_disk_boots_with_image_ref(demo, image):
    server = server_body(image, block_device_mapping_v2=[boot_disk(image["id"])])
    response = post(demo, server)
    assert response.status_code == 202, response.text
    built = helpers.wait_for_status(demo, response.json()["server"]["id"], "ACTIVE")
    assert built["image"]["id"] == image["id"]


@pytest.mark.parametrize("image_ref", ["", None])
def test_the_image_boot_disk_needs_image_ref(demo, image, image_ref):
    """Nova maps an image to a local disk only as the root of an image boot."""
    server = {"name": "vm", "flavorRef": "42",
              "block_device_mapping_v2": [boot_disk(image["id"])]}
    if image_ref is not None:
        server["imageRef"] = image_ref
    assert fault(post(demo, server)) == (
        400, "Block Device Mapping is Invalid: Mapping image to local is not supported.")


def test_the_boot_index_may_be_a_string(demo, image):
    server = server_body(image, block_device_mapping_v2=[boot_disk(image["id"],
                                                                   boot_index="0")])
    assert post(demo, server).status_code == 202


def test_an_unknown_mapping_key_is_named(demo, image):
    mapping = boot_disk(image["id"], colour="red")
    status, message = fault(post(demo, server_body(image, block_device_mapping_v2=[mapping])))
    assert status == 400 and "'colour' was unexpected" in message


def test_without_image_or_boot_disk_image_ref_is_missing(demo):
    assert fault(post(demo, {"name": "vm", "flavorRef": "42"})) == (
        400, "Missing imageRef attribute")
    assert fault(post(demo, {"name": "vm", "flavorRef": "42", "imageRef": ""})) == (
        400, "Missing imageRef attribute")


# --- networks -------------------------------------------------------------------------------

@pytest.mark.parametrize("version, networks", [
    (None, None), (None, []), ("2.36", []),
    ("2.37", "auto"), ("2.37", "none"), ("2.79", "none"), ("2.37", []),
])
def test_no_network_interface(demo, image, version, networks):
    fields = {} if networks is None else {"networks": networks}
    response = post(demo, server_body(image, **fields), version)
    assert response.status_code == 202, response.text
    server = helpers.wait_for_status(demo, response.json()["server"]["id"], "ACTIVE")
    assert server["addresses"] == {}


def test_networks_are_required_from_2_37(demo, image):
    status, message = fault(post(demo, server_body(image), "2.37"))
    assert status == 400
    assert message.startswith("Invalid input for field/attribute server.")
    assert message.endswith("'networks' is a required property")
    assert post(demo, server_body(image), "2.36").status_code == 202


def test_auto_and_none_need_2_37(demo, image):
    status, message = fault(post(demo, server_body(image, networks="auto"), "2.36"))
    assert status == 400
    assert message == ("Invalid input for field/attribute networks. Value: auto. "
                       "'auto' is not of type 'array'")


@pytest.mark.parametrize("version", [None, "2.37"])
@pytest.mark.parametrize("networks", [
    [{"uuid": "6f1e2a86-5f8b-4d0b-9a4e-4c9bf3f1c7a2"}],
    [{"port": "6f1e2a86-5f8b-4d0b-9a4e-4c9bf3f1c7a2"}],
])
def test_naming_networks_or_ports_is_not_available_yet(demo, image, networks, version):
    assert fault(post(demo, server_body(image, networks=networks), version)) == (
        400, boot_options.NO_NETWORKING)
    assert demo.list_servers() == []


def test_a_network_uuid_must_be_a_uuid_from_2_37(demo, image):
    status, _message = fault(post(demo, server_body(image, networks=[{"uuid": "net1"}]),
                                  "2.37"))
    assert status == 400


def test_openstackclients_body_for_server_create_image(demo, image):
    """What ``openstack server create --image tiny --flavor m1.nano vm``
    sends at the newest microversion."""
    server = {"name": "vm", "imageRef": image["id"], "flavorRef": "42", "min_count": 1,
              "max_count": 1, "networks": "auto",
              "block_device_mapping_v2": [boot_disk(image["id"])]}
    response = post(demo, server, "2.79")
    assert response.status_code == 202, response.text
    helpers.wait_for_status(demo, response.json()["server"]["id"], "ACTIVE")
