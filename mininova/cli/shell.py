"""The ``mininova`` command (mirrors python-novaclient's ``nova`` shell).

    mininova boot --image tiny --flavor m1.nano --wait vm1
    mininova list | show | delete | console-log | server-explain
    mininova flavor-list | flavor-show | flavor-key
    mininova image-list | image-create | image-show | image-update | image-delete
    mininova image-cache
    mininova service-list | service-enable | service-disable | hypervisor-list
    mininova aggregate-* | availability-zone-list | server-group-*

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
                                   scheduler_hints=_hints(args.hint),
                                   min_count=args.min_count, max_count=args.max_count,
                                   availability_zone=args.availability_zone)
    if not args.wait:
        print_dict(_server_for_display(client.get_server(created["id"])))
        return 0
    server = _wait_for_build(client, created["id"], args.name, args.timeout)
    print_dict(_server_for_display(server))
    return 0 if server["status"] == "ACTIVE" else 1


def _hints(pairs):
    """``--hint k=v`` options as ``os:scheduler_hints``; a key given several
    times becomes a list, as novaclient sends it."""
    hints = {}
    for pair in pairs:
        key, value = _key_value(pair, "--hint")
        if key in hints:
            previous = hints[key] if isinstance(hints[key], list) else [hints[key]]
            hints[key] = previous + [value]
        else:
            hints[key] = value
    return hints


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
    print_image(image)
    return 0


def print_image(image):
    # The links are the API's business, not the reader's.
    print_dict({k: v for k, v in image.items() if k not in ("self", "file", "schema")})


def do_image_show(client, args):
    print_image(client.get_image(client.find_image(args.image)["id"]))
    return 0


def do_image_update(client, args):
    changes = dict(_key_value(p) for p in args.property)
    if not changes and not args.remove_property:
        raise SystemExit("error: give --property and/or --remove-property")
    image = client.find_image(args.image)
    print_image(client.update_image(image["id"], changes, args.remove_property))
    return 0


def do_image_delete(client, args):
    failures = 0
    for name in args.image:
        try:
            client.delete_image(client.find_image(name)["id"])
            print(f"Image {name} has been deleted.")
        except ClientException as exc:
            print(f"Delete for image {name} failed: {exc}", file=sys.stderr)
            failures += 1
    return 1 if failures else 0


def _key_value(text, option="--property"):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"error: {option} takes key=value, got {text!r}")
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


def do_service_enable(client, args):
    service = client.enable_service(args.host, args.binary)
    print_list([{"Host": service["host"], "Binary": service["binary"],
                 "Status": service["status"]}], ["Host", "Binary", "Status"])
    return 0


def do_service_disable(client, args):
    service = client.disable_service(args.host, args.binary, args.reason)
    row = {"Host": service["host"], "Binary": service["binary"], "Status": service["status"],
           "Disabled Reason": service.get("disabled_reason")}
    fields = ["Host", "Binary", "Status"] + (["Disabled Reason"] if args.reason else [])
    print_list([row], fields)
    return 0


# --- flavors' extra specs ----------------------------------------------------------

def do_flavor_show(client, args):
    flavor = client.find_flavor(args.flavor)
    shown = dict(client.get_flavor(flavor["id"]))
    shown.pop("links", None)
    shown["extra_specs"] = client.get_flavor_extra_specs(flavor["id"])
    print_dict(shown)
    return 0


def do_flavor_key(client, args):
    flavor = client.find_flavor(args.flavor)
    if args.action == "set":
        specs = dict(_key_value(pair, "flavor-key set") for pair in args.metadata)
        client.set_flavor_extra_specs(flavor["id"], specs)
    else:
        for key in args.metadata:
            client.delete_flavor_extra_spec(flavor["id"], key.partition("=")[0])
    return 0


# --- aggregates and availability zones -----------------------------------------------

def print_aggregate(aggregate):
    """One aggregate in a one-row table, as novaclient prints it."""
    row = {"Id": aggregate["id"], "UUID": aggregate["uuid"], "Name": aggregate["name"],
           "Availability Zone": aggregate["availability_zone"] or "-",
           "Hosts": ", ".join(f"'{host}'" for host in aggregate["hosts"]),
           "Metadata": ", ".join(f"'{key}={value}'"
                                 for key, value in sorted(aggregate["metadata"].items()))}
    print_list([row], ["Id", "UUID", "Name", "Availability Zone", "Hosts", "Metadata"])


def do_aggregate_list(client, args):
    rows = [{"Id": a["id"], "UUID": a["uuid"], "Name": a["name"],
             "Availability Zone": a["availability_zone"] or "-"}
            for a in client.list_aggregates()]
    print_list(rows, ["Id", "UUID", "Name", "Availability Zone"])
    return 0


def do_aggregate_create(client, args):
    created = client.create_aggregate(args.name, args.availability_zone)
    # The create answer has no hosts nor metadata (Nova's shape): show the whole.
    print_aggregate(client.get_aggregate(created["id"]))
    return 0


def do_aggregate_show(client, args):
    print_aggregate(client.find_aggregate(args.aggregate))
    return 0


def do_aggregate_update(client, args):
    aggregate = client.find_aggregate(args.aggregate)
    values = {}
    if args.name:
        values["name"] = args.name
    if args.availability_zone:
        values["availability_zone"] = args.availability_zone
    if not values:
        raise SystemExit("error: give --name and/or --availability-zone")
    updated = client.update_aggregate(aggregate["id"], **values)
    print(f"Aggregate {args.aggregate} has been successfully updated.")
    print_aggregate(updated)
    return 0


def do_aggregate_delete(client, args):
    aggregate = client.find_aggregate(args.aggregate)
    client.delete_aggregate(aggregate["id"])
    print(f"Aggregate {args.aggregate} has been successfully deleted.")
    return 0


def do_aggregate_add_host(client, args):
    aggregate = client.find_aggregate(args.aggregate)
    updated = client.aggregate_action(aggregate["id"], "add_host", {"host": args.host})
    print(f"Host {args.host} has been successfully added for aggregate {aggregate['id']} ")
    print_aggregate(updated)
    return 0


def do_aggregate_remove_host(client, args):
    aggregate = client.find_aggregate(args.aggregate)
    updated = client.aggregate_action(aggregate["id"], "remove_host", {"host": args.host})
    print(f"Host {args.host} has been successfully removed from aggregate {aggregate['id']} ")
    print_aggregate(updated)
    return 0


def do_aggregate_set_metadata(client, args):
    aggregate = client.find_aggregate(args.aggregate)
    # key=value sets the key; a bare key unsets it.
    metadata = {}
    for item in args.metadata:
        key, sep, value = item.partition("=")
        metadata[key] = value if sep else None
    updated = client.aggregate_action(aggregate["id"], "set_metadata", {"metadata": metadata})
    print(f"Metadata has been successfully updated for aggregate {aggregate['id']}.")
    print_aggregate(updated)
    return 0


def do_availability_zone_list(client, args):
    """Zones as a tree (zone, |- host, | |- service) when allowed to see the
    detail; else only the zones, as novaclient falls back on a 403."""
    try:
        zones = client.list_availability_zones(detailed=True)
    except ClientException as exc:
        if exc.code != 403:
            raise
        zones = client.list_availability_zones(detailed=False)
    rows = []
    for zone in zones:
        available = zone["zoneState"]["available"]
        rows.append({"Name": zone["zoneName"],
                     "Status": "available" if available else "not available"})
        for host, services in sorted((zone["hosts"] or {}).items()):
            rows.append({"Name": f"|- {host}", "Status": ""})
            for binary, state in services.items():
                status = (f"{'enabled' if state['active'] else 'disabled'} "
                          f"{':-)' if state['available'] else 'XXX'} {state['updated_at']}")
                rows.append({"Name": f"| |- {binary}", "Status": status})
    print_list(rows, ["Name", "Status"])
    return 0


# --- server groups --------------------------------------------------------------------

SERVER_GROUP_FIELDS = ["Id", "Name", "Project Id", "User Id", "Policies", "Members",
                       "Metadata"]


def print_server_groups(groups):
    rows = [{"Id": g["id"], "Name": g["name"], "Project Id": g["project_id"],
             "User Id": g["user_id"], "Policies": str(g["policies"]),
             "Members": str(g["members"]), "Metadata": str(g["metadata"])} for g in groups]
    print_list(rows, SERVER_GROUP_FIELDS)


def do_server_group_create(client, args):
    print_server_groups([client.create_server_group(args.name, args.policy)])
    return 0


def do_server_group_list(client, args):
    print_server_groups(client.list_server_groups(all_projects=args.all_projects))
    return 0


def do_server_group_show(client, args):
    print_server_groups([client.find_server_group(args.group)])
    return 0


def do_server_group_delete(client, args):
    failures = 0
    for name in args.group:
        try:
            client.delete_server_group(client.find_server_group(name)["id"])
            print(f"Server group {name} has been successfully deleted.")
        except ClientException as exc:
            print(f"Delete for server group {name} failed: {exc}", file=sys.stderr)
            failures += 1
    return 1 if failures else 0


# --- why the scheduler chose a host (or none) ---------------------------------------------

def do_server_explain(client, args):
    server = client.find_server(args.server)
    attempts = client.scheduler_explain(server["id"])
    if not attempts:
        print(f"No scheduling decision is recorded for server {args.server}.")
    for index, attempt in enumerate(attempts):
        if index:
            print()
        print_attempt(attempt)
    return 0


def print_attempt(attempt):
    """One scheduling attempt: filters × hosts, then weights, then the choice."""
    print(f"Attempt {attempt['attempt']} (request {attempt['request_id']}, "
          f"{attempt['created_at']})")
    hosts = _hosts_considered(attempt)
    print(_filter_table(attempt["filters"], hosts))
    if attempt["weights"]:
        print(_weight_table(attempt["weights"]))
    selected = attempt["selected"]
    if selected:
        print(f"Selected: {selected['host']} ({selected['node']})")
    else:
        print("No valid host was found.")


def _hosts_considered(attempt):
    """(host, node) pairs in the order the scheduler met them."""
    seen = [(h["host"], h["node"]) for h in attempt.get("hosts") or []]
    for step in attempt["filters"]:
        seen += [(v["host"], v["node"]) for v in step["verdicts"]]
    seen += [(w["host"], w["node"]) for w in attempt["weights"]]
    return list(dict.fromkeys(seen))


def _host_label(host, node):
    return host if node in (None, host) else f"{host} ({node})"


def _filter_table(filters, hosts):
    """A row per filter, a column per host: ``pass``, ``FAIL: <reason>``, or
    blank where an earlier filter had already removed the host."""
    table = prettytable.PrettyTable(["Filter"] + [_host_label(*host) for host in hosts])
    table.align = "l"
    remaining = set(hosts)
    for step in filters:
        verdicts = {(v["host"], v["node"]): v for v in step["verdicts"]}
        row = [f"{step['name']} ({step['start']} → {step['end']})"]
        for host in hosts:
            verdict = verdicts.get(host)
            if host not in remaining:
                row.append("")
            elif verdict is not None and not verdict["passed"]:
                row.append(f"FAIL: {verdict['reason']}")
                remaining.discard(host)
            else:
                row.append("pass")
        table.add_row(row)
    return table


def _weight_table(weights):
    """Best first; each weigher's cell is ``raw → normalised × multiplier``."""
    weighers = list(dict.fromkeys(name for w in weights for name in w["parts"]))
    table = prettytable.PrettyTable(["Host", "Weight"] + weighers)
    table.align = "l"
    for weighed in sorted(weights, key=lambda w: -w["weight"]):
        parts = weighed["parts"]
        table.add_row([_host_label(weighed["host"], weighed["node"]), _number(weighed["weight"])]
                      + [f"{_number(parts[name][0])} → {_number(parts[name][1])}"
                         if name in parts else "" for name in weighers])
    return table


def _number(value):
    """Integers as they are; floats to 3 decimals, keeping one (``1.0``)."""
    if not isinstance(value, float):
        return str(value)
    text = f"{value:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


# --- the image cache of each compute host -------------------------------------------------

IMAGE_CACHE_FIELDS = ["Base file", "Image", "Name", "Size", "Used by", "Age",
                      "Next run removes"]


def do_image_cache(client, args):
    """Per host: when the image cache manager runs next, then its base files."""
    for index, cache in enumerate(client.get_image_cache(args.host)):
        if index:
            print()
        print(_image_cache_header(cache))
        if "error" in cache:
            continue
        rows = [{"Base file": base["filename"], "Image": base["image_id"] or "-",
                 "Name": base["image_name"] or "-", "Size": _size(base["size"]),
                 "Used by": "\n".join(base["used_by"]) or "-",
                 "Age": _duration(base["age_seconds"]),
                 "Next run removes": _next_run_removes(cache, base)}
                for base in cache["base_files"]]
        print_list(rows, IMAGE_CACHE_FIELDS)
    return 0


def _image_cache_header(cache):
    host = cache["host"]
    if "error" in cache:
        return f"Host {host}: ERROR: {cache['error']}"
    if cache["next_run_at"] is None:
        return (f"Host {host}: the image cache manager is off "
                f"([image_cache] manager_interval = {cache['manager_interval']})")
    age = cache["remove_unused_original_minimum_age_seconds"]
    removes = (f"removes base files unused for {age} s" if cache["remove_unused_base_images"]
               else "removes nothing (remove_unused_base_images = False)")
    return (f"Host {host}: image cache manager every {cache['manager_interval']} s, "
            f"next run at {cache['next_run_at']}; {removes}")


def _next_run_removes(cache, base):
    if base["will_be_removed"]:
        return "yes"
    if base["used_by"]:
        return "no: in use"
    if cache["next_run_at"] is None or not cache["remove_unused_base_images"]:
        return "no: removal off"
    return f"no: unused, old enough at {base['removable_at']}"


def _size(size):
    """``512 B``, ``7.4 MiB``, ``3.0 GiB``."""
    units = ["B", "KiB", "MiB", "GiB"]
    power = 0
    while size >= 1024 and power < len(units) - 1:
        size /= 1024
        power += 1
    return f"{size} B" if power == 0 else f"{size:.1f} {units[power]}"


def _duration(seconds):
    """``45s``, ``12m 3s``, ``3h 12m``, ``2d 4h``: the two largest units."""
    units = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
    parts = []
    for name, length in units:
        count, seconds = divmod(seconds, length)
        if count or parts:
            parts.append(f"{count}{name}")
    return " ".join(parts[:2]) or "0s"


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
    boot.add_argument("--hint", action="append", default=[], metavar="KEY=VALUE",
                      help="a scheduler hint, such as group=<server group id>; repeatable")
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
    _command(commands, "image-show", do_image_show,
             "Show an image's metadata.").add_argument("image", help="image name or ID")
    update = _command(commands, "image-update", do_image_update,
                      "Set or remove an image's properties.")
    update.add_argument("--property", action="append", default=[], metavar="KEY=VALUE",
                        help="set a property (or a field such as name); repeatable")
    update.add_argument("--remove-property", action="append", default=[], metavar="KEY",
                        help="remove a property; repeatable")
    update.add_argument("image", help="image name or ID")
    _command(commands, "image-delete", do_image_delete, "Delete images.").add_argument(
        "image", nargs="+", help="image name or ID")
    cache = _command(commands, "image-cache", do_image_cache,
                     "Show each compute host's image cache: its base files, who uses "
                     "them, and what the image cache manager removes next.")
    cache.add_argument("--host", help="only this compute host")
    _command(commands, "service-list", do_service_list, "List services.")
    _command(commands, "hypervisor-list", do_hypervisor_list, "List hypervisors.")
    _command(commands, "hypervisor-show", do_hypervisor_show,
             "Show a hypervisor.").add_argument("hypervisor")
    _add_scheduling_commands(commands)
    return parser


def _add_scheduling_commands(commands):
    """Services, flavors' extra specs, aggregates, zones, server groups, explain."""
    enable = _command(commands, "service-enable", do_service_enable,
                      "Enable the service: the scheduler may place servers there again.")
    enable.add_argument("host")
    enable.add_argument("binary")
    disable = _command(commands, "service-disable", do_service_disable,
                       "Disable the service: the ComputeFilter keeps new servers off it.")
    disable.add_argument("--reason", help="why (shown by service-list)")
    disable.add_argument("host")
    disable.add_argument("binary")

    _command(commands, "flavor-show", do_flavor_show,
             "Show a flavor and its extra specs.").add_argument("flavor")
    key = _command(commands, "flavor-key", do_flavor_key, "Set or unset extra specs.")
    key.add_argument("flavor")
    key.add_argument("action", choices=["set", "unset"])
    key.add_argument("metadata", nargs="+", metavar="key=value",
                     help="key=value to set; key to unset")

    _command(commands, "aggregate-list", do_aggregate_list, "List aggregates.")
    create = _command(commands, "aggregate-create", do_aggregate_create,
                      "Create an aggregate, optionally making it an availability zone.")
    create.add_argument("name")
    create.add_argument("availability_zone", nargs="?", metavar="availability-zone")
    _command(commands, "aggregate-show", do_aggregate_show,
             "Show an aggregate.").add_argument("aggregate")
    update = _command(commands, "aggregate-update", do_aggregate_update,
                      "Rename an aggregate or change its availability zone.")
    update.add_argument("aggregate")
    update.add_argument("--name")
    update.add_argument("--availability-zone")
    _command(commands, "aggregate-delete", do_aggregate_delete,
             "Delete an aggregate (it must have no hosts).").add_argument("aggregate")
    for name, function, help_text in (
            ("aggregate-add-host", do_aggregate_add_host, "Add a compute host."),
            ("aggregate-remove-host", do_aggregate_remove_host, "Remove a host.")):
        host = _command(commands, name, function, help_text)
        host.add_argument("aggregate")
        host.add_argument("host")
    metadata = _command(commands, "aggregate-set-metadata", do_aggregate_set_metadata,
                        "Set (key=value) or unset (key) an aggregate's metadata.")
    metadata.add_argument("aggregate")
    metadata.add_argument("metadata", nargs="+", metavar="key=value")
    _command(commands, "availability-zone-list", do_availability_zone_list,
             "List the availability zones (with hosts and services for an admin).")

    group = _command(commands, "server-group-create", do_server_group_create,
                     "Create a server group.")
    group.add_argument("name")
    group.add_argument("policy", help="affinity or anti-affinity")
    groups = _command(commands, "server-group-list", do_server_group_list,
                      "List server groups.")
    groups.add_argument("--all-projects", action="store_true")
    _command(commands, "server-group-show", do_server_group_show,
             "Show a server group.").add_argument("group")
    _command(commands, "server-group-delete", do_server_group_delete,
             "Delete server groups.").add_argument("group", nargs="+")

    _command(commands, "server-explain", do_server_explain,
             "Explain the scheduler's decisions for a server: each filter's "
             "verdict on each host, the weights, the choice.").add_argument("server")


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
