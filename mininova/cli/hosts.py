"""The commands of ``mininova`` about the compute hosts and how they are
grouped: service-list, service-enable, service-disable, service-delete, hypervisor-list,
hypervisor-show, aggregate-*, availability-zone-list (novaclient's commands
of those names in ``novaclient/v2/shell.py``, over its ``services.py``,
``hypervisors.py``, ``aggregates.py`` and ``availability_zones.py``).

Most are the admin's: disabling a compute service keeps new servers off the
host, and aggregates with an availability zone make the zones a boot may ask
for (``boot --availability-zone``).
"""

from mininova.cli.client import ClientException
from mininova.cli.utils import add_command, print_dict, print_list


def add_commands(commands):
    _add_service_commands(commands)
    _add_aggregate_commands(commands)
    add_command(commands, "availability-zone-list", do_availability_zone_list,
                "List the availability zones (with hosts and services for an admin).")


def _add_service_commands(commands):
    add_command(commands, "service-list", do_service_list, "List services.")
    enable = add_command(commands, "service-enable", do_service_enable,
                         "Enable the service: the scheduler may place servers there again.")
    enable.add_argument("host")
    enable.add_argument("binary")
    disable = add_command(commands, "service-disable", do_service_disable,
                          "Disable the service: the ComputeFilter keeps new servers off it.")
    disable.add_argument("--reason", help="why (shown by service-list)")
    disable.add_argument("host")
    disable.add_argument("binary")
    add_command(commands, "service-delete", do_service_delete,
                "Delete the service's record (a compute host that is gone for "
                "good; a compute that runs again registers again).").add_argument(
                    "id", help="the service's Id, from service-list")
    add_command(commands, "hypervisor-list", do_hypervisor_list, "List hypervisors.")
    add_command(commands, "hypervisor-show", do_hypervisor_show,
                "Show a hypervisor.").add_argument("hypervisor")


def _add_aggregate_commands(commands):
    add_command(commands, "aggregate-list", do_aggregate_list, "List aggregates.")
    create = add_command(commands, "aggregate-create", do_aggregate_create,
                         "Create an aggregate, optionally making it an availability zone.")
    create.add_argument("name")
    create.add_argument("availability_zone", nargs="?", metavar="availability-zone")
    add_command(commands, "aggregate-show", do_aggregate_show,
                "Show an aggregate.").add_argument("aggregate")
    update = add_command(commands, "aggregate-update", do_aggregate_update,
                         "Rename an aggregate or change its availability zone.")
    update.add_argument("aggregate")
    update.add_argument("--name")
    update.add_argument("--availability-zone")
    add_command(commands, "aggregate-delete", do_aggregate_delete,
                "Delete an aggregate (it must have no hosts).").add_argument("aggregate")
    for name, function, help_text in (
            ("aggregate-add-host", do_aggregate_add_host, "Add a compute host."),
            ("aggregate-remove-host", do_aggregate_remove_host, "Remove a host.")):
        host = add_command(commands, name, function, help_text)
        host.add_argument("aggregate")
        host.add_argument("host")
    metadata = add_command(commands, "aggregate-set-metadata", do_aggregate_set_metadata,
                           "Set (key=value) or unset (key) an aggregate's metadata.")
    metadata.add_argument("aggregate")
    metadata.add_argument("metadata", nargs="+", metavar="key=value")


# --- services and hypervisors -----------------------------------------------------------

def do_service_list(client, args):
    rows = [{"Id": s["id"], "Binary": s["binary"], "Host": s["host"], "Zone": s["zone"],
             "Status": s["status"], "State": s["state"], "Updated_at": s["updated_at"],
             "Disabled Reason": s["disabled_reason"] or "-",
             "Forced down": s["forced_down"]} for s in client.list_services()]
    print_list(rows, ["Id", "Binary", "Host", "Zone", "Status", "State", "Updated_at",
                      "Disabled Reason", "Forced down"])
    return 0


def do_service_enable(client, args):
    service = client.enable_service(args.host, args.binary)
    print_list([{"Host": service["host"], "Binary": service["binary"],
                 "Status": service["status"]}], ["Host", "Binary", "Status"])
    return 0


def do_service_disable(client, args):
    service = client.disable_service(args.host, args.binary, args.reason)
    row = {"Host": service["host"], "Binary": service["binary"], "Status": service["status"],
           "Disabled Reason": service.get("disabled_reason")}
    fields = ["Host", "Binary", "Status"] + (["Disabled Reason"] if args.reason else [])
    print_list([row], fields)
    return 0


def do_service_delete(client, args):
    client.delete_service(args.id)
    return 0


def do_hypervisor_list(client, args):
    rows = [{"ID": h["id"], "Hypervisor hostname": h["hypervisor_hostname"],
             "State": h["state"], "Status": h["status"]} for h in client.list_hypervisors()]
    print_list(rows, ["ID", "Hypervisor hostname", "State", "Status"])
    return 0


def do_hypervisor_show(client, args):
    print_dict(client.get_hypervisor(args.hypervisor))
    return 0


# --- aggregates and availability zones -----------------------------------------------

def print_aggregate(aggregate):
    """One aggregate in a one-row table, as novaclient prints it."""
    row = {"Id": aggregate["id"], "UUID": aggregate["uuid"], "Name": aggregate["name"],
           "Availability Zone": aggregate["availability_zone"] or "-",
           "Hosts": ", ".join(f"'{host}'" for host in aggregate["hosts"]),
           "Metadata": ", ".join(f"'{key}={value}'"
                                 for key, value in sorted(aggregate["metadata"].items()))}
    print_list([row], ["Id", "UUID", "Name", "Availability Zone", "Hosts", "Metadata"])


def do_aggregate_list(client, args):
    rows = [{"Id": a["id"], "UUID": a["uuid"], "Name": a["name"],
             "Availability Zone": a["availability_zone"] or "-"}
            for a in client.list_aggregates()]
    print_list(rows, ["Id", "UUID", "Name", "Availability Zone"])
    return 0


def do_aggregate_create(client, args):
    created = client.create_aggregate(args.name, args.availability_zone)
    # The create answer has no hosts nor metadata (Nova's shape): show the whole.
    print_aggregate(client.get_aggregate(created["id"]))
    return 0


def do_aggregate_show(client, args):
    print_aggregate(client.find_aggregate(args.aggregate))
    return 0


def do_aggregate_update(client, args):
    aggregate = client.find_aggregate(args.aggregate)
    values = {}
    if args.name:
        values["name"] = args.name
    if args.availability_zone:
        values["availability_zone"] = args.availability_zone
    if not values:
        raise SystemExit("error: give --name and/or --availability-zone")
    updated = client.update_aggregate(aggregate["id"], **values)
    print(f"Aggregate {args.aggregate} has been successfully updated.")
    print_aggregate(updated)
    return 0


def do_aggregate_delete(client, args):
    aggregate = client.find_aggregate(args.aggregate)
    client.delete_aggregate(aggregate["id"])
    print(f"Aggregate {args.aggregate} has been successfully deleted.")
    return 0


def do_aggregate_add_host(client, args):
    return _change_aggregate_host(client, args, "add_host", "added for")


def do_aggregate_remove_host(client, args):
    return _change_aggregate_host(client, args, "remove_host", "removed from")


def _change_aggregate_host(client, args, action, done):
    """The ``add_host`` or ``remove_host`` action, then novaclient's line
    (``Host h1 has been successfully added for aggregate 1``) and the table."""
    aggregate = client.find_aggregate(args.aggregate)
    updated = client.aggregate_action(aggregate["id"], action, {"host": args.host})
    print(f"Host {args.host} has been successfully {done} aggregate {aggregate['id']} ")
    print_aggregate(updated)
    return 0


def do_aggregate_set_metadata(client, args):
    aggregate = client.find_aggregate(args.aggregate)
    # key=value sets the key; a bare key unsets it.
    metadata = {}
    for item in args.metadata:
        key, sep, value = item.partition("=")
        metadata[key] = value if sep else None
    updated = client.aggregate_action(aggregate["id"], "set_metadata", {"metadata": metadata})
    print(f"Metadata has been successfully updated for aggregate {aggregate['id']}.")
    print_aggregate(updated)
    return 0


def do_availability_zone_list(client, args):
    """Zones as a tree (zone, |- host, | |- service) when allowed to see the
    detail; else only the zones, as novaclient falls back on a 403."""
    try:
        zones = client.list_availability_zones(detailed=True)
    except ClientException as exc:
        if exc.code != 403:
            raise
        zones = client.list_availability_zones(detailed=False)
    rows = []
    for zone in zones:
        available = zone["zoneState"]["available"]
        rows.append({"Name": zone["zoneName"],
                     "Status": "available" if available else "not available"})
        for host, services in sorted((zone["hosts"] or {}).items()):
            rows.append({"Name": f"|- {host}", "Status": ""})
            for binary, state in services.items():
                status = (f"{'enabled' if state['active'] else 'disabled'} "
                          f"{':-)' if state['available'] else 'XXX'} {state['updated_at']}")
                rows.append({"Name": f"| |- {binary}", "Status": status})
    print_list(rows, ["Name", "Status"])
    return 0
