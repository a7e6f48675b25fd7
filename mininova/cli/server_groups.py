"""The server group commands of ``mininova``: server-group-create, -list,
-show and -delete (novaclient's ``server-group-*`` commands of
``novaclient/v2/shell.py``, over its ``novaclient/v2/server_groups.py``).

A server group's policy (``affinity`` or ``anti-affinity``) is what the
scheduler keeps when a boot names the group: ``boot --hint group=<id>``.
"""

from mininova.cli.utils import add_command, delete_each, print_list

SERVER_GROUP_FIELDS = ["Id", "Name", "Project Id", "User Id", "Policies", "Members",
                       "Metadata"]


def add_commands(commands):
    group = add_command(commands, "server-group-create", do_server_group_create,
                        "Create a server group.")
    group.add_argument("name")
    group.add_argument("policy", help="affinity or anti-affinity")
    groups = add_command(commands, "server-group-list", do_server_group_list,
                         "List server groups.")
    groups.add_argument("--all-projects", action="store_true")
    add_command(commands, "server-group-show", do_server_group_show,
                "Show a server group.").add_argument("group")
    add_command(commands, "server-group-delete", do_server_group_delete,
                "Delete server groups.").add_argument("group", nargs="+")


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
    return delete_each(
        args.group, "server group",
        lambda name: client.delete_server_group(client.find_server_group(name)["id"]),
        "Server group {name} has been successfully deleted.")
