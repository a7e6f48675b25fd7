"""The lifecycle commands of ``mininova``: stop, start, reboot, pause,
unpause, suspend, resume, resize, resize-confirm, resize-revert, migrate,
rebuild, lock and unlock (the server action commands of novaclient's ``novaclient/v2/shell.py``,
over the actions of its ``novaclient/v2/servers.py``). Snapshots are
``image-create <server> <name>``, in :mod:`.images`.

Each sends one ``POST /servers/<id>/action`` and returns once the API has
accepted it (202): the work runs later on the compute host. ``--poll``
then prints the states the server goes through, as ``boot --wait`` does.
What novaclient prints is kept: ``Request to stop server vm1 has been
accepted.`` for stop, start and reboot, which take several servers.
mininova's pause, unpause, suspend and resume also take several servers
(novaclient's take one) and say the same of each (novaclient's say nothing,
which leaves a student wondering whether anything happened).

``--poll`` exits with status 1 when the action did not reach its end state,
and says why from the action's record (``os-instance-actions``): a resize
the scheduler could not place leaves the server ACTIVE, which is not
success.

``lock`` and ``unlock`` print nothing, as novaclient's: they are done when
the API answers. ``lock --reason`` asks microversion 2.73.

Left out: ``--all-tenants`` lookups by name, rebuild's password, files,
key and user data, migrate's ``--host`` (2.56), rescue, shelve.
"""

from mininova.cli.servers import server_for_display, task_over, wait_for_action
from mininova.cli.utils import act_on_each, add_command, key_value, print_dict

POLL_TIMEOUT = 300

# name -> (API action, accepted message, the status it ends in, help); each
# acts on one or more servers.
SIMPLE_ACTIONS = {
    "stop": ("os-stop", "Request to stop server {name} has been accepted.", "SHUTOFF",
             "Stop the server(s)."),
    "start": ("os-start", "Request to start server {name} has been accepted.", "ACTIVE",
              "Start the server(s)."),
    "pause": ("pause", "Request to pause server {name} has been accepted.", "PAUSED",
              "Pause the server(s)."),
    "unpause": ("unpause", "Request to unpause server {name} has been accepted.", "ACTIVE",
                "Unpause the server(s)."),
    "suspend": ("suspend", "Request to suspend server {name} has been accepted.",
                "SUSPENDED", "Suspend the server(s)."),
    "resume": ("resume", "Request to resume server {name} has been accepted.", "ACTIVE",
               "Resume the server(s)."),
}


def add_commands(commands):
    for name, (action, accepted, end_status, help_text) in SIMPLE_ACTIONS.items():
        command = add_command(commands, name,
                              _simple_action(name, action, accepted, end_status), help_text)
        _add_poll(command, f"wait until the server(s) are {end_status}")
        command.add_argument("server", nargs="+", help="name or ID of server(s)")

    reboot = add_command(commands, "reboot", do_reboot, "Reboot the server(s).")
    reboot.add_argument("--hard", dest="reboot_type", action="store_const", const="HARD",
                        default="SOFT", help="a hard reboot (power cycle) instead of a soft one")
    _add_poll(reboot, "wait until the reboot is complete")
    reboot.add_argument("server", nargs="+", help="name or ID of server(s)")

    resize = add_command(commands, "resize", do_resize, "Resize a server.")
    _add_poll(resize, "report the resize progress until it completes")
    resize.add_argument("server", help="name or ID of server")
    resize.add_argument("flavor", help="name or ID of the new flavor")
    confirm = add_command(commands, "resize-confirm", do_resize_confirm,
                          "Confirm a previous resize.")
    _add_poll(confirm, "wait until the source host has let go of the server")
    confirm.add_argument("server")
    revert = add_command(commands, "resize-revert", do_resize_revert,
                         "Revert a previous resize (and return to the previous "
                         "host and flavor).")
    _add_poll(revert, "wait until the server is back on its host")
    revert.add_argument("server")
    migrate = add_command(commands, "migrate", do_migrate,
                          "Migrate a server. The new host is chosen by the scheduler.")
    _add_poll(migrate, "report the migration progress until it completes")
    migrate.add_argument("server")

    rebuild = add_command(commands, "rebuild", do_rebuild,
                          "Shut down, re-image, and re-boot a server.")
    rebuild.add_argument("--name", help="a new name for the server")
    rebuild.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                         help="the server's new metadata; repeatable")
    _add_poll(rebuild, "report the rebuild progress until it completes")
    rebuild.add_argument("server", help="name or ID of server")
    rebuild.add_argument("image", help="name or ID of the new image")


    lock = add_command(commands, "lock", do_lock,
                       "Lock a server: only an admin may then act on it.")
    lock.add_argument("--reason", help="why it is locked (shown as locked_reason)")
    lock.add_argument("server", nargs="+", help="name or ID of server(s)")
    add_command(commands, "unlock", do_unlock, "Unlock a server.").add_argument(
        "server", nargs="+", help="name or ID of server(s)")


def _add_poll(command, help_text):
    command.add_argument("--poll", action="store_true", help=help_text)
    command.add_argument("--timeout", type=int, default=POLL_TIMEOUT,
                         help="seconds --poll waits")


# --- actions on one or more servers ------------------------------------------------

def _simple_action(name, action, accepted, end_status):
    def do_action(client, args):
        return _act_on_servers(client, args, args.server, name, action, None, accepted,
                               [end_status])
    return do_action


def do_reboot(client, args):
    # Found first, as novaclient does: a name that matches no server stops
    # the command before any server reboots. They are then named as
    # novaclient names a server it found: ``vm1 (<uuid>)``.
    found = {f"{s['name']} ({s['id']})": s["id"] for s in map(client.find_server, args.server)}
    return _act_on_servers(client, args, found, "reboot", "reboot",
                           {"type": args.reboot_type},
                           "Request to reboot server {name} has been accepted.", ["ACTIVE"],
                           server_id=found.get)


def _act_on_servers(client, args, names, name, action, info, accepted, end_statuses,
                    server_id=None):
    """``action`` on each server of ``names``; with ``--poll``, wait for each
    accepted one to end in ``end_statuses``. ``server_id(name)`` tells the
    server's ID (by default: look the name up)."""
    server_id = server_id or (lambda server_name: client.find_server(server_name)["id"])
    accepted_requests = {}

    def act(server_name):
        response = client.server_action(server_id(server_name), action, info)
        accepted_requests[server_name] = response.headers.get("x-compute-request-id")
    code = act_on_each(names, act, accepted, f"Unable to {name} the specified server(s).")
    if args.poll:
        for server_name, request_id in accepted_requests.items():
            server = client.get_server(server_id(server_name))
            code |= wait_for_action(client, server, args.timeout, end_statuses, request_id,
                                    name)
    return code


# --- lock -----------------------------------------------------------------------------

def do_lock(client, args):
    info = {"locked_reason": args.reason} if args.reason else None
    return act_on_each(args.server, lambda name: client.server_action(
        client.find_server(name)["id"], "lock", info, microversion="2.73"), None,
        "Unable to lock the specified server(s).")


def do_unlock(client, args):
    return act_on_each(args.server, lambda name: client.server_action(
        client.find_server(name)["id"], "unlock"), None,
        "Unable to unlock the specified server(s).")


# --- resize, migrate, rebuild ---------------------------------------------------

def do_resize(client, args):
    server = client.find_server(args.server)
    flavor = client.find_flavor(args.flavor)
    response = client.server_action(server["id"], "resize", {"flavorRef": flavor["id"]})
    if not args.poll:
        return 0
    # Done means waiting for the user's confirm: back to ACTIVE is a failure.
    return wait_for_action(client, server, args.timeout, ["VERIFY_RESIZE"],
                           response.headers.get("x-compute-request-id"), "resize")


def do_resize_confirm(client, args):
    server = client.find_server(args.server)
    response = client.server_action(server["id"], "confirmResize")
    if not args.poll:
        return 0
    # A confirm sets no task_state: it is over when the server leaves
    # VERIFY_RESIZE (the source host has dropped its copy).
    return wait_for_action(client, server, args.timeout, ["ACTIVE", "SHUTOFF"],
                           response.headers.get("x-compute-request-id"), "resize confirm",
                           over=lambda s: s["status"] != "VERIFY_RESIZE" and task_over(s))


def do_resize_revert(client, args):
    server = client.find_server(args.server)
    response = client.server_action(server["id"], "revertResize")
    if not args.poll:
        return 0
    return wait_for_action(client, server, args.timeout, ["ACTIVE", "SHUTOFF"],
                           response.headers.get("x-compute-request-id"), "resize revert")


def do_migrate(client, args):
    server = client.find_server(args.server)
    response = client.server_action(server["id"], "migrate")
    if not args.poll:
        return 0
    return wait_for_action(client, server, args.timeout, ["VERIFY_RESIZE"],
                           response.headers.get("x-compute-request-id"), "migration")


def do_rebuild(client, args):
    server = client.find_server(args.server)
    image = client.find_image(args.image)
    metadata = dict(key_value(pair, "--meta") for pair in args.meta)
    rebuilt, request_id = client.rebuild_server(server["id"], image["id"], name=args.name,
                                                metadata=metadata)
    code = 0
    if args.poll:
        code = wait_for_action(client, rebuilt, args.timeout, ["ACTIVE", "SHUTOFF"],
                               request_id, "rebuild")
        rebuilt = client.get_server(server["id"])
    print_dict(server_for_display(rebuilt))
    return code

