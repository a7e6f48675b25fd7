"""The ``mininova`` command (mirrors python-novaclient's ``nova`` shell).

    mininova boot --image tiny --flavor m1.nano --wait vm1
    mininova list | show | delete | console-log | server-explain
    mininova stop | start | reboot | pause | unpause | suspend | resume
    mininova resize | resize-confirm | resize-revert | migrate | rebuild
    mininova image-create <server> <name>  (a snapshot)
    mininova instance-action-list | instance-action
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

The commands live in a module per resource, as novaclient's ``v2/`` has a
module per resource (``servers.py``, ``flavors.py``...):

- :mod:`.servers`: boot, list, show, delete, console-log, server-explain;
- :mod:`.server_actions`: stop, start, reboot, pause, unpause, suspend,
  resume, resize, resize-confirm, resize-revert, migrate, rebuild;
- :mod:`.instance_actions`: instance-action-list, instance-action;
- :mod:`.server_groups`: server-group-*;
- :mod:`.flavors`: flavor-list, flavor-show, flavor-key;
- :mod:`.images`: image-* (image-create also snapshots a server), image-cache;
- :mod:`.hosts`: service-*, hypervisor-*, aggregate-*, availability-zone-list.

Each has ``add_commands(commands)``, which adds its sub-commands to the
parser. This module holds what they share (the tables, ``key=value``
arguments, the progress bar, acting on or deleting several resources by
name, polling until a state is reached) and ``main()``: parse the arguments,
call the command, map errors to a message and an exit status.
"""

import argparse
import json
import os
import sys
import time

import prettytable

from mininova.cli.client import Client, ClientException

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
    return json.dumps(value, sort_keys=True)


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


# --- what the commands share ---------------------------------------------------------

def key_value(text, option="--property"):
    """``key=value`` as ``(key, value)``; anything else ends the command."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"error: {option} takes key=value, got {text!r}")
    return key, value


def delete_each(names, noun, delete, deleted_message):
    """Delete several resources by name, as novaclient's ``delete`` commands
    do: ``delete(name)`` for each, then ``deleted_message`` (its ``{name}``
    filled in) on stdout, or ``Delete for <noun> <name> failed: ...`` on
    stderr and on to the next name. Exit status 1 if any delete failed."""
    failures = _each(names, delete, deleted_message,
                     lambda name, exc: f"Delete for {noun} {name} failed: {exc}")
    return 1 if failures else 0


def act_on_each(names, act, accepted_message, unable_message):
    """Run an action on several servers, as novaclient's ``stop``, ``start``
    and ``reboot`` do: ``act(name)`` for each, ``accepted_message`` (its
    ``{name}`` filled in; None prints nothing) on stdout, or the error on
    stderr and on to the next. If any failed, ``unable_message`` ends the
    command with exit status 1."""
    failures = _each(names, act, accepted_message, lambda _name, exc: str(exc))
    if failures:
        print(f"ERROR (CommandError): {unable_message}", file=sys.stderr)
        return 1
    return 0


def _each(names, act, done_message, failure_message):
    """The number of names ``act`` failed on; one does not stop the others."""
    failures = 0
    for name in names:
        try:
            act(name)
        except ClientException as exc:
            print(failure_message(name, exc), file=sys.stderr)
            failures += 1
            continue
        if done_message is not None:
            print(done_message.format(name=name))
    return failures


def poll(fetch, describe, finished, timeout, interval=0.5):
    """``fetch()`` until ``finished(value)`` or ``timeout`` seconds, printing
    ``describe(value)`` each time it changes (``--wait``, ``--poll``): the
    states a server or an image goes through. Returns the last value."""
    deadline = time.monotonic() + timeout
    shown = None
    while True:
        value = fetch()
        line = describe(value)
        if line != shown:
            print(line, flush=True)
            shown = line
        if finished(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# --- arguments -----------------------------------------------------------------

def build_parser():
    # Imported here rather than at the top: the command modules import this
    # module's helpers, so they must come after this module is complete.
    from mininova.cli import (
        flavors,
        hosts,
        images,
        instance_actions,
        server_actions,
        server_groups,
        servers,
    )

    parser = argparse.ArgumentParser(prog="mininova", description=__doc__.split("\n\n")[0])
    parser.add_argument("--os-compute-url", default=os.environ.get(
        "MININOVA_COMPUTE_URL", "http://127.0.0.1:8774/v2.1"))
    parser.add_argument("--os-image-url", default=os.environ.get(
        "MININOVA_IMAGE_URL", "http://127.0.0.1:9292"))
    parser.add_argument("--os-token", default=os.environ.get("MININOVA_TOKEN", "admin:admin"),
                        help="<user>:<project>; the user 'admin' is an administrator")
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    for resource in (servers, server_actions, instance_actions, server_groups, flavors,
                     images, hosts):
        resource.add_commands(commands)
    return parser


def add_command(commands, name, function, help_text):
    """A sub-command that runs ``function(client, args)``; add its arguments
    to the parser this returns."""
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
