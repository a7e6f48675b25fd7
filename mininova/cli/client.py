"""A small HTTP client of the compute and image APIs (the part of
python-novaclient and python-glanceclient the ``mininova`` command needs).

It speaks only the public REST API, like any OpenStack client would: the
CLI, the tests and the benchmarks all drive mininova through it.
"""

import json
import os

import requests

# The microversions the command asks for where it shows what a later one
# added (2.1 everywhere else, so that its bodies stay v2.1's).
INSTANCE_ACTIONS_VERSION = "2.51"
SERVER_GROUPS_VERSION = "2.13"

# Fields of a block_device_mapping_v2 entry and the microversion that
# allows them (Nova's create schemas), newest first: a boot using one is
# sent at that version, as novaclient refuses to send it at a lower one.
BDM_V2_FIELD_VERSIONS = (("volume_type", "2.67"), ("tag", "2.42"))

# Glance's media type for a JSON patch of an image's metadata.
JSON_PATCH_MEDIA_TYPE = "application/openstack-images-v2.1-json-patch"


class ClientException(Exception):
    """An API error: its HTTP code, the API's message and the request id."""

    def __init__(self, code, message, request_id=None):
        super().__init__(f"{message} (HTTP {code}) (Request-ID: {request_id})")
        self.code = code
        self.message = message
        self.request_id = request_id


class Client:
    def __init__(self, compute_url, image_url, token, timeout=60):
        self.compute_url = compute_url.rstrip("/")
        self.image_url = image_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = token
        self.session.headers["Accept"] = "application/json"

    # --- plumbing ------------------------------------------------------------

    def _request(self, method, url, expect_json=True, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        response = self.session.request(method, url, **kwargs)
        if response.status_code >= 400:
            raise ClientException(response.status_code, _error_message(response),
                                  response.headers.get("x-compute-request-id")
                                  or response.headers.get("x-openstack-request-id"))
        if expect_json and response.content:
            return response.json()
        return response

    def compute(self, method, path, microversion=None, **kwargs):
        """A compute API request; at 2.1 unless ``microversion`` asks for
        another (as novaclient does per call, for the fields it shows)."""
        if microversion:
            kwargs["headers"] = dict(kwargs.get("headers") or {},
                                     **{"OpenStack-API-Version": f"compute {microversion}"})
        return self._request(method, f"{self.compute_url}{path}", **kwargs)

    def image(self, method, path, **kwargs):
        return self._request(method, f"{self.image_url}{path}", **kwargs)

    # --- servers ---------------------------------------------------------------

    def create_server(self, name, image_id, flavor_id, scheduler_hints=None, **extra):
        body = {"server": {"name": name, "flavorRef": flavor_id}}
        if image_id:
            # None for a server booted from a volume (block_device_mapping_v2).
            body["server"]["imageRef"] = image_id
        body["server"].update({k: v for k, v in extra.items() if v is not None})
        if scheduler_hints:
            # A sibling of "server", not inside it (Nova's API says so).
            body["os:scheduler_hints"] = scheduler_hints
        microversion = _create_microversion(body["server"])
        return self.compute("POST", "/servers", microversion, json=body)["server"]

    def list_volume_attachments(self, server_id, microversion=None):
        return self.compute("GET", f"/servers/{server_id}/os-volume_attachments",
                            microversion)["volumeAttachments"]

    def attach_volume(self, server_id, attachment, microversion=None):
        return self.compute("POST", f"/servers/{server_id}/os-volume_attachments",
                            microversion, json={"volumeAttachment": attachment}
                            )["volumeAttachment"]

    def detach_volume(self, server_id, volume_id):
        self.compute("DELETE", f"/servers/{server_id}/os-volume_attachments/{volume_id}",
                     expect_json=False)

    def list_servers(self, detailed=True, all_tenants=False):
        params = {"all_tenants": 1} if all_tenants else {}
        path = "/servers/detail" if detailed else "/servers"
        return self.compute("GET", path, params=params)["servers"]

    def get_server(self, server_id):
        return self.compute("GET", f"/servers/{server_id}")["server"]

    def delete_server(self, server_id):
        self.compute("DELETE", f"/servers/{server_id}", expect_json=False)

    def console_output(self, server_id, length=None):
        body = {"os-getConsoleOutput": {"length": length}}
        return self.compute("POST", f"/servers/{server_id}/action", json=body)["output"]

    def find_server(self, name_or_id):
        return _find(self.list_servers(), name_or_id, "server")

    def server_action(self, server_id, action, info=None, microversion=None):
        """``POST /servers/<id>/action`` with Nova's body ``{action: info}``
        (``os-stop``, ``reboot``, ``resize``...); the response."""
        return self.compute("POST", f"/servers/{server_id}/action", expect_json=False,
                            json={action: info}, microversion=microversion)

    def update_server(self, server_id, **fields):
        """``PUT /servers/<id>``: ``name`` and (2.19) ``description``."""
        return self.compute("PUT", f"/servers/{server_id}", json={"server": fields},
                            microversion="2.19")["server"]

    # --- server tags (2.26) ------------------------------------------------------

    def list_server_tags(self, server_id):
        return self.compute("GET", f"/servers/{server_id}/tags", microversion="2.26")["tags"]

    def add_server_tag(self, server_id, tag):
        self.compute("PUT", f"/servers/{server_id}/tags/{tag}", microversion="2.26",
                     expect_json=False)

    def set_server_tags(self, server_id, tags):
        return self.compute("PUT", f"/servers/{server_id}/tags", json={"tags": tags},
                            microversion="2.26")["tags"]

    def delete_server_tag(self, server_id, tag):
        self.compute("DELETE", f"/servers/{server_id}/tags/{tag}", microversion="2.26",
                     expect_json=False)

    def delete_server_tags(self, server_id):
        self.compute("DELETE", f"/servers/{server_id}/tags", microversion="2.26",
                     expect_json=False)

    def create_server_image(self, server_id, name, metadata=None):
        """Snapshot the server; the new image's id, the last element of the
        ``Location`` the API answers with (v2.1 has no body)."""
        info = {"name": name}
        if metadata:
            info["metadata"] = metadata
        response = self.server_action(server_id, "createImage", info)
        return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    def rebuild_server(self, server_id, image_id, name=None, metadata=None):
        """The rebuilt server, and the request id of its instance action."""
        info = {"imageRef": image_id}
        info.update({k: v for k, v in (("name", name), ("metadata", metadata)) if v})
        response = self.server_action(server_id, "rebuild", info)
        return response.json()["server"], response.headers.get("x-compute-request-id")

    def list_instance_actions(self, server_id):
        # 2.21: a deleted server's actions too.
        return self.compute("GET", f"/servers/{server_id}/os-instance-actions",
                            microversion=INSTANCE_ACTIONS_VERSION)["instanceActions"]

    def get_instance_action(self, server_id, request_id):
        # 2.51: the events for a non-admin too (without their traceback).
        return self.compute("GET", f"/servers/{server_id}/os-instance-actions/{request_id}",
                            microversion=INSTANCE_ACTIONS_VERSION)[
            "instanceAction"]

    def scheduler_explain(self, server_id):
        return self.compute("GET", f"/servers/{server_id}/os-scheduler-explain")["attempts"]

    # --- flavors -----------------------------------------------------------------

    def list_flavors(self, all_flavors=False):
        """The flavors one may use; with ``all_flavors`` an admin's list
        has the private ones too (``is_public=None``, as novaclient asks)."""
        params = {"is_public": "None"} if all_flavors else {}
        return self.compute("GET", "/flavors/detail", params=params)["flavors"]

    def find_flavor(self, name_or_id):
        return _find(self.list_flavors(all_flavors=True), name_or_id, "flavor")

    def create_flavor(self, name, ram, disk, vcpus, flavor_id=None, ephemeral=0, swap=0,
                      rxtx_factor=1.0, is_public=True):
        body = {"name": name, "ram": ram, "disk": disk, "vcpus": vcpus,
                "OS-FLV-EXT-DATA:ephemeral": ephemeral, "swap": swap,
                "rxtx_factor": rxtx_factor, "os-flavor-access:is_public": is_public}
        if flavor_id is not None:
            body["id"] = flavor_id
        return self.compute("POST", "/flavors", json={"flavor": body})["flavor"]

    def delete_flavor(self, flavor_id):
        self.compute("DELETE", f"/flavors/{flavor_id}", expect_json=False)

    def list_flavor_access(self, flavor_id):
        return self.compute("GET", f"/flavors/{flavor_id}/os-flavor-access")["flavor_access"]

    def flavor_access(self, flavor_id, action, project_id):
        """``addTenantAccess`` or ``removeTenantAccess``; the new list."""
        return self.compute("POST", f"/flavors/{flavor_id}/action",
                            json={action: {"tenant": project_id}})["flavor_access"]

    def get_flavor(self, flavor_id):
        return self.compute("GET", f"/flavors/{flavor_id}")["flavor"]

    def get_flavor_extra_specs(self, flavor_id):
        return self.compute("GET", f"/flavors/{flavor_id}/os-extra_specs")["extra_specs"]

    def set_flavor_extra_specs(self, flavor_id, specs):
        return self.compute("POST", f"/flavors/{flavor_id}/os-extra_specs",
                            json={"extra_specs": specs})["extra_specs"]

    def delete_flavor_extra_spec(self, flavor_id, key):
        self.compute("DELETE", f"/flavors/{flavor_id}/os-extra_specs/{key}",
                     expect_json=False)

    # --- key pairs ---------------------------------------------------------------------

    def create_keypair(self, name, public_key=None, key_type=None):
        """Generated (with its ``private_key``) unless ``public_key`` is given."""
        body = {"name": name}
        if public_key is not None:
            body["public_key"] = public_key
        headers = {}
        if key_type is not None:
            body["type"] = key_type
            headers["OpenStack-API-Version"] = "compute 2.2"
        return self.compute("POST", "/os-keypairs", json={"keypair": body},
                            headers=headers)["keypair"]

    def list_keypairs(self):
        return [item["keypair"] for item in self.compute(
            "GET", "/os-keypairs", headers={"OpenStack-API-Version": "compute 2.2"})["keypairs"]]

    def get_keypair(self, name):
        return self.compute("GET", f"/os-keypairs/{name}",
                            headers={"OpenStack-API-Version": "compute 2.2"})["keypair"]

    def delete_keypair(self, name):
        self.compute("DELETE", f"/os-keypairs/{name}", expect_json=False)

    # --- quotas, limits and server metadata -------------------------------------------------

    def get_quotas(self, project_id, detail=False, defaults=False):
        suffix = "/detail" if detail else "/defaults" if defaults else ""
        return self.compute("GET", f"/os-quota-sets/{project_id}{suffix}")["quota_set"]

    def update_quotas(self, project_id, limits, force=False):
        body = dict(limits, force=True) if force else dict(limits)
        return self.compute("PUT", f"/os-quota-sets/{project_id}",
                            json={"quota_set": body})["quota_set"]

    def delete_quotas(self, project_id):
        self.compute("DELETE", f"/os-quota-sets/{project_id}", expect_json=False)

    def get_limits(self, project_id=None):
        params = {"tenant_id": project_id} if project_id else {}
        return self.compute("GET", "/limits", params=params)["limits"]

    def set_server_metadata(self, server_id, metadata):
        return self.compute("POST", f"/servers/{server_id}/metadata",
                            json={"metadata": metadata})["metadata"]

    def delete_server_metadata(self, server_id, key):
        self.compute("DELETE", f"/servers/{server_id}/metadata/{key}", expect_json=False)

    # --- images (the image service itself) ----------------------------------------

    def list_images(self):
        return self.image("GET", "/v2/images")["images"]

    def get_image(self, image_id):
        return self.image("GET", f"/v2/images/{image_id}")

    def find_image(self, name_or_id):
        return _find(self.list_images(), name_or_id, "image")

    def create_image(self, name, path, disk_format, container_format="bare",
                     min_disk=0, min_ram=0, properties=None, progress=None):
        """Create the image record, then stream the file into it."""
        body = {"name": name, "disk_format": disk_format,
                "container_format": container_format, "min_disk": min_disk,
                "min_ram": min_ram}
        body.update(properties or {})
        image = self.image("POST", "/v2/images", json=body)
        with open(path, "rb") as f:
            self.image("PUT", f"/v2/images/{image['id']}/file", expect_json=False,
                       data=_ProgressReader(f, os.path.getsize(path), progress),
                       headers={"Content-Type": "application/octet-stream"},
                       timeout=None)
        return self.get_image(image["id"])

    def delete_image(self, image_id):
        self.image("DELETE", f"/v2/images/{image_id}", expect_json=False)

    def update_image(self, image_id, changes, remove_props=()):
        """Set the fields and properties in ``changes`` and remove those named
        in ``remove_props``, with Glance's JSON patch built as glanceclient
        builds it: ``add`` what the image lacks, ``replace`` what it has."""
        current = self.get_image(image_id)
        patch = [{"op": "replace" if name in current else "add", "path": _pointer(name),
                  "value": value} for name, value in changes.items()]
        patch += [{"op": "remove", "path": _pointer(name)} for name in remove_props]
        return self.image("PATCH", f"/v2/images/{image_id}", data=json.dumps(patch),
                          headers={"Content-Type": JSON_PATCH_MEDIA_TYPE})

    # --- admin -----------------------------------------------------------------------

    def list_services(self):
        # 2.11: forced_down.
        return self.compute("GET", "/os-services", microversion="2.11")["services"]

    def list_hypervisors(self, detailed=False):
        path = "/os-hypervisors/detail" if detailed else "/os-hypervisors"
        return self.compute("GET", path)["hypervisors"]

    def get_hypervisor(self, hypervisor_id):
        return self.compute("GET", f"/os-hypervisors/{hypervisor_id}")["hypervisor"]

    def enable_service(self, host, binary):
        body = {"host": host, "binary": binary}
        return self.compute("PUT", "/os-services/enable", json=body)["service"]

    def disable_service(self, host, binary, reason=None):
        body = {"host": host, "binary": binary}
        if reason is None:
            return self.compute("PUT", "/os-services/disable", json=body)["service"]
        body["disabled_reason"] = reason
        return self.compute("PUT", "/os-services/disable-log-reason", json=body)["service"]

    def delete_service(self, service_id):
        self.compute("DELETE", f"/os-services/{service_id}", expect_json=False)

    def get_image_cache(self, host=None):
        params = {"host": host} if host else {}
        return self.compute("GET", "/os-image-cache", params=params)["image_cache"]

    # --- aggregates and availability zones ----------------------------------------------

    def list_aggregates(self):
        # 2.41: each aggregate's uuid.
        return self.compute("GET", "/os-aggregates", microversion="2.41")["aggregates"]

    def get_aggregate(self, aggregate_id):
        return self.compute("GET", f"/os-aggregates/{aggregate_id}",
                            microversion="2.41")["aggregate"]

    def find_aggregate(self, name_or_id):
        return _find(self.list_aggregates(), name_or_id, "aggregate")

    def create_aggregate(self, name, availability_zone=None):
        body = {"aggregate": {"name": name, "availability_zone": availability_zone}}
        return self.compute("POST", "/os-aggregates", json=body,
                            microversion="2.41")["aggregate"]

    def update_aggregate(self, aggregate_id, **values):
        body = {"aggregate": values}
        return self.compute("PUT", f"/os-aggregates/{aggregate_id}", json=body,
                            microversion="2.41")["aggregate"]

    def delete_aggregate(self, aggregate_id):
        self.compute("DELETE", f"/os-aggregates/{aggregate_id}", expect_json=False)

    def aggregate_action(self, aggregate_id, action, values):
        """``add_host``/``remove_host`` ({"host"}), ``set_metadata`` ({"metadata"})."""
        return self.compute("POST", f"/os-aggregates/{aggregate_id}/action",
                            json={action: values}, microversion="2.41")["aggregate"]

    def list_availability_zones(self, detailed=True):
        path = "/os-availability-zone/detail" if detailed else "/os-availability-zone"
        return self.compute("GET", path)["availabilityZoneInfo"]

    # --- server groups ----------------------------------------------------------------------

    def list_server_groups(self, all_projects=False):
        params = {"all_projects": "True"} if all_projects else {}
        # 2.13: project_id and user_id.
        return self.compute("GET", "/os-server-groups", params=params,
                            microversion=SERVER_GROUPS_VERSION)["server_groups"]

    def get_server_group(self, group_id):
        return self.compute("GET", f"/os-server-groups/{group_id}",
                            microversion=SERVER_GROUPS_VERSION)["server_group"]

    def find_server_group(self, name_or_id):
        # By id first, which also finds another project's group for an admin.
        try:
            return self.get_server_group(name_or_id)
        except ClientException as exc:
            if exc.code != 404:
                raise
        return _find(self.list_server_groups(), name_or_id, "server group")

    def create_server_group(self, name, policy):
        body = {"server_group": {"name": name, "policies": [policy]}}
        return self.compute("POST", "/os-server-groups", json=body,
                            microversion=SERVER_GROUPS_VERSION)["server_group"]

    def delete_server_group(self, group_id):
        self.compute("DELETE", f"/os-server-groups/{group_id}", expect_json=False)


class _ProgressReader:
    """A file for requests to stream from (its length sets Content-Length),
    reporting how much was read so far."""

    def __init__(self, fileobj, size, progress):
        self._file = fileobj
        self.len = size
        self._sent = 0
        self._progress = progress

    def read(self, size=-1):
        chunk = self._file.read(size)
        self._sent += len(chunk)
        if self._progress:
            self._progress(self._sent, self.len)
        return chunk


def _pointer(name):
    """A JSON pointer to a top-level member (RFC 6901 escapes ~ and /)."""
    return "/" + name.replace("~", "~0").replace("/", "~1")


def _find(items, name_or_id, kind):
    """By id first, then by exact name; a name shared by several is an error."""
    for item in items:
        if str(item["id"]) == str(name_or_id):
            return item
    matches = [item for item in items if item.get("name") == name_or_id]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ClientException(404, f"No {kind} with a name or ID of '{name_or_id}' exists.")
    raise ClientException(409, f"Multiple {kind} matches found for '{name_or_id}', "
                               f"use an ID to be more specific.")


def _error_message(response):
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason
    if isinstance(body, dict) and len(body) == 1:
        detail = next(iter(body.values()))
        if isinstance(detail, dict) and "message" in detail:
            return detail["message"]
    return str(body)


def _create_microversion(server):
    """The microversion a POST /servers body needs: 2.1 (None) unless its
    block device mappings, or its networks (a NIC's ``tag``: 2.42), use a
    later field. From 2.37 ``networks`` is required: novaclient then sends
    "auto" when no --nic was given, which is what 2.1 does without one."""
    mappings = server.get("block_device_mapping_v2") or []
    for field, version in BDM_V2_FIELD_VERSIONS:
        if any(field in mapping for mapping in mappings):
            server.setdefault("networks", "auto")
            return version
    networks = server.get("networks")
    if isinstance(networks, list) and any("tag" in request for request in networks):
        return "2.42"
    return None
