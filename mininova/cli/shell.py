"""The ``mininova`` command (mirrors python-novaclient's ``nova`` shell).

    mininova boot --image tiny --flavor m1.nano --wait vm1
    mininova list | show | delete | console-log
    mininova flavor-list | image-list | image-create | service-list | hypervisor-list

Tables look like novaclient's. Where to find the cloud:
``--os-compute-url`` / ``MININOVA_COMPUTE_URL`` (default
http://127.0.0.1:8774/v2.1), ``--os-image-url`` / ``MININOVA_IMAGE_URL``
(http://127.0.0.1:9292), and who you are: ``--os-token`` /
``MININOVA_TOKEN`` as ``<user>:<project>`` (default ``admin:admin``).
"""

import argparse
import os
import sys
import time

import prettytable

from mininova.cli.client import Client, ClientException

POWER_STATES = {0: "NOSTATE", 1: "Running", 3: "Paused", 4: "Shutdown", 6: "Crashed",
                7: "Suspended"}


# --- output ------------------------------------------------------------------

def print_list(rows, fields, labels=None):
    table = prettytable.PrettyTable(labels or fields)
    table.align = "l"
    for row in rows:
        table.add_row([row.get(field, "") for field in fields])
    print(table)


def print_dict(values):
    table = prettytable.PrettyTable(["Property", "Value"])
    table.align = "l"
    for key in sorted(values):
        value = values[key]
        if isinstance(value, (dict, list)):
            value = _compact(value)
        table.add_row([key, "-" if value is None else value])
    print(table)


def _compact(value):
    import json

    return json.dumps(value, sort_keys=True)


def _server_for_display(server):
    shown = dict(server)
    shown.pop("links", None)
    shown["flavor"] = server["flavor"]["id"]
    shown["image"] = server["image"]["id"]
    if "fault" in server:
        shown["fault"] = server["fault"]
    return shown


# --- commands ------------------------------------------------------------------

def do_boot(client, args):
    image = client.find_image(args.image)
    flavor = client.find_flavor(args.flavor)
    created = client.create_server(args.name, image["id"], flavor["id"],
                                   min_count=args.min_count, max_count=args.max_count,
                                   availability_zone=args.availability_zone)
    if not args.wait:
        print_dict(_server_for_display(client.get_server(created["id"])))
        return 0
    server = _wait_for_build(client, created["id"], args.name, args.timeout)
    print_dict(_server_for_display(server))
    return 0 if server["status"] == "ACTIVE" else 1


def _wait_for_build(client, server_id, name, timeout):
    """Print each (status, task state) the server goes through."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        server = client.get_server(server_id)
        now = (server["status"], server["OS-EXT-STS:task_state"])
        if now != last:
            task = f" ({now[1]})" if now[1] else ""
            print(f"Server {name} {server_id}: {now[0]}{task}", flush=True)
            last = now
        if server["status"] != "BUILD":
            if server["status"] == "ERROR" and "fault" in server:
                print(f"ERROR: {server['fault']['message']}", file=sys.stderr)
            return server
        if time.monotonic() > deadline:
            print(f"ERROR: still BUILD after {timeout} s", file=sys.stderr)
            return server
        time.sleep(0.5)


def do_list(client, args):
    servers = client.list_servers(all_tenants=args.all_tenants)
    rows = [{"ID": s["id"], "Name": s["name"], "Status": s["status"],
             "Task State": s["OS-EXT-STS:task_state"] or "-",
             "Power State": POWER_STATES.get(s["OS-EXT-STS:power_state"], "NOSTATE"),
             "Networks": _networks(s)} for s in servers]
    print_list(rows, ["ID", "Name", "Status", "Task State", "Power State", "Networks"])
    return 0


def _networks(server):
    return "; ".join(f"{net}={', '.join(a['addr'] for a in addrs)}"
                     for net, addrs in server.get("addresses", {}).items())


def do_show(client, args):
    server = client.find_server(args.server)
    print_dict(_server_for_display(client.get_server(server["id"])))
    return 0


def do_delete(client, args):
    failures = 0
    for name in args.server:
        try:
            server = client.find_server(name)
            client.delete_server(server["id"])
            print(f"Request to delete server {name} has been accepted.")
        except ClientException as exc:
            print(f"Delete for server {name} failed: {exc}", file=sys.stderr)
            failures += 1
    return 1 if failures else 0


def do_console_log(client, args):
    server = client.find_server(args.server)
    print(client.console_output(server["id"], args.length), end="")
    return 0


def do_flavor_list(client, args):
    rows = [{"ID": f["id"], "Name": f["name"], "Memory_MiB": f["ram"], "Disk": f["disk"],
             "Ephemeral": f["OS-FLV-EXT-DATA:ephemeral"], "Swap": f["swap"],
             "VCPUs": f["vcpus"], "RXTX_Factor": f["rxtx_factor"],
             "Is_Public": f["os-flavor-access:is_public"]}
            for f in client.list_flavors()]
    print_list(rows, ["ID", "Name", "Memory_MiB", "Disk", "Ephemeral", "Swap", "VCPUs",
                      "RXTX_Factor", "Is_Public"])
    return 0


def do_image_list(client, args):
    rows = [{"ID": i["id"], "Name": i["name"], "Status": i["status"],
             "Disk Format": i["disk_format"], "Size": i["size"]} for i in client.list_images()]
    print_list(rows, ["ID", "Name", "Status", "Disk Format", "Size"])
    return 0


def do_image_create(client, args):
    properties = dict(_key_value(p) for p in args.property)
    image = client.create_image(args.name, args.file, args.disk_format,
                                args.container_format, args.min_disk, args.min_ram,
                                properties, progress=ProgressBar())
    print(file=sys.stderr)
    print_dict({k: v for k, v in image.items() if k not in ("self", "file", "schema")})
    return 0


def _key_value(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"error: --property takes key=value, got {text!r}")
    return key, value


class ProgressBar:
    """``[=====     ]  50%`` on stderr, redrawn only when the percent changes."""

    WIDTH = 40

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.shown = None

    def __call__(self, sent, total):
        percent = 100 * sent // total if total else 100
        if percent == self.shown:
            return
        self.shown = percent
        done = self.WIDTH * percent // 100
        self.stream.write(f"\r[{'=' * done}{' ' * (self.WIDTH - done)}] {percent:3d}%")
        self.stream.flush()


def do_service_list(client, args):
    rows = [{"Id": s["id"], "Binary": s["binary"], "Host": s["host"], "Zone": s["zone"],
             "Status": s["status"], "State": s["state"], "Updated_at": s["updated_at"],
             "Disabled Reason": s["disabled_reason"] or "-",
             "Forced down": s["forced_down"]} for s in client.list_services()]
    print_list(rows, ["Id", "Binary", "Host", "Zone", "Status", "State", "Updated_at",
                      "Disabled Reason", "Forced down"])
    return 0


def do_hypervisor_list(client, args):
    rows = [{"ID": h["id"], "Hypervisor hostname": h["hypervisor_hostname"],
             "State": h["state"], "Status": h["status"]} for h in client.list_hypervisors()]
    print_list(rows, ["ID", "Hypervisor hostname", "State", "Status"])
    return 0


def do_hypervisor_show(client, args):
    print_dict(client.get_hypervisor(args.hypervisor))
    return 0


# --- arguments -----------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(prog="mininova", description=__doc__.split("\n\n")[0])
    parser.add_argument("--os-compute-url", default=os.environ.get(
        "MININOVA_COMPUTE_URL", "http://127.0.0.1:8774/v2.1"))
    parser.add_argument("--os-image-url", default=os.environ.get(
        "MININOVA_IMAGE_URL", "http://127.0.0.1:9292"))
    parser.add_argument("--os-token", default=os.environ.get("MININOVA_TOKEN", "admin:admin"),
                        help="<user>:<project>; the user 'admin' is an administrator")
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    boot = _command(commands, "boot", do_boot, "Boot a new server.")
    boot.add_argument("--image", required=True, help="image name or ID")
    boot.add_argument("--flavor", required=True, help="flavor name or ID")
    boot.add_argument("--availability-zone")
    boot.add_argument("--min-count", type=int)
    boot.add_argument("--max-count", type=int)
    boot.add_argument("--wait", "--poll", action="store_true",
                      help="print the status as it changes until the build ends")
    boot.add_argument("--timeout", type=int, default=300, help="seconds --wait waits")
    boot.add_argument("name")

    listing = _command(commands, "list", do_list, "List servers.")
    listing.add_argument("--all-tenants", action="store_true")
    _command(commands, "show", do_show, "Show details about a server.").add_argument("server")
    _command(commands, "delete", do_delete, "Delete servers.").add_argument(
        "server", nargs="+")
    console = _command(commands, "console-log", do_console_log,
                       "Get the console log of a server.")
    console.add_argument("--length", type=int, help="only the last N lines")
    console.add_argument("server")
    _command(commands, "flavor-list", do_flavor_list, "List flavors.")
    _command(commands, "image-list", do_image_list, "List images.")
    create = _command(commands, "image-create", do_image_create,
                      "Upload an image to the image service.")
    create.add_argument("--file", required=True)
    create.add_argument("--disk-format", required=True,
                        choices=["qcow2", "raw", "vmdk", "vdi", "iso"])
    create.add_argument("--container-format", default="bare", choices=["bare"])
    create.add_argument("--min-disk", type=int, default=0, help="GB")
    create.add_argument("--min-ram", type=int, default=0, help="MB")
    create.add_argument("--property", action="append", default=[], metavar="KEY=VALUE")
    create.add_argument("name")
    _command(commands, "service-list", do_service_list, "List services.")
    _command(commands, "hypervisor-list", do_hypervisor_list, "List hypervisors.")
    _command(commands, "hypervisor-show", do_hypervisor_show,
             "Show a hypervisor.").add_argument("hypervisor")
    return parser


def _command(commands, name, function, help_text):
    sub = commands.add_parser(name, help=help_text, description=help_text)
    sub.set_defaults(function=function)
    return sub


def main(argv=None):
    args = build_parser().parse_args(argv)
    client = Client(args.os_compute_url, args.os_image_url, args.os_token)
    try:
        return args.function(client, args)
    except ClientException as exc:
        print(f"ERROR ({_error_name(exc.code)}): {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ERROR: cannot reach mininova: {exc}", file=sys.stderr)
        return 1


def _error_name(code):
    return {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
            409: "Conflict", 413: "OverLimit"}.get(code, "ClientException")


if __name__ == "__main__":
    sys.exit(main())
