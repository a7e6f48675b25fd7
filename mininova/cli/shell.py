"""The ``mininova`` command (mirrors python-novaclient's ``nova`` shell).

    mininova boot --image tiny --flavor m1.nano --wait vm1
    mininova list | show | update | delete | meta | console-log | server-explain
    mininova stop | start | reboot | pause | unpause | suspend | resume
    mininova resize | resize-confirm | resize-revert | migrate | rebuild
    mininova lock | unlock | server-tag-*
    mininova image-create <server> <name>  (a snapshot)
    mininova instance-action-list | instance-action
    mininova flavor-list | flavor-show | flavor-create | flavor-delete | flavor-key
    mininova flavor-access-list | flavor-access-add | flavor-access-remove
    mininova keypair-add | keypair-list | keypair-show | keypair-delete
    mininova quota-show | quota-defaults | quota-update | quota-delete | limits
    mininova image-list | image-create | image-show | image-update | image-delete
    mininova image-cache
    mininova service-list | service-enable | service-disable | hypervisor-list
    mininova aggregate-* | availability-zone-list | server-group-*

Tables look like novaclient's. Who you are and where the cloud is: with
Keystone, the ``OS_*`` variables of an openrc or ``--os-cloud`` (the
catalog gives the endpoints); without (noauth2), ``--os-token`` /
``MININOVA_TOKEN`` as ``<user>:<project>`` (default ``admin:admin``) and
``--os-compute-url`` / ``MININOVA_COMPUTE_URL`` (default
http://127.0.0.1:8774/v2.1), ``--os-image-url`` / ``MININOVA_IMAGE_URL``
(http://127.0.0.1:9292). See :mod:`.auth`.

The commands live in a module per resource, as novaclient's ``v2/`` has a
module per resource (``servers.py``, ``flavors.py``...):

- :mod:`.servers`: boot, list, show, update, delete, meta, console-log, server-explain;
- :mod:`.server_actions`: stop, start, reboot, pause, unpause, suspend,
  resume, resize, resize-confirm, resize-revert, migrate, rebuild, lock, unlock;
- :mod:`.server_tags`: server-tag-*;
- :mod:`.instance_actions`: instance-action-list, instance-action;
- :mod:`.server_groups`: server-group-*;
- :mod:`.flavors`: flavor-list, flavor-show, flavor-create, flavor-delete,
  flavor-key, flavor-access-*;
- :mod:`.keypairs`: keypair-*;
- :mod:`.quotas`: quota-*, limits;
- :mod:`.images`: image-* (image-create also snapshots a server), image-cache;
- :mod:`.hosts`: service-*, hypervisor-*, aggregate-*, availability-zone-list;
- :mod:`.volumes`: volume-attach, volume-detach, volume-attachments (and
  boot's --block-device, --swap, --ephemeral).

Each has ``add_commands(commands)``, which adds its sub-commands to the
parser. What they share (the tables, ``key=value`` arguments, the progress
bar, acting on or deleting several resources by name, polling until a
state is reached) is in :mod:`.utils`, as novaclient keeps it in its
``utils.py``. This module is the entry point: ``main()`` parses the
arguments, calls the command, and maps errors to a message and an exit
status; ``mininova help [command]`` prints the help of one command.
"""

import argparse
import os
import sys

from keystoneauth1 import exceptions as keystone_exceptions

from mininova.cli import (
    auth,
    flavors,
    hosts,
    images,
    instance_actions,
    keypairs,
    quotas,
    server_actions,
    server_groups,
    server_tags,
    servers,
    volumes,
)
from mininova.cli.client import Client, ClientException
from mininova.cli.utils import add_command

# --- arguments -----------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(prog="mininova", description=__doc__.split("\n\n")[0])
    parser.add_argument("--os-cloud", default=None,
                        help="a cloud of clouds.yaml to authenticate with Keystone "
                        "(or OS_CLOUD, or the OS_* variables of an openrc)")
    parser.add_argument("--os-compute-url", default=os.environ.get("MININOVA_COMPUTE_URL"),
                        help="the compute API (default: the Keystone catalog's, else "
                        f"{auth.DEFAULT_COMPUTE_URL})")
    parser.add_argument("--os-image-url", default=os.environ.get("MININOVA_IMAGE_URL"),
                        help="the image service (default: the Keystone catalog's, else "
                        f"{auth.DEFAULT_IMAGE_URL})")
    parser.add_argument("--os-token", default=os.environ.get("MININOVA_TOKEN"),
                        help="without Keystone (noauth2): <user>:<project>; the user "
                        "'admin' is an administrator (default admin:admin)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    for resource in (servers, server_actions, server_tags, instance_actions, server_groups,
                     flavors, images, hosts, keypairs, quotas, volumes):
        resource.add_commands(commands)
    help_command = add_command(commands, "help", _help_printer(parser, commands),
                               "Display help about this program or one of its commands.")
    help_command.add_argument("command_name", metavar="<subcommand>", nargs="?",
                              help="the command to show the help of")
    return parser


def _help_printer(parser, commands):
    """``mininova help [command]``, as novaclient's ``nova help``."""
    def do_help(client, args):
        if args.command_name is None:
            parser.print_help()
            return 0
        if args.command_name not in commands.choices:
            print(f"ERROR (CommandError): '{args.command_name}' is not a valid subcommand",
                  file=sys.stderr)
            return 1
        commands.choices[args.command_name].print_help()
        return 0
    return do_help


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        client = Client(*auth.endpoints_and_token(args.os_cloud, args.os_compute_url,
                                                  args.os_image_url, args.os_token))
    except (auth.AuthError, keystone_exceptions.ClientException) as exc:
        print(f"ERROR (AuthError): {exc}", file=sys.stderr)
        return 1
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
