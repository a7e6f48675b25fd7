"""The quickstart's ``private`` network: made once through mininova-network's
API, as an admin would with ``openstack network create --share private``
and ``openstack subnet create --network private --subnet-range <cidr>
private-subnet``. Run with the venv's Python; safe to run again.

    private_network.py --url http://127.0.0.1:9696 --cidr 10.0.77.0/24

A range the host already routes (its LAN, a VPN, Docker's) is refused
before anything is made: the subnet's gateway goes on the host's bridge,
and an overlapping route would cut the host off from the other network.
"""

import argparse
import ipaddress
import json
import os
import subprocess
import sys
import time

import requests


def host_routes():
    out = subprocess.run(["ip", "-j", "-4", "route", "show"], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out or "[]")


def overlapping_route(cidr, bridge_prefix="brq"):
    network = ipaddress.ip_network(cidr)
    for route in host_routes():
        dst, dev = route.get("dst"), route.get("dev", "")
        if not dst or dst == "default" or dev.startswith(bridge_prefix):
            continue
        if ipaddress.ip_network(dst, strict=False).overlaps(network):
            return route
    return None


class Api:
    def __init__(self, url, token):
        self.url = url.rstrip("/") + "/v2.0"
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": token})

    def call(self, method, path, body=None):
        response = self.session.request(method, f"{self.url}/{path}", json=body, timeout=30)
        if response.status_code >= 400:
            sys.exit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def wait(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.session.get(self.url.rsplit("/", 1)[0] + "/", timeout=5)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    sys.exit(f"mininova-network does not answer at {self.url}")
                time.sleep(0.5)


def keystone_token_or_none():
    """A token from the OS_* variables of an openrc, as any client gets one."""
    if not os.environ.get("OS_AUTH_URL"):
        return None
    from keystoneauth1 import loading, session

    auth = loading.get_plugin_loader("password").load_from_options(
        auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
        password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"],
        user_domain_name=os.environ.get("OS_USER_DOMAIN_NAME", "Default"),
        project_domain_name=os.environ.get("OS_PROJECT_DOMAIN_NAME", "Default"))
    return session.Session(auth=auth).get_token()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:9696")
    parser.add_argument("--token", default=None,
                        help="default: a Keystone token from the OS_* variables (as "
                        "after `source /etc/mininova/openrc admin`), else noauth2's "
                        "MININOVA_TOKEN or admin:admin")
    parser.add_argument("--name", default="private")
    parser.add_argument("--cidr", default="10.0.77.0/24")
    args = parser.parse_args()

    api = Api(args.url, args.token or keystone_token_or_none()
              or os.environ.get("MININOVA_TOKEN", "admin:admin"))
    api.wait()
    networks = api.call("GET", f"networks?name={args.name}")["networks"]
    if networks:
        network = networks[0]
        print(f"network {args.name} is there: {network['id']}")
    else:
        conflict = overlapping_route(args.cidr)
        if conflict:
            sys.exit(f"{args.cidr} overlaps the host's route to {conflict['dst']} "
                     f"(dev {conflict.get('dev')}): choose another range (PRIVATE_CIDR=...)")
        network = api.call("POST", "networks", {"network": {"name": args.name,
                                                            "shared": True}})["network"]
        print(f"created network {args.name}: {network['id']}")
    if not network["subnets"]:
        subnet = api.call("POST", "subnets", {"subnet": {
            "name": f"{args.name}-subnet", "network_id": network["id"], "ip_version": 4,
            "cidr": args.cidr}})["subnet"]
        print(f"created subnet {subnet['name']}: {subnet['cidr']}, gateway "
              f"{subnet['gateway_ip']} (on this host), DHCP "
              f"{subnet['allocation_pools'][0]['start']}-{subnet['allocation_pools'][-1]['end']}")


if __name__ == "__main__":
    main()
