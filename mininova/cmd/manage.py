"""``mininova-manage`` (mirrors ``nova/cmd/manage.py``): operator commands that
work on the database directly.

    mininova-manage db sync            create or upgrade the schema (Alembic)
    mininova-manage db version         the schema revision
    mininova-manage flavor create NAME --ram MB --disk GB --vcpus N [--id ID]
                                       [--ephemeral GB] [--swap MB] [--private]
    mininova-manage flavor list
    mininova-manage flavor delete ID
"""

import sys

import prettytable
from oslo_config import cfg

from mininova import config, context, exception
from mininova.conf import CONF
from mininova.db import flavors as flavors_db
from mininova.db import migration


class DbCommands:
    def sync(self):
        migration.db_sync()
        print(f"Database is at revision {migration.db_version()}")

    def version(self):
        print(migration.db_version())


class FlavorCommands:
    def create(self):
        args = CONF.category
        flavorid = args.id or str(max((int(f["flavorid"]) for f in _flavors()
                                       if f["flavorid"].isdigit()), default=0) + 1)
        flavor = flavors_db.flavor_create(context.get_admin_context(), {
            "name": args.flavor_name, "flavorid": flavorid, "memory_mb": args.ram,
            "root_gb": args.disk, "vcpus": args.vcpus, "ephemeral_gb": args.ephemeral,
            "swap": args.swap, "is_public": not args.private,
        })
        _print_flavors([flavor])

    def list(self):
        _print_flavors(_flavors())

    def delete(self):
        flavors_db.flavor_destroy(context.get_admin_context(), CONF.category.id)
        print(f"Flavor {CONF.category.id} deleted")


def _flavors():
    return flavors_db.flavor_get_all(context.get_admin_context())


def _print_flavors(flavors):
    table = prettytable.PrettyTable(["ID", "Name", "Memory_MB", "Disk", "Ephemeral",
                                     "Swap", "VCPUs", "Is_Public"])
    table.align = "l"
    for f in flavors:
        table.add_row([f["flavorid"], f["name"], f["memory_mb"], f["root_gb"],
                       f["ephemeral_gb"], f["swap"] or "", f["vcpus"], f["is_public"]])
    print(table)


def _positive(minimum):
    def parse(value):
        number = int(value)
        if number < minimum:
            raise ValueError(f"must be at least {minimum}")
        return number
    return parse


def _add_parsers(subparsers):
    db_parser = subparsers.add_parser("db", help="database schema")
    db_actions = db_parser.add_subparsers(dest="action", required=True)
    db_actions.add_parser("sync", help="create or upgrade the schema")
    db_actions.add_parser("version", help="print the schema revision")

    flavor_parser = subparsers.add_parser("flavor", help="flavors")
    flavor_actions = flavor_parser.add_subparsers(dest="action", required=True)
    create = flavor_actions.add_parser("create", help="add a flavor")
    # Not "name": oslo.config's sub-command option keeps the sub-command's
    # own name in that attribute, and the flavor would be called "flavor".
    create.add_argument("flavor_name", metavar="NAME")
    create.add_argument("--ram", type=_positive(1), required=True, help="memory in MB")
    create.add_argument("--disk", type=_positive(0), required=True, help="root disk in GB")
    create.add_argument("--vcpus", type=_positive(1), required=True)
    create.add_argument("--ephemeral", type=_positive(0), default=0, help="GB")
    create.add_argument("--swap", type=_positive(0), default=0, help="MB")
    create.add_argument("--id", help="flavor id (default: the next free number)")
    create.add_argument("--private", action="store_true")
    flavor_actions.add_parser("list", help="list flavors")
    delete = flavor_actions.add_parser("delete", help="delete a flavor")
    delete.add_argument("id")


COMMANDS = {"db": DbCommands, "flavor": FlavorCommands}


CATEGORY_OPT = cfg.SubCommandOpt("category", title="Commands", handler=_add_parsers)


def main():
    CONF.register_cli_opt(CATEGORY_OPT)
    config.parse_args(sys.argv)
    config.setup_logging("mininova-manage")
    command = COMMANDS[CONF.category.name]()
    try:
        getattr(command, CONF.category.action)()
    except exception.MininovaException as exc:
        sys.exit(f"ERROR: {exc.format_message()}")
