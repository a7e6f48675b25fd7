"""The image commands of ``mininova``: image-list, image-create,
image-show, image-update, image-delete, and image-cache.

Most talk to the image service and stand for python-glanceclient's
``glance image-*`` commands (``glanceclient/v2/shell.py``). ``image-create``
is two commands in one: ``image-create <server> <name>`` is novaclient's
``nova image-create``, a snapshot of a server (the compute API's
``createImage`` action); with ``--file`` it is glance's, an upload.
``image-cache`` is mininova's own: each compute host's cache of base
images, from the compute API's ``os-image-cache`` (see ``docs/images.md``).
"""

import sys

from mininova.cli import servers
from mininova.cli.utils import (
    ProgressBar,
    add_command,
    delete_each,
    key_value,
    poll,
    print_dict,
    print_list,
)

IMAGE_CACHE_FIELDS = ["Base file", "Image", "Name", "Size", "Used by", "Age",
                      "Next run removes"]


def add_commands(commands):
    add_command(commands, "image-list", do_image_list, "List images.")
    create = add_command(commands, "image-create", do_image_create,
                         "Create a new image by taking a snapshot of a running server "
                         "(image-create <server> <name>), or upload one to the image "
                         "service (image-create --file F --disk-format D <name>).")
    create.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE",
                        help="snapshot: a property of the new image; repeatable")
    create.add_argument("--show", action="store_true", help="snapshot: print the image")
    create.add_argument("--poll", action="store_true",
                        help="snapshot: report the progress until the image is active")
    create.add_argument("--timeout", type=int, default=300, help="seconds --poll waits")
    create.add_argument("--file", help="upload: the disk image file")
    create.add_argument("--disk-format", choices=["qcow2", "raw", "vmdk", "vdi", "iso"],
                        help="upload: the file's format (required with --file)")
    create.add_argument("--container-format", default="bare", choices=["bare"])
    create.add_argument("--min-disk", type=int, default=0, help="upload: GB")
    create.add_argument("--min-ram", type=int, default=0, help="upload: MB")
    create.add_argument("--property", action="append", default=[], metavar="KEY=VALUE",
                        help="upload: a property of the image; repeatable")
    # The server comes first but is optional: argparse gives a lone
    # positional to <name>, which is what an upload needs.
    create.add_argument("server", nargs="?", help="snapshot: name or ID of the server")
    create.add_argument("name", help="name of the new image")
    add_command(commands, "image-show", do_image_show,
                "Show an image's metadata.").add_argument("image", help="image name or ID")
    update = add_command(commands, "image-update", do_image_update,
                         "Set or remove an image's properties.")
    update.add_argument("--property", action="append", default=[], metavar="KEY=VALUE",
                        help="set a property (or a field such as name); repeatable")
    update.add_argument("--remove-property", action="append", default=[], metavar="KEY",
                        help="remove a property; repeatable")
    update.add_argument("image", help="image name or ID")
    add_command(commands, "image-delete", do_image_delete, "Delete images.").add_argument(
        "image", nargs="+", help="image name or ID")
    cache = add_command(commands, "image-cache", do_image_cache,
                        "Show each compute host's image cache: its base files, who uses "
                        "them, and what the image cache manager removes next.")
    cache.add_argument("--host", help="only this compute host")


def print_image(image):
    # The links are the API's business, not the reader's.
    print_dict({k: v for k, v in image.items() if k not in ("self", "file", "schema")})


# --- the image service's images ----------------------------------------------------

def do_image_list(client, args):
    rows = [{"ID": i["id"], "Name": i["name"], "Status": i["status"],
             "Disk Format": i["disk_format"], "Size": i["size"]} for i in client.list_images()]
    print_list(rows, ["ID", "Name", "Status", "Disk Format", "Size"])
    return 0


def do_image_create(client, args):
    if args.file is None:
        if args.server is None:
            raise SystemExit("error: give <server> <name> to snapshot a server, or "
                             "--file and --disk-format to upload an image")
        return _snapshot(client, args)
    if args.server is not None or args.disk_format is None:
        raise SystemExit("error: an upload takes --file, --disk-format and one <name>")
    return _upload(client, args)


def _upload(client, args):
    properties = dict(key_value(p) for p in args.property)
    progress = ProgressBar()
    image = client.create_image(args.name, args.file, args.disk_format,
                                args.container_format, args.min_disk, args.min_ram,
                                properties, progress=progress)
    progress.finish()
    print_image(image)
    return 0


def _snapshot(client, args):
    """novaclient's ``image-create``: nothing printed unless ``--show``;
    ``--poll`` waits for the image to be active, then for the server's
    task to end, so that the next snapshot can start at once."""
    server = client.find_server(args.server)
    metadata = dict(key_value(pair, "--metadata") for pair in args.metadata)
    image_id = client.create_server_image(server["id"], args.name, metadata)
    code = 0
    if args.poll:
        code = _wait_for_snapshot(client, image_id, args.name, args.timeout)
        if code == 0:
            # The server keeps the status it had (ACTIVE, SHUTOFF...).
            code = servers.wait_for_action(client, server, args.timeout, [server["status"]],
                                           what="snapshot")
    if args.show:
        print_image(client.get_image(image_id))
    return code


def _wait_for_snapshot(client, image_id, name, timeout):
    image = poll(lambda: client.get_image(image_id),
                 lambda image: f"Image {name} {image_id}: {image['status']}",
                 lambda image: image["status"] in ("active", "killed", "deleted"), timeout)
    if image["status"] == "active":
        return 0
    print(f"ERROR: image {name} {image_id} is {image['status']}", file=sys.stderr)
    return 1


def do_image_show(client, args):
    print_image(client.get_image(client.find_image(args.image)["id"]))
    return 0


def do_image_update(client, args):
    changes = dict(key_value(p) for p in args.property)
    if not changes and not args.remove_property:
        raise SystemExit("error: give --property and/or --remove-property")
    image = client.find_image(args.image)
    print_image(client.update_image(image["id"], changes, args.remove_property))
    return 0


def do_image_delete(client, args):
    return delete_each(args.image, "image",
                       lambda name: client.delete_image(client.find_image(name)["id"]),
                       "Image {name} has been deleted.")


# --- the image cache of each compute host -------------------------------------------------

def do_image_cache(client, args):
    """Per host: when the image cache manager runs next, then its base files."""
    for index, cache in enumerate(client.get_image_cache(args.host)):
        if index:
            print()
        print(_image_cache_header(cache))
        if "error" in cache:
            continue
        rows = [{"Base file": base["filename"], "Image": base["image_id"] or "-",
                 "Name": base["image_name"] or "-", "Size": _size(base["size"]),
                 "Used by": "\n".join(base["used_by"]) or "-",
                 "Age": _duration(base["age_seconds"]),
                 "Next run removes": _next_run_removes(cache, base)}
                for base in cache["base_files"]]
        print_list(rows, IMAGE_CACHE_FIELDS)
    return 0


def _image_cache_header(cache):
    host = cache["host"]
    if "error" in cache:
        return f"Host {host}: ERROR: {cache['error']}"
    if cache["next_run_at"] is None:
        return (f"Host {host}: the image cache manager is off "
                f"([image_cache] manager_interval = {cache['manager_interval']})")
    age = cache["remove_unused_original_minimum_age_seconds"]
    removes = (f"removes base files unused for {age} s" if cache["remove_unused_base_images"]
               else "removes nothing (remove_unused_base_images = False)")
    return (f"Host {host}: image cache manager every {cache['manager_interval']} s, "
            f"next run at {cache['next_run_at']}; {removes}")


def _next_run_removes(cache, base):
    if base["will_be_removed"]:
        return "yes"
    if base["used_by"]:
        return "no: in use"
    if cache["next_run_at"] is None or not cache["remove_unused_base_images"]:
        return "no: removal off"
    return f"no: unused, old enough at {base['removable_at']}"


def _size(size):
    """``512 B``, ``7.4 MiB``, ``3.0 GiB``."""
    units = ["B", "KiB", "MiB", "GiB"]
    power = 0
    while size >= 1024 and power < len(units) - 1:
        size /= 1024
        power += 1
    return f"{size} B" if power == 0 else f"{size:.1f} {units[power]}"


def _duration(seconds):
    """``45s``, ``12m 3s``, ``3h 12m``, ``2d 4h``: the two largest units."""
    units = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
    parts = []
    for name, length in units:
        count, seconds = divmod(seconds, length)
        if count or parts:
            parts.append(f"{count}{name}")
    return " ".join(parts[:2]) or "0s"
