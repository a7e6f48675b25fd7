"""The flavor commands of ``mininova``: flavor-list, flavor-show and
flavor-key, which sets or unsets a flavor's extra specs (novaclient's
``flavor-*`` commands of ``novaclient/v2/shell.py``, over its
``novaclient/v2/flavors.py``).
"""

from mininova.cli.utils import add_command, key_value, print_dict, print_list


def add_commands(commands):
    add_command(commands, "flavor-list", do_flavor_list, "List flavors.")
    add_command(commands, "flavor-show", do_flavor_show,
                "Show a flavor and its extra specs.").add_argument("flavor")
    key = add_command(commands, "flavor-key", do_flavor_key, "Set or unset extra specs.")
    key.add_argument("flavor")
    key.add_argument("action", choices=["set", "unset"])
    key.add_argument("metadata", nargs="+", metavar="key=value",
                     help="key=value to set; key to unset")


def do_flavor_list(client, args):
    rows = [{"ID": f["id"], "Name": f["name"], "Memory_MiB": f["ram"], "Disk": f["disk"],
             "Ephemeral": f["OS-FLV-EXT-DATA:ephemeral"], "Swap": f["swap"],
             "VCPUs": f["vcpus"], "RXTX_Factor": f["rxtx_factor"],
             "Is_Public": f["os-flavor-access:is_public"]}
            for f in client.list_flavors()]
    print_list(rows, ["ID", "Name", "Memory_MiB", "Disk", "Ephemeral", "Swap", "VCPUs",
                      "RXTX_Factor", "Is_Public"])
    return 0


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
        specs = dict(key_value(pair, "flavor-key set") for pair in args.metadata)
        client.set_flavor_extra_specs(flavor["id"], specs)
    else:
        for key in args.metadata:
            client.delete_flavor_extra_spec(flavor["id"], key.partition("=")[0])
    return 0
