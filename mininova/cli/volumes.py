"""The volume commands of ``mininova`` (novaclient's ``volume-attach``,
``volume-detach``, ``volume-attachments``, over
``/servers/<id>/os-volume_attachments`` at microversion 2.79), and the
parsing of ``boot``'s ``--block-device``, ``--swap`` and ``--ephemeral``
(novaclient's ``_parse_block_device_mapping_v2``)::

    mininova volume-attach <server> <volume> [<device>] [--tag T] [--delete-on-termination]
    mininova volume-detach <server> <volume>
    mininova volume-attachments <server>
    mininova boot --flavor F --block-device source=volume,id=<volume>,dest=volume,bootindex=0 vm
    mininova boot --image tiny --flavor F --swap 512 --ephemeral size=1,format=ext4 vm

A volume is named by its id (the volume service's own client,
``openstack volume list``, shows them). As novaclient's, the device name
is only a wish: the libvirt driver names the disks itself.
"""

from mininova.cli.utils import add_command, key_value, print_dict, print_list

MICROVERSION = "2.79"

# novaclient's --block-device keys and the mapping fields they stand for.
BLOCK_DEVICE_KEYS = {
    "source": "source_type", "dest": "destination_type", "id": "uuid",
    "bootindex": "boot_index", "size": "volume_size", "device": "device_name",
    "bus": "disk_bus", "type": "device_type", "format": "guest_format",
    "shutdown": "delete_on_termination", "tag": "tag", "volume_type": "volume_type",
}


def add_commands(commands):
    attach = add_command(commands, "volume-attach", do_volume_attach,
                         "Attach a volume to a server.")
    attach.add_argument("server")
    attach.add_argument("volume", help="the volume's ID")
    attach.add_argument("device", nargs="?", help="a device name wish, such as /dev/vdb "
                        "(libvirt picks the name itself)")
    attach.add_argument("--device", dest="device_option", metavar="DEVICE",
                        help="the same as the positional <device>")
    attach.add_argument("--tag", help="a tag for the attached device")
    attach.add_argument("--delete-on-termination", action="store_true",
                        help="delete the volume when the server is deleted")
    detach = add_command(commands, "volume-detach", do_volume_detach,
                         "Detach a volume from a server.")
    detach.add_argument("server")
    detach.add_argument("volume", help="the volume's ID")
    add_command(commands, "volume-attachments", do_volume_attachments,
                "List the volumes attached to a server.").add_argument("server")


def add_boot_arguments(boot):
    boot.add_argument("--block-device", action="append", default=[],
                      metavar="key1=value1[,key2=value2...]",
                      help="a disk of the server (repeatable): source=image|snapshot|"
                      "volume|blank, id=<uuid>, dest=volume|local, bootindex=N, size=GB, "
                      "shutdown=preserve|remove, device=, bus=, type=disk|cdrom, format=, "
                      "tag=, volume_type=")
    boot.add_argument("--swap", type=int, metavar="MB", help="a swap disk of this size")
    boot.add_argument("--ephemeral", action="append", default=[],
                      metavar="size=GB[,format=FORMAT]",
                      help="an ephemeral disk (repeatable)")


def block_device_mapping_v2(args, image_id):
    """``block_device_mapping_v2`` from ``boot``'s options, or None: the
    image's root disk first when there is an image (novaclient adds it),
    then each --block-device, --ephemeral and --swap."""
    mappings = [_block_device(text) for text in args.block_device]
    mappings += [_ephemeral(text) for text in args.ephemeral]
    if args.swap:
        mappings.append({"source_type": "blank", "destination_type": "local",
                         "guest_format": "swap", "volume_size": args.swap,
                         "boot_index": -1, "delete_on_termination": True})
    if not mappings:
        return None
    if image_id:
        mappings.insert(0, {"uuid": image_id, "source_type": "image",
                            "destination_type": "local", "boot_index": 0,
                            "delete_on_termination": True})
    return mappings


def _block_device(text):
    mapping = {}
    for pair in text.split(","):
        key, value = key_value(pair, "--block-device")
        if key not in BLOCK_DEVICE_KEYS:
            raise SystemExit(f"error: --block-device: unknown key {key!r} (known: "
                             f"{', '.join(BLOCK_DEVICE_KEYS)})")
        mapping[BLOCK_DEVICE_KEYS[key]] = value
    if "delete_on_termination" in mapping:
        shutdown = mapping["delete_on_termination"]
        if shutdown not in ("remove", "preserve"):
            raise SystemExit("error: --block-device: shutdown is remove or preserve")
        mapping["delete_on_termination"] = shutdown == "remove"
    for field in ("boot_index", "volume_size"):
        if field in mapping:
            mapping[field] = int(mapping[field])
    mapping.setdefault("boot_index", -1)
    return mapping


def _ephemeral(text):
    fields = dict(key_value(pair, "--ephemeral") for pair in text.split(","))
    if "size" not in fields:
        raise SystemExit("error: --ephemeral needs size=<GB>")
    mapping = {"source_type": "blank", "destination_type": "local", "boot_index": -1,
               "delete_on_termination": True, "volume_size": int(fields["size"])}
    if fields.get("format"):
        mapping["guest_format"] = fields["format"]
    return mapping


def do_volume_attach(client, args):
    server_id = client.find_server(args.server)["id"]
    attachment = {"volumeId": args.volume}
    device = args.device or args.device_option
    if device:
        attachment["device"] = device
    if args.tag:
        attachment["tag"] = args.tag
    if args.delete_on_termination:
        attachment["delete_on_termination"] = True
    print_dict(client.attach_volume(server_id, attachment, MICROVERSION))
    return 0


def do_volume_detach(client, args):
    client.detach_volume(client.find_server(args.server)["id"], args.volume)
    return 0


def do_volume_attachments(client, args):
    attachments = client.list_volume_attachments(client.find_server(args.server)["id"],
                                                 MICROVERSION)
    print_list(attachments, ["id", "device", "serverId", "volumeId", "tag",
                             "delete_on_termination"],
               ["ID", "DEVICE", "SERVER ID", "VOLUME ID", "TAG", "DELETE ON TERMINATION"])
    return 0
