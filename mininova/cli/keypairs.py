"""The key pair commands of ``mininova``: keypair-add, keypair-list,
keypair-show and keypair-delete (novaclient's ``keypair-*`` commands of
``novaclient/v2/shell.py``, over its ``novaclient/v2/keypairs.py``).

``keypair-add NAME`` prints the private key of a generated key pair (the
only time it is shown: save it, ``chmod 600`` it); with ``--pub-key
FILE`` it imports that public key and prints nothing.
"""

from mininova.cli.utils import add_command, print_dict, print_list


def add_commands(commands):
    add = add_command(commands, "keypair-add", do_keypair_add,
                      "Create a new key pair (or import a public key).")
    add.add_argument("--pub-key", metavar="FILE", help="import this public key file")
    add.add_argument("--key-type", choices=["ssh", "x509"], help="default: ssh")
    add.add_argument("name")
    add_command(commands, "keypair-list", do_keypair_list, "List your key pairs.")
    add_command(commands, "keypair-show", do_keypair_show,
                "Show a key pair.").add_argument("name")
    add_command(commands, "keypair-delete", do_keypair_delete,
                "Delete a key pair.").add_argument("name")


def do_keypair_add(client, args):
    public_key = None
    if args.pub_key:
        with open(args.pub_key, encoding="utf-8") as f:
            public_key = f.read().strip()
    key_pair = client.create_keypair(args.name, public_key=public_key, key_type=args.key_type)
    if "private_key" in key_pair:
        print(key_pair["private_key"], end="" if key_pair["private_key"].endswith("\n")
              else "\n")
    return 0


def do_keypair_list(client, args):
    rows = [{"Name": k["name"], "Type": k["type"], "Fingerprint": k["fingerprint"]}
            for k in client.list_keypairs()]
    print_list(rows, ["Name", "Type", "Fingerprint"])
    return 0


def do_keypair_show(client, args):
    print_dict(client.get_keypair(args.name))
    return 0


def do_keypair_delete(client, args):
    client.delete_keypair(args.name)
    return 0
