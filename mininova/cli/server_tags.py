"""The server tag commands of ``mininova`` (novaclient's ``server-tag-*``,
over ``/servers/<id>/tags``, microversion 2.26)::

    mininova server-tag-list <server>
    mininova server-tag-add <server> <tag> [<tag> ...]
    mininova server-tag-set <server> <tag> [<tag> ...]    (replaces them all)
    mininova server-tag-delete <server> <tag> [<tag> ...]
    mininova server-tag-delete-all <server>

As novaclient's, only the list prints something.
"""

from mininova.cli.utils import add_command, print_list


def add_commands(commands):
    add_command(commands, "server-tag-list", do_server_tag_list,
                "Get the tags of a server.").add_argument("server")
    for name, function, help_text in (
            ("server-tag-add", do_server_tag_add, "Add one or more tags to a server."),
            ("server-tag-set", do_server_tag_set, "Set the tags of a server (replacing them)."),
            ("server-tag-delete", do_server_tag_delete, "Delete one or more tags of a server.")):
        command = add_command(commands, name, function, help_text)
        command.add_argument("server")
        command.add_argument("tag", nargs="+")
    add_command(commands, "server-tag-delete-all", do_server_tag_delete_all,
                "Delete all the tags of a server.").add_argument("server")


def do_server_tag_list(client, args):
    tags = client.list_server_tags(client.find_server(args.server)["id"])
    print_list([{"Tag": tag} for tag in tags], ["Tag"])
    return 0


def do_server_tag_add(client, args):
    server_id = client.find_server(args.server)["id"]
    for tag in args.tag:
        client.add_server_tag(server_id, tag)
    return 0


def do_server_tag_set(client, args):
    client.set_server_tags(client.find_server(args.server)["id"], args.tag)
    return 0


def do_server_tag_delete(client, args):
    server_id = client.find_server(args.server)["id"]
    for tag in args.tag:
        client.delete_server_tag(server_id, tag)
    return 0


def do_server_tag_delete_all(client, args):
    client.delete_server_tags(client.find_server(args.server)["id"])
    return 0
