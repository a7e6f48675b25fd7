"""``/os-image-cache``: what each compute host keeps in its ``_base`` image
cache. Admin only.

Beyond Nova, which has no API for it (an operator runs ``ls`` on each host
and reads the image cache manager's log): every base file with its image,
size, the instances using it and its age, and what the next pass of the
image cache manager will remove, and when. Each compute host answers for
itself (the RPC call ``get_image_cache``), since only it sees its disks.

``GET /os-image-cache`` asks every compute service that is up;
``?host=<host>`` asks only that one (404 if there is no such compute
service). A host that cannot answer (down, or no reply in time) is listed
with an ``error`` instead of its files.
"""

from concurrent import futures

from flask import Blueprint, jsonify, request

from mininova import exception
from mininova.api.openstack import common

blueprint = Blueprint("image_cache", __name__)


@blueprint.get("/os-image-cache")
def index():
    context = common.context()
    context.can("os_compute_api:os-image-cache:list")
    host = request.args.get("host")
    services = common.host_api().service_get_all(context, binary="mininova-compute", host=host)
    if host is not None and not services:
        raise exception.ComputeHostNotFound(host=host)
    if host is None:
        services = [service for service in services if service["up"]]
    services.sort(key=lambda service: service["host"])
    # Asked all at once: a host that does not answer costs one RPC timeout,
    # not one per host. (The pool's threads are outside Flask's application
    # context: they are handed the RPC client.)
    rpcapi = common.compute_rpcapi()
    with futures.ThreadPoolExecutor(max_workers=max(1, min(len(services), 16))) as pool:
        caches = list(pool.map(lambda service: _host_cache(rpcapi, context, service),
                               services))
    return jsonify({"image_cache": caches})


def _host_cache(rpcapi, context, service):
    host = service["host"]
    if not service["up"]:
        return _unavailable(host, f"The compute service on host {host} is down.")
    try:
        cache = rpcapi.get_image_cache(context, host)
    except exception.MininovaException as exc:
        return _unavailable(host, exc.format_message())
    return {"host": host, **cache}


def _unavailable(host, message):
    return {"host": host, "error": message, "next_run_at": None, "base_files": []}
