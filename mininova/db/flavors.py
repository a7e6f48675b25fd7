"""Flavors and who may use the private ones (mirrors the flavor queries of
``nova/objects/flavor.py``: Nova keeps flavors in its API database, so they
are no longer in ``nova/db/main/api.py``).

A private flavor is visible to an admin and to the projects on its access
list (``flavor_projects``); a private flavor of another project is not
found, as in Nova. Flavors are read with their ``extra_specs`` dict; the
extra specs themselves are written by :mod:`mininova.db.scheduling`.

Same rules as :mod:`mininova.db.api`: one short transaction per function,
plain dicts out.

Left out: a separate API database, lookups by name or by internal id, and
changing a flavor after its creation other than its description (Nova
allows nothing else either).
"""

import sqlalchemy as sa
from oslo_utils import timeutils

from mininova import exception
from mininova.db import api as db
from mininova.db import models

# --- flavors --------------------------------------------------------------------

# What GET /flavors may sort by (Nova's list, less the columns mininova has not).
FLAVOR_SORT_KEYS = ("created_at", "description", "disabled", "ephemeral_gb", "flavorid",
                    "id", "is_public", "memory_mb", "name", "root_gb", "rxtx_factor",
                    "swap", "updated_at", "vcpus")


def flavor_create(context, values, projects=()):
    """A new flavor; ``projects`` may use it when it is private.

    Name and id are each unique: FlavorExists or FlavorIdExists (409) say
    which. They are checked first for the message, and the table's unique
    constraints still catch two concurrent creates."""
    with db.transaction(writer=True) as session:
        if session.scalars(sa.select(models.Flavor).filter_by(name=values["name"])).first():
            raise exception.FlavorExists(name=values["name"])
        flavorid = str(values["flavorid"])
        if session.scalars(sa.select(models.Flavor).filter_by(flavorid=flavorid)).first():
            raise exception.FlavorIdExists(flavor_id=flavorid)
        flavor = db._saved(session, models.Flavor(**db.attribute_values(models.Flavor, values)))
        for project_id in set(projects):
            session.add(models.FlavorProject(flavor_id=flavor["id"], project_id=project_id))
        flavor["extra_specs"] = {}
        return flavor


def _visible_flavors(context):
    """Flavors this context may see: all for an admin; otherwise the public
    ones and the private ones its project was given access to."""
    query = sa.select(models.Flavor)
    if not context.is_admin:
        query = query.where(sa.or_(models.Flavor.is_public.is_(True),
                                   _project_has_access(context.project_id)))
    return query


def _project_has_access(project_id):
    return models.Flavor.id.in_(
        sa.select(models.FlavorProject.flavor_id).filter_by(project_id=project_id))


def _flavor_with_specs(session, flavor):
    values = db.as_dict(flavor)
    specs = session.scalars(sa.select(models.FlavorExtraSpec).filter_by(flavor_id=flavor.id))
    values["extra_specs"] = {spec.key: spec.value for spec in specs}
    return values


def flavor_get_by_flavor_id(context, flavorid):
    """The flavor, with its ``extra_specs`` dict, if this context may see
    it: a private flavor of another project is not found (as in Nova)."""
    with db.transaction() as session:
        flavor = session.scalars(
            _visible_flavors(context).filter_by(flavorid=str(flavorid))).first()
        if flavor is None:
            raise exception.FlavorNotFound(flavor_id=flavorid)
        return _flavor_with_specs(session, flavor)


def flavor_get_all(context, is_public=None, min_memory_mb=None, min_root_gb=None,
                   disabled=None, sort_key="flavorid", sort_dir="asc", limit=None,
                   marker=None):
    """Flavors this context may see, filtered, sorted and paged as Nova's
    ``FlavorList.get_all``.

    ``is_public=True`` means "the public ones and the private ones my
    project may use", ``False`` only private ones, None all. ``marker`` is
    the flavorid of the last flavor of the previous page (MarkerNotFound if
    no such flavor is visible). Flavors are few, so the page is cut here
    rather than with a keyset query."""
    query = _visible_flavors(context)
    if min_memory_mb is not None:
        query = query.where(models.Flavor.memory_mb >= min_memory_mb)
    if min_root_gb is not None:
        query = query.where(models.Flavor.root_gb >= min_root_gb)
    if disabled is not None:
        query = query.filter_by(disabled=disabled)
    if is_public is not None:
        wanted = models.Flavor.is_public.is_(bool(is_public))
        if is_public and context.project_id is not None:
            wanted = sa.or_(wanted, _project_has_access(context.project_id))
        query = query.where(wanted)
    order = sa.desc if sort_dir == "desc" else sa.asc
    query = query.order_by(order(getattr(models.Flavor, sort_key)), order(models.Flavor.id))
    with db.transaction() as session:
        flavors = [_flavor_with_specs(session, flavor) for flavor in session.scalars(query)]
    if marker is not None:
        flavorids = [flavor["flavorid"] for flavor in flavors]
        if marker not in flavorids:
            raise exception.MarkerNotFound(marker=marker)
        flavors = flavors[flavorids.index(marker) + 1:]
    return flavors[:limit] if limit is not None else flavors


def flavor_update_description(context, flavorid, description):
    """The only thing of a flavor that changes after its creation (2.55)."""
    with db.transaction(writer=True) as session:
        flavor = session.scalars(
            sa.select(models.Flavor).filter_by(flavorid=str(flavorid))).first()
        if flavor is None:
            raise exception.FlavorNotFound(flavor_id=flavorid)
        flavor.description = description
        flavor.updated_at = timeutils.utcnow()
        session.flush()
        return _flavor_with_specs(session, flavor)


def flavor_destroy(context, flavorid):
    """Delete the flavor, its extra specs and its access list (the foreign
    keys cascade). Servers keep their own copy of it."""
    with db.transaction(writer=True) as session:
        result = session.execute(sa.delete(models.Flavor).filter_by(flavorid=str(flavorid)))
        if result.rowcount != 1:
            raise exception.FlavorNotFound(flavor_id=flavorid)


def _flavor_row(session, flavorid):
    flavor = session.scalars(sa.select(models.Flavor).filter_by(flavorid=str(flavorid))).first()
    if flavor is None:
        raise exception.FlavorNotFound(flavor_id=flavorid)
    return flavor


def flavor_access_get(context, flavorid):
    """The projects that may use the (private) flavor, in the order given."""
    with db.transaction() as session:
        flavor = _flavor_row(session, flavorid)
        query = (sa.select(models.FlavorProject.project_id)
                 .filter_by(flavor_id=flavor.id).order_by(models.FlavorProject.id))
        return list(session.scalars(query))


def flavor_access_add(context, flavorid, project_id):
    with db.transaction(writer=True) as session:
        flavor = _flavor_row(session, flavorid)
        if session.scalars(sa.select(models.FlavorProject).filter_by(
                flavor_id=flavor.id, project_id=project_id)).first():
            raise exception.FlavorAccessExists(flavor_id=flavorid, project_id=project_id)
        session.add(models.FlavorProject(flavor_id=flavor.id, project_id=project_id))
    return flavor_access_get(context, flavorid)


def flavor_access_remove(context, flavorid, project_id):
    with db.transaction(writer=True) as session:
        flavor = _flavor_row(session, flavorid)
        result = session.execute(sa.delete(models.FlavorProject).filter_by(
            flavor_id=flavor.id, project_id=project_id))
        if result.rowcount != 1:
            raise exception.FlavorAccessNotFound(flavor_id=flavorid, project_id=project_id)
    return flavor_access_get(context, flavorid)
