"""The flavor commands of ``mininova``: flavor-list, flavor-show,
flavor-create and flavor-delete (admin), flavor-key, which sets or unsets
a flavor's extra specs, and flavor-access-list/-add/-remove for private
flavors (novaclient's ``flavor-*`` commands of ``novaclient/v2/shell.py``,
over its ``novaclient/v2/flavors.py`` and ``flavor_access.py``).
"""

from mininova.cli.utils import add_command, key_value, print_dict, print_list


def add_commands(commands):
    add_command(commands, "flavor-list", do_flavor_list, "List flavors.")
    add_command(commands, "flavor-show", do_flavor_show,
                "Show a flavor and its extra specs.").add_argument("flavor")
    create = add_command(commands, "flavor-create", do_flavor_create,
                         "Create a new flavor (admin only).")
    create.add_argument("name")
    create.add_argument("id", help='unique ID; "auto" makes a UUID')
    create.add_argument("ram", type=int, help="memory in MB")
    create.add_argument("disk", type=int, help="root disk in GB")
    create.add_argument("vcpus", type=int)
    create.add_argument("--ephemeral", type=int, default=0, help="ephemeral disk in GB")
    create.add_argument("--swap", type=int, default=0, help="swap in MB")
    create.add_argument("--rxtx-factor", type=float, default=1.0)
    create.add_argument("--is-public", default="true", choices=["true", "false"],
                        help="false: only projects given access may use it")
    add_command(commands, "flavor-delete", do_flavor_delete,
                "Delete a flavor (admin only).").add_argument("flavor")
    access_list = add_command(commands, "flavor-access-list", do_flavor_access_list,
                              "Projects that may use a private flavor.")
    access_list.add_argument("--flavor", required=True)
    for name, function, text in (
            ("flavor-access-add", do_flavor_access_add, "Give a project a private flavor."),
            ("flavor-access-remove", do_flavor_access_remove,
             "Take a private flavor from a project.")):
        access = add_command(commands, name, function, text)
        access.add_argument("flavor")
        access.add_argument("tenant_id", metavar="project_id")
    key = add_command(commands, "flavor-key", do_flavor_key, "Set or unset extra specs.")
    key.add_argument("flavor")
    key.add_argument("action", choices=["set", "unset"])
    key.add_argument("metadata", nargs="+", metavar="key=value",
                     help="key=value to set; key to unset")


def do_flavor_list(client, args):
    _print_flavors(client.list_flavors())
    return 0


def _print_flavors(flavors):
    rows = [{"ID": f["id"], "Name": f["name"], "Memory_MiB": f["ram"], "Disk": f["disk"],
             "Ephemeral": f["OS-FLV-EXT-DATA:ephemeral"], "Swap": f["swap"],
             "VCPUs": f["vcpus"], "RXTX_Factor": f["rxtx_factor"],
             "Is_Public": f["os-flavor-access:is_public"]}
            for f in flavors]
    print_list(rows, ["ID", "Name", "Memory_MiB", "Disk", "Ephemeral", "Swap", "VCPUs",
                      "RXTX_Factor", "Is_Public"])


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


def do_flavor_create(client, args):
    flavor = client.create_flavor(
        args.name, args.ram, args.disk, args.vcpus,
        # novaclient's "auto" is sent as no id at all: the API makes a UUID.
        flavor_id=None if args.id == "auto" else args.id, ephemeral=args.ephemeral,
        swap=args.swap, rxtx_factor=args.rxtx_factor, is_public=args.is_public == "true")
    _print_flavors([flavor])
    return 0


def do_flavor_delete(client, args):
    client.delete_flavor(client.find_flavor(args.flavor)["id"])
    return 0


def _print_access(entries):
    print_list([{"Flavor_ID": e["flavor_id"], "Tenant_ID": e["tenant_id"]} for e in entries],
               ["Flavor_ID", "Tenant_ID"])
    return 0


def do_flavor_access_list(client, args):
    return _print_access(client.list_flavor_access(client.find_flavor(args.flavor)["id"]))


def do_flavor_access_add(client, args):
    flavor = client.find_flavor(args.flavor)
    return _print_access(client.flavor_access(flavor["id"], "addTenantAccess", args.tenant_id))


def do_flavor_access_remove(client, args):
    flavor = client.find_flavor(args.flavor)
    return _print_access(client.flavor_access(flavor["id"], "removeTenantAccess",
                                              args.tenant_id))
