"""``GET /os-migrations`` (mirrors ``nova/api/openstack/compute/migrations.py``):
every resize and cold migration, newest first. Admin only.

Filters: ``instance_uuid``, ``status``, ``migration_type`` (``resize`` or
``migration``), ``source_compute``, ``host`` (source or destination).
What the microversions changed: ``migration_type`` is shown from 2.23;
2.59 adds each migration's ``uuid``, paging (``limit``, ``marker`` = a
migration's uuid, ``migrations_links``), ``changes-since``, and refuses
unknown parameters; 2.66 adds ``changes-before``.

Left out: ``hidden`` migrations (mininova hides none), ``dest_host`` (the
destination's IP address, not recorded: always null), links to in-progress
live migrations (there are none), ``user_id``/``project_id`` (2.80).
"""

import copy

from flask import Blueprint, jsonify

from mininova import exception, utils
from mininova.api import validation
from mininova.api.openstack import api_version_request, common
from mininova.api.validation import parameter_types
from mininova.db import resize_migrations as migrations_db

blueprint = Blueprint("migrations", __name__)

_FILTERS = ("hidden", "host", "instance_uuid", "source_compute", "status", "migration_type")

index_query_v21 = {
    "type": "object",
    "properties": {name: parameter_types.common_query_param for name in _FILTERS},
    "additionalProperties": True,
}
index_query_v259 = copy.deepcopy(index_query_v21)
index_query_v259["properties"].update({
    "limit": parameter_types.multi_params(parameter_types.non_negative_integer),
    "marker": parameter_types.common_query_param,
    "changes-since": parameter_types.multi_params({"type": "string", "format": "date-time"}),
})
index_query_v259["additionalProperties"] = False
index_query_v266 = copy.deepcopy(index_query_v259)
index_query_v266["properties"]["changes-before"] = (
    parameter_types.multi_params({"type": "string", "format": "date-time"}))
index_query = validation.Versioned({"2.1": index_query_v21, "2.59": index_query_v259,
                                    "2.66": index_query_v266})


@blueprint.get("/os-migrations")
def index():
    context = common.context()
    context.can("os_compute_api:os-migrations:index")
    params = validation.query(index_query)
    filters = {name: values[-1] for name, values in params.items() if name in _FILTERS}
    paged = api_version_request.is_supported("2.59")
    if paged:
        filters.update(common.changes_filters(params))
    try:
        migrations = migrations_db.migration_get_all(
            context, filters, limit=common.limit_param() if paged else None,
            marker=common.marker_param() if paged else None)
    except exception.MarkerNotFound as exc:
        raise exception.Invalid(exc.format_message()) from exc
    body = {"migrations": [view(migration) for migration in migrations]}
    if paged:
        links = common.collection_links(migrations, "os-migrations", id_key="uuid")
        if links:
            body["migrations_links"] = links
    return jsonify(body)


def view(migration):
    """One migration as ``/os-migrations`` shows it at the request's version."""
    shown = {
        "created_at": utils.isotime(migration["created_at"]),
        "dest_compute": migration["dest_compute"],
        "dest_host": None,
        "dest_node": migration["dest_node"],
        "id": migration["id"],
        "instance_uuid": migration["instance_uuid"],
        "new_instance_type_id": migration["new_instance_type_id"],
        "old_instance_type_id": migration["old_instance_type_id"],
        "source_compute": migration["source_compute"],
        "source_node": migration["source_node"],
        "status": migration["status"],
        "updated_at": utils.isotime(migration["updated_at"]),
    }
    if api_version_request.is_supported("2.23"):
        shown["migration_type"] = migration["migration_type"]
    if api_version_request.is_supported("2.59"):
        shown["uuid"] = migration["uuid"]
    return shown
