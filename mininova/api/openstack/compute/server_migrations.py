"""``/servers/<id>/migrations`` (mirrors
``nova/api/openstack/compute/server_migrations.py``), from microversion 2.23:
a server's *live* migrations in progress, to watch, force or abort.

mininova has no live migration (its resizes and cold migrations are in
``/os-migrations``), so the list is always empty and any one migration is a
404 with Nova's messages. Forcing (2.22) and aborting (2.24) are left out
with live migration itself.
"""

from flask import Blueprint, jsonify

from mininova import exception
from mininova.api.openstack import common
from mininova.db import resize_migrations as migrations_db

blueprint = Blueprint("server_migrations", __name__)


@blueprint.get("/servers/<server_id>/migrations")
@common.api_version("2.23")
def index(server_id):
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can("os_compute_api:servers:migrations:index", common.owned_by(instance))
    return jsonify({"migrations": []})


@blueprint.get("/servers/<server_id>/migrations/<migration_id>")
@common.api_version("2.23")
def show(server_id, migration_id):
    context = common.context()
    instance = common.compute_api().get(context, server_id)
    context.can("os_compute_api:servers:migrations:show", common.owned_by(instance))
    known = any(str(m["id"]) == migration_id for m in migrations_db.migration_get_all(
        context, {"instance_uuid": instance["uuid"]}))
    if known:
        raise exception.NotFound(f"Migration {migration_id} for server {server_id} is not "
                                 "live-migration.")
    raise exception.NotFound(f"In-progress live migration {migration_id} is not found for "
                             f"server {server_id}.")
