"""``os-getConsoleOutput`` server action (mirrors
``nova/api/openstack/compute/console_output.py``): the tail of the guest's
serial console, read by its compute host."""

from flask import jsonify

from mininova.api.openstack import common
from mininova.api.openstack.compute import servers
from mininova.api.openstack.compute.schemas import servers as schema


@servers.register_action("os-getConsoleOutput", schema.get_console_output,
                         "os_compute_api:os-console-output")
def get_console_output(context, instance, body):
    length = (body["os-getConsoleOutput"] or {}).get("length")
    tail = None if length in (None, -1, "-1") else int(length)
    output = common.compute_api().get_console_output(context, instance, tail)
    return jsonify({"output": output})
