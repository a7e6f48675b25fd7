"""The quota commands of ``mininova``: quota-show, quota-defaults,
quota-update and quota-delete (admin), and limits (novaclient's
``quota-*`` and ``limits`` commands of ``novaclient/v2/shell.py``, over its
``quotas.py`` and ``limits.py``).

A project is named by its id; without ``--tenant`` it is the token's.
"""

from mininova.cli.utils import add_command, print_list

# The quotas quota-update can set, as its options name them.
RESOURCES = ("instances", "cores", "ram", "metadata_items", "key_pairs", "server_groups",
             "server_group_members")

# Absolute limits as novaclient's ``limits`` shows them: name, used, max.
LIMITS = [("Cores", "totalCoresUsed", "maxTotalCores"),
          ("Instances", "totalInstancesUsed", "maxTotalInstances"),
          ("Keypairs", None, "maxTotalKeypairs"),
          ("RAM", "totalRAMUsed", "maxTotalRAMSize"),
          ("Server Meta", None, "maxServerMeta"),
          ("ServerGroupMembers", None, "maxServerGroupMembers"),
          ("ServerGroups", "totalServerGroupsUsed", "maxServerGroups")]


def add_commands(commands):
    show = add_command(commands, "quota-show", do_quota_show, "Show a project's quotas.")
    show.add_argument("--tenant", metavar="PROJECT_ID")
    show.add_argument("--detail", action="store_true", help="with what is in use")
    add_command(commands, "quota-defaults", do_quota_defaults,
                "Show the quotas a project gets by default.").add_argument(
                    "--tenant", metavar="PROJECT_ID")
    update = add_command(commands, "quota-update", do_quota_update,
                         "Set a project's quotas (admin only).")
    update.add_argument("tenant", metavar="PROJECT_ID")
    for resource in RESOURCES:
        update.add_argument(f"--{resource.replace('_', '-')}", dest=resource, type=int,
                            metavar="N")
    update.add_argument("--force", action="store_true",
                        help="even below what the project uses now")
    add_command(commands, "quota-delete", do_quota_delete,
                "Give a project the default quotas again (admin only).").add_argument(
                    "--tenant", metavar="PROJECT_ID", required=True)
    add_command(commands, "limits", do_limits,
                "Show your quotas and what you use of them.").add_argument(
                    "--tenant", metavar="PROJECT_ID")


def _project(args):
    return args.tenant or _token_project(args)


def _token_project(args):
    return args.os_token.split(":", 1)[-1]


def _print_quotas(quota_set):
    rows = [{"Quota": name, "Limit": value} for name, value in sorted(quota_set.items())
            if name != "id"]
    print_list(rows, ["Quota", "Limit"])


def do_quota_show(client, args):
    quotas = client.get_quotas(_project(args), detail=args.detail)
    if not args.detail:
        _print_quotas(quotas)
        return 0
    rows = [{"Quota": name, "In Use": value["in_use"], "Reserved": value["reserved"],
             "Limit": value["limit"]} for name, value in sorted(quotas.items()) if name != "id"]
    print_list(rows, ["Quota", "In Use", "Reserved", "Limit"])
    return 0


def do_quota_defaults(client, args):
    _print_quotas(client.get_quotas(_project(args), defaults=True))
    return 0


def do_quota_update(client, args):
    limits = {r: getattr(args, r) for r in RESOURCES if getattr(args, r) is not None}
    client.update_quotas(args.tenant, limits, force=args.force)
    return 0


def do_quota_delete(client, args):
    client.delete_quotas(args.tenant)
    return 0


def do_limits(client, args):
    absolute = client.get_limits(args.tenant)["absolute"]
    rows = [{"Name": name, "Used": absolute.get(used, "-") if used else "-",
             "Max": absolute[maximum]} for name, used, maximum in LIMITS]
    print_list(rows, ["Name", "Used", "Max"])
    return 0
