"""How a server looks in the API (mirrors ``nova/api/openstack/compute/views/servers.py``)."""

import hashlib

from mininova import utils
from mininova.api.openstack import common
from mininova.conf import CONF


def basic(instance):
    return {"id": instance["uuid"], "name": instance["display_name"],
            "links": common.links("servers", instance["uuid"])}


def detail(instance, fault=None, is_admin=False):
    status = common.status_from_state(instance["vm_state"], instance["task_state"])
    server = {
        "id": instance["uuid"],
        "name": instance["display_name"],
        "status": status,
        "tenant_id": instance["project_id"],
        "user_id": instance["user_id"],
        "metadata": instance["metadata"] or {},
        "hostId": _host_id(instance),
        "image": {"id": instance["image_ref"],
                  "links": [_bookmark("images", instance["image_ref"])]},
        "flavor": {"id": instance["flavor"]["flavorid"],
                   "links": [_bookmark("flavors", instance["flavor"]["flavorid"])]},
        "created": utils.isotime(instance["created_at"]),
        "updated": utils.isotime(instance["updated_at"] or instance["created_at"]),
        "addresses": {},
        "accessIPv4": "",
        "accessIPv6": "",
        "links": common.links("servers", instance["uuid"]),
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": instance["availability_zone"] or (
            CONF.default_availability_zone if instance["host"] else ""),
        "config_drive": instance["config_drive"] or "",
        "key_name": instance["key_name"],
        "OS-SRV-USG:launched_at": _usage_time(instance["launched_at"]),
        "OS-SRV-USG:terminated_at": _usage_time(instance["terminated_at"]),
        "OS-EXT-STS:task_state": instance["task_state"],
        "OS-EXT-STS:vm_state": instance["vm_state"],
        "OS-EXT-STS:power_state": instance["power_state"],
        "os-extended-volumes:volumes_attached": [],
    }
    if status in ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"):
        server["progress"] = instance["progress"] or 0
    if is_admin:
        server["OS-EXT-SRV-ATTR:host"] = instance["host"]
        server["OS-EXT-SRV-ATTR:hypervisor_hostname"] = instance["node"]
        server["OS-EXT-SRV-ATTR:instance_name"] = CONF.instance_name_template % instance["id"]
    if fault:
        server["fault"] = _fault(fault, is_admin)
    return server


def _fault(fault, is_admin):
    body = {"code": fault["code"], "created": utils.isotime(fault["created_at"]),
            "message": fault["message"]}
    # A 500's details are a traceback: admins only, as in Nova.
    if fault.get("details") and (is_admin or fault["code"] != 500):
        body["details"] = fault["details"]
    return body


def _host_id(instance):
    """An opaque id of the host, per project: users can tell whether two of
    their servers share a host without learning the host's name."""
    if not instance["host"]:
        return ""
    return hashlib.sha224((instance["project_id"] + instance["host"]).encode()).hexdigest()


def _bookmark(collection, resource_id):
    return {"rel": "bookmark", "href": f"{common.base_url()}/{collection}/{resource_id}"}


def _usage_time(value):
    if value is None:
        return None
    return utils.isotime(value).replace("Z", ".000000")
