"""The instance action commands of ``mininova``: instance-action-list and
instance-action (novaclient's commands of the same names, in
``novaclient/v2/shell.py``, over ``novaclient/v2/instance_action.py``).

    mininova instance-action-list vm1       Action | Request_ID | Message | Start_Time
    mininova instance-action vm1 req-...    the action, its events as Python text

As in novaclient, the table is sorted by start time (oldest first) and a
server that is not found by name is looked up by ID, which is how a deleted
server's actions are read. Left out: paging and time filters.
"""

import pprint

from mininova.cli.client import ClientException
from mininova.cli.utils import add_command, print_dict, print_list

LIST_FIELDS = ["Action", "Request_ID", "Message", "Start_Time"]


def add_commands(commands):
    listing = add_command(commands, "instance-action-list", do_instance_action_list,
                          "List actions on a server.")
    listing.add_argument("server", help="name or ID of the server (only an ID "
                                        "finds a deleted server)")
    show = add_command(commands, "instance-action", do_instance_action, "Show an action.")
    show.add_argument("server", help="name or ID of the server (only an ID finds a "
                                     "deleted server)")
    show.add_argument("request_id", metavar="request-id",
                      help="the request ID of the action (see instance-action-list)")


def do_instance_action_list(client, args):
    actions = client.list_instance_actions(_server_id(client, args.server))
    # The API lists newest first; reversed, equal start times stay in order.
    oldest_first = sorted(reversed(actions), key=lambda action: action["start_time"] or "")
    rows = [{"Action": a["action"], "Request_ID": a["request_id"],
             "Message": _dash(a["message"]), "Start_Time": a["start_time"]}
            for a in oldest_first]
    print_list(rows, LIST_FIELDS)
    return 0


def do_instance_action(client, args):
    action = client.get_instance_action(_server_id(client, args.server), args.request_id)
    if "events" in action:
        # novaclient prints the events as Python's pretty-printer shows them.
        action["events"] = pprint.pformat(action["events"])
    print_dict(action)
    return 0


def _server_id(client, name_or_id):
    """The server's ID; what was given, if no server has that name or ID
    (a deleted server is no longer listed, but the API still finds it)."""
    try:
        return client.find_server(name_or_id)["id"]
    except ClientException as exc:
        if exc.code != 404:
            raise
        return name_or_id


def _dash(value):
    return "-" if value is None else value
