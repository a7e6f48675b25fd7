"""The metadata API (``mininova/api/metadata/handler.py``) on a server
booted with a port, the whole cloud and the network service in this
process: what the metadata proxy's signed requests get, what a request by
address gets, and Nova's answers to requests that must not get anything."""

import base64
import json
import logging

import pytest

from mininova.api.metadata import handler
from tests.functional.helpers import api, make_client_like, wait_for_status

SECRET = "s3cret"
USER_DATA = b"#!/bin/sh\necho hello from user data\n"


@pytest.fixture
def metadata_api(conf):
    conf.set_override("service_metadata_proxy", True, "neutron")
    conf.set_override("metadata_proxy_shared_secret", SECRET, "neutron")
    return handler.create_app().test_client()


@pytest.fixture
def server(nova, image, demo):
    net, _subnet = demo.network_with_subnet()
    key = make_client_like(nova, "demo:demo").create_keypair(
        "k1", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFX2X1OvcAqW3jqE9Gd3EX8L9g6cbmLRcX"
        "f8DZeICnyu me@host")
    response = api(nova, "POST", "/servers", json={"server": {
        "name": "web1", "flavorRef": "42", "imageRef": image["id"],
        "networks": [{"uuid": net["id"]}], "key_name": "k1", "metadata": {"role": "web"},
        "user_data": base64.b64encode(USER_DATA).decode()}})
    assert response.status_code == 202, response.text
    server = wait_for_status(nova, response.json()["server"]["id"], "ACTIVE")
    [port] = demo.get("ports", device_id=server["id"]).json()["ports"]
    server["ip"] = port["fixed_ips"][0]["ip_address"]
    server["public_key"] = key["public_key"]
    return server


def proxied(metadata_api, path, server, signature=None, tenant=None):
    """A request as the network service's metadata agent sends it."""
    headers = {"X-Instance-ID": server["id"], "X-Tenant-ID": tenant or server["tenant_id"],
               "X-Instance-ID-Signature": signature or handler.sign(server["id"]),
               "X-Forwarded-For": server["ip"]}
    return metadata_api.get(path, headers=headers)


def test_the_proxy_gets_the_servers_files(metadata_api, server):
    listing = proxied(metadata_api, "/openstack", server)
    assert (listing.status_code, listing.text, listing.mimetype) == (200, "latest", "text/plain")
    files = proxied(metadata_api, "/openstack/latest", server).text.split("\n")
    assert files == ["meta_data.json", "user_data", "vendor_data.json", "network_data.json",
                     "vendor_data2.json"]
    meta = proxied(metadata_api, "/openstack/latest/meta_data.json", server)
    assert meta.mimetype == "application/json"
    meta = meta.get_json()
    assert (meta["uuid"], meta["name"], meta["meta"]) == (server["id"], "web1",
                                                           {"role": "web"})
    assert meta["public_keys"] == {"k1": server["public_key"]}
    assert meta["project_id"] == server["tenant_id"]
    assert proxied(metadata_api, "/openstack/latest/user_data", server).data == USER_DATA
    network = proxied(metadata_api, "/openstack/latest/network_data.json", server).get_json()
    assert [n["ip_address"] for n in network["networks"]] == [server["ip"]]


def test_a_path_outside_the_tree_is_a_404(metadata_api, server):
    for path in ("/", "/latest/meta-data/", "/openstack/2012-08-10/meta_data.json",
                 "/openstack/latest/password", "/openstack/latest/nothing"):
        assert proxied(metadata_api, path, server).status_code == 404, path


@pytest.mark.parametrize("missing", ["X-Instance-ID", "X-Instance-ID-Signature",
                                     "X-Tenant-ID"])
def test_a_request_without_a_proxy_header_is_a_400(metadata_api, server, missing):
    headers = {"X-Instance-ID": server["id"], "X-Tenant-ID": server["tenant_id"],
               "X-Instance-ID-Signature": handler.sign(server["id"])}
    del headers[missing]
    response = metadata_api.get("/openstack/latest/meta_data.json", headers=headers)
    assert response.status_code == 400
    assert f"{missing} header is missing from request." in response.text


def test_a_wrong_signature_is_a_403_and_a_warning(metadata_api, server, caplog):
    with caplog.at_level(logging.WARNING):
        response = proxied(metadata_api, "/openstack/latest/meta_data.json", server,
                           signature="0" * 64)
    assert response.status_code == 403
    assert "Invalid proxy request signature." in response.text
    assert (f"X-Instance-ID-Signature: {'0' * 64} does not match the expected signature "
            f"for id: {server['id']}. Request From: {server['ip']}") in caplog.text


def test_another_projects_tenant_id_or_an_unknown_instance_is_a_404(metadata_api, server):
    assert proxied(metadata_api, "/openstack", server, tenant="other").status_code == 404
    unknown = dict(server, id="6b6e5e6a-0000-4000-8000-000000000000")
    assert proxied(metadata_api, "/openstack", unknown).status_code == 404


def test_without_the_proxy_the_sender_is_found_by_its_address(conf, metadata_api, server,
                                                              caplog):
    conf.set_override("service_metadata_proxy", False, "neutron")
    with caplog.at_level(logging.INFO):
        mine = metadata_api.get("/openstack/latest/meta_data.json",
                                environ_base={"REMOTE_ADDR": server["ip"]})
    assert mine.status_code == 200
    assert json.loads(mine.data)["uuid"] == server["id"]
    assert f"Fixed IP {server['ip']} translates to instance UUID {server['id']}" in caplog.text
    # Signed headers are not trusted then: the address decides.
    nobody = proxied(metadata_api, "/openstack/latest/meta_data.json",
                     dict(server, ip="192.0.2.9"))
    assert nobody.status_code == 404
