"""The server commands of ``mininova``: boot (its block device options are
parsed in :mod:`.volumes`), list, show, update, delete, console-log, and
server-explain (the server commands of novaclient's
``novaclient/v2/shell.py``, over its ``novaclient/v2/servers.py``).

``server-explain`` is mininova's own: it prints the scheduler's recorded
decisions for a server (``GET /servers/<id>/os-scheduler-explain``).

``update`` renames a server or sets its description (microversion 2.19)
and prints nothing, as novaclient's.

The lifecycle commands (stop, reboot, resize...) are in :mod:`.server_actions`
and share this module's way of showing a server and of waiting for one.
"""

import base64
import sys

import prettytable

from mininova.cli import volumes
from mininova.cli.client import ClientException
from mininova.cli.utils import (
    add_command,
    delete_each,
    key_value,
    poll,
    print_dict,
    print_list,
)

POWER_STATES = {0: "NOSTATE", 1: "Running", 3: "Paused", 4: "Shutdown", 6: "Crashed",
                7: "Suspended"}


def add_commands(commands):
    boot = add_command(commands, "boot", do_boot, "Boot a new server.")
    boot.add_argument("--image", help="image name or ID (none: boot from a "
                      "--block-device with bootindex=0)")
    boot.add_argument("--flavor", required=True, help="flavor name or ID")
    boot.add_argument("--availability-zone")
    boot.add_argument("--hint", action="append", default=[], metavar="KEY=VALUE",
                      help="a scheduler hint, such as group=<server group id>; repeatable")
    boot.add_argument("--key-name", help="a key pair of yours, for the guest's SSH logins")
    boot.add_argument("--config-drive", choices=["true", "false"], default=None,
                      help="give the guest a config drive (its metadata on a cdrom)")
    boot.add_argument("--user-data", metavar="FILE",
                      help="a file the guest gets as its user data (a #! script runs)")
    boot.add_argument("--nic", action="append", default=[],
                      metavar="net-id=ID[,v4-fixed-ip=IP][,tag=TAG]|port-id=ID[,tag=TAG]|auto|none",
                      help="a network interface (repeatable): on a network, or a port; "
                      "auto (the default: the project's network) or none; a tag names "
                      "its role in the guest's metadata (sent at microversion 2.42)")
    volumes.add_boot_arguments(boot)
    boot.add_argument("--min-count", type=int)
    boot.add_argument("--max-count", type=int)
    boot.add_argument("--wait", "--poll", action="store_true",
                      help="print the status as it changes until the build ends")
    boot.add_argument("--timeout", type=int, default=300, help="seconds --wait waits")
    boot.add_argument("name")

    listing = add_command(commands, "list", do_list, "List servers.")
    listing.add_argument("--all-tenants", action="store_true")
    add_command(commands, "show", do_show, "Show details about a server.").add_argument("server")
    update = add_command(commands, "update", do_update,
                         "Update the name or the description of a server.")
    update.add_argument("--name", help="the server's new name")
    update.add_argument("--description", help="the server's new description")
    update.add_argument("server")
    meta = add_command(commands, "meta", do_meta, "Set or delete metadata on a server.")
    meta.add_argument("server")
    meta.add_argument("action", choices=["set", "delete"])
    meta.add_argument("metadata", nargs="+", metavar="key=value",
                      help="key=value to set; key to delete")
    add_command(commands, "delete", do_delete, "Delete servers.").add_argument(
        "server", nargs="+")
    console = add_command(commands, "console-log", do_console_log,
                          "Get the console log of a server.")
    console.add_argument("--length", type=int, help="only the last N lines")
    console.add_argument("server")
    add_command(commands, "server-explain", do_server_explain,
                "Explain the scheduler's decisions for a server: each filter's "
                "verdict on each host, the weights, the choice.").add_argument("server")


def server_for_display(server):
    shown = dict(server)
    shown.pop("links", None)
    shown["flavor"] = server["flavor"]["id"]
    # "" for a server booted from a volume: novaclient's words for it.
    shown["image"] = (server["image"]["id"] if server["image"]
                      else "Attempt to boot from volume - no image supplied")
    if "fault" in server:
        shown["fault"] = server["fault"]
    return shown


def do_meta(client, args):
    server = client.find_server(args.server)
    if args.action == "set":
        client.set_server_metadata(server["id"], dict(
            key_value(pair, "meta set") for pair in args.metadata))
    else:
        for key in args.metadata:
            client.delete_server_metadata(server["id"], key.partition("=")[0])
    return 0


# --- boot -----------------------------------------------------------------------

def do_boot(client, args):
    image_id = client.find_image(args.image)["id"] if args.image else None
    mappings = volumes.block_device_mapping_v2(args, image_id)
    if not image_id and not mappings:
        raise SystemExit("error: boot needs --image, or a --block-device to boot from")
    flavor = client.find_flavor(args.flavor)
    created = client.create_server(args.name, image_id, flavor["id"],
                                   block_device_mapping_v2=mappings,
                                   scheduler_hints=_hints(args.hint),
                                   min_count=args.min_count, max_count=args.max_count,
                                   availability_zone=args.availability_zone,
                                   key_name=args.key_name,
                                   config_drive=(args.config_drive == "true"
                                                 if args.config_drive else None),
                                   user_data=_user_data(args.user_data),
                                   networks=_requested_networks(args.nic))
    if not args.wait:
        print_dict(server_for_display(client.get_server(created["id"])))
        return 0
    server = _wait_for_build(client, created["id"], args.name, args.timeout)
    print_dict(server_for_display(server))
    return 0 if server["status"] == "ACTIVE" else 1


def _user_data(path):
    if path is None:
        return None
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def _requested_networks(nics):
    """novaclient's ``--nic`` options as the API's ``networks``: None when
    none is given (the API's default, auto)."""
    if not nics:
        return None
    if nics in (["auto"], ["none"]):
        return nics[0]
    networks = []
    for nic in nics:
        fields = dict(key_value(part, "--nic") for part in nic.split(","))
        request = {"uuid": fields.get("net-id"), "port": fields.get("port-id"),
                   "fixed_ip": fields.get("v4-fixed-ip"), "tag": fields.get("tag")}
        networks.append({key: value for key, value in request.items() if value})
    return networks


def _hints(pairs):
    """``--hint k=v`` options as ``os:scheduler_hints``; a key given several
    times becomes a list, as novaclient sends it."""
    hints = {}
    for pair in pairs:
        key, value = key_value(pair, "--hint")
        if key in hints:
            previous = hints[key] if isinstance(hints[key], list) else [hints[key]]
            hints[key] = previous + [value]
        else:
            hints[key] = value
    return hints


def _wait_for_build(client, server_id, name, timeout):
    return wait_for_server(client, server_id, name, timeout,
                           lambda server: server["status"] != "BUILD")


def wait_for_server(client, server_id, name, timeout, finished):
    """Print each (status, task state) the server goes through until
    ``finished(server)``; then its fault if it went to ERROR."""
    def describe(server):
        task = server["OS-EXT-STS:task_state"]
        return f"Server {name} {server_id}: {server['status']}{f' ({task})' if task else ''}"

    server = poll(lambda: client.get_server(server_id), describe, finished, timeout)
    if server["status"] == "ERROR" and "fault" in server:
        print(f"ERROR: {server['fault']['message']}", file=sys.stderr)
    elif not finished(server):
        print(f"ERROR: still {server['status']} after {timeout} s", file=sys.stderr)
    return server


def wait_for_action(client, server, timeout, statuses, request_id=None, what="action",
                    over=None):
    """``--poll`` of an action: print the server's states until the action
    is ``over`` (by default: its task_state cleared). Exit status 0 if it
    ended in one of ``statuses``; else 1, and why, from the action's record
    (``request_id``)."""
    over = over or task_over
    final = wait_for_server(client, server["id"], server["name"], timeout, over)
    if final["status"] in statuses and over(final):
        return 0
    if final["status"] != "ERROR" and request_id:
        # An ERROR has shown its fault already; a failure that left the
        # server as it was (a resize with no host) shows only here.
        print(f"ERROR: the {what} of server {server['name']} failed: "
              f"{_failure_of(client, server, request_id)}", file=sys.stderr)
    return 1


def _failure_of(client, server, request_id):
    """What went wrong, from the failed event of the instance action: the
    exception an admin sees in its traceback, else where to look."""
    try:
        action = client.get_instance_action(server["id"], request_id)
    except ClientException:
        action = {}
    failed = [e for e in action.get("events", []) if e.get("result") == "Error"]
    for event in failed:
        if event.get("traceback"):
            return _exception_line(event["traceback"])
    if failed:
        return (f"{failed[0]['event']}: Error (the reason is shown to administrators: "
                f"mininova instance-action {server['id']} {request_id})")
    return f"see mininova instance-action {server['id']} {request_id}"


def _exception_line(traceback_text):
    """``NoValidHost: No valid host was found. ...`` from a traceback's last
    line (``mininova.exception.NoValidHost: ...``)."""
    last = traceback_text.strip().splitlines()[-1]
    name, sep, message = last.partition(": ")
    return f"{name.rsplit('.', 1)[-1]}{sep}{message}"


def task_over(server):
    """Whether an action is over, well or not: the API set its task_state
    before it answered, and only the action's end clears it."""
    return server["OS-EXT-STS:task_state"] is None


# --- list, show, delete, console-log ------------------------------------------------

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
    print_dict(server_for_display(client.get_server(server["id"])))
    return 0


def do_update(client, args):
    fields = {key: value for key, value in (("name", args.name),
                                            ("description", args.description))
              if value is not None}
    client.update_server(client.find_server(args.server)["id"], **fields)
    return 0


def do_delete(client, args):
    return delete_each(args.server, "server",
                       lambda name: client.delete_server(client.find_server(name)["id"]),
                       "Request to delete server {name} has been accepted.")


def do_console_log(client, args):
    server = client.find_server(args.server)
    print(client.console_output(server["id"], args.length), end="")
    return 0


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
