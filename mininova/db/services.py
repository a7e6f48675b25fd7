"""Services, their heartbeat and their compute nodes in the database
(mirrors the ``service_*`` and ``compute_node_*`` queries of
``nova/db/main/api.py``).

A service row is one running binary on one host; the conductor writes it
when the service starts (``service_register``) and bumps its
``last_seen_up`` on every heartbeat, which is what the DB servicegroup
driver reads (:func:`service_liveness_get_all` applies its up-or-down rule
in SQL). A compute node row is what a compute's resource tracker last
reported for one of its nodes, stored through the conductor
(``compute_node_update``). The scheduler reads both on every request, which
is why the two list queries read plain rows (``_rows`` of
:mod:`mininova.db.api`) rather than ORM objects.

Same rules as :mod:`mininova.db.api`: one short transaction per function,
plain dicts out.

Left out: service versions (``service_get_minimum_version``), the lookups
by topic and hypervisor type, soft-deleted services (``service_destroy``
deletes the service and its nodes outright), and the compute node
statistics, search and paging queries.
"""

import sqlalchemy as sa
from oslo_utils import timeutils

from mininova import exception
from mininova.db import api as db
from mininova.db import models

# --- services and the heartbeat ---------------------------------------------

def service_create(context, values):
    with db.transaction(writer=True) as session:
        service = models.Service(**db.attribute_values(models.Service, values))
        service.last_seen_up = timeutils.utcnow()
        return db._saved(session, service)


def service_get(context, service_id):
    with db.transaction() as session:
        service = session.get(models.Service, service_id)
        if service is None:
            raise exception.ServiceNotFound(service_id=service_id)
        return db.as_dict(service)


def service_get_by_uuid(context, service_uuid):
    with db.transaction() as session:
        service = session.scalars(
            sa.select(models.Service).filter_by(uuid=service_uuid)).first()
        if service is None:
            raise exception.ServiceNotFound(service_id=service_uuid)
        return db.as_dict(service)


def service_get_by_host_and_binary(context, host, binary):
    with db.transaction() as session:
        service = session.scalars(
            sa.select(models.Service).filter_by(host=host, binary=binary)
        ).first()
        if service is None:
            raise exception.HostBinaryNotFound(host=host, binary=binary)
        return db.as_dict(service)


def service_get_all(context, binary=None, host=None):
    table = models.Service.__table__
    query = sa.select(table).order_by(table.c.id)
    if binary:
        query = query.where(table.c.binary == binary)
    if host:
        query = query.where(table.c.host == host)
    return db._rows(query)


def service_liveness_get_all(context, binary, up_since):
    """The services of ``binary`` as the scheduler's ComputeFilter needs
    them: host, disabled (and why), forced_down, and ``up``: a heartbeat at
    or after ``up_since`` and not forced down (servicegroup's rule, applied
    by the database). ``last_seen_up`` is read only for the services that
    are down, for the message that says so: at 10,000 hosts, decoding every
    heartbeat's timestamp on every request would cost more than the rest of
    the read."""
    table = models.Service.__table__
    up = sa.and_(table.c.last_seen_up.is_not(None), table.c.last_seen_up >= up_since,
                 sa.not_(sa.func.coalesce(table.c.forced_down, False)))
    last_seen_if_down = sa.type_coerce(sa.case((up, None), else_=table.c.last_seen_up),
                                       sa.DateTime)
    query = (sa.select(table.c.id, table.c.host, table.c.binary, table.c.disabled,
                       table.c.disabled_reason, table.c.forced_down,
                       sa.case((up, True), else_=False).label("up"),
                       last_seen_if_down.label("last_seen_up"))
             .where(table.c.binary == binary).order_by(table.c.id))
    return db._rows(query)


def service_update(context, service_id, values):
    with db.transaction(writer=True) as session:
        service = session.get(models.Service, service_id)
        if service is None:
            raise exception.ServiceNotFound(service_id=service_id)
        for key, value in db.attribute_values(models.Service, values).items():
            setattr(service, key, value)
        session.flush()
        return db.as_dict(service)


def service_heartbeat(context, service_id):
    """Record that the service is alive now (the DB servicegroup driver)."""
    with db.transaction(writer=True) as session:
        result = session.execute(
            sa.update(models.Service)
            .where(models.Service.id == service_id)
            .values(report_count=models.Service.report_count + 1, last_seen_up=timeutils.utcnow())
        )
        if result.rowcount != 1:
            raise exception.ServiceNotFound(service_id=service_id)


def service_destroy(context, service_id):
    with db.transaction(writer=True) as session:
        session.execute(sa.delete(models.ComputeNode).filter_by(service_id=service_id))
        session.execute(sa.delete(models.Service).filter_by(id=service_id))


# --- compute nodes ------------------------------------------------------------

def compute_node_get_all(context, updated_since=None, json_as_text=False):
    """Every compute node, or those reported at or after ``updated_since``.

    ``json_as_text``: ``cpu_info`` and ``stats`` as the JSON text stored,
    for a reader (the scheduler) that decodes only the reports it has not
    seen yet."""
    table = models.ComputeNode.__table__
    columns = [sa.type_coerce(column, sa.Text).label(column.name)
               if json_as_text and isinstance(column.type, sa.JSON) else column
               for column in table.c]
    query = sa.select(*columns).order_by(table.c.id)
    if updated_since is not None:
        query = query.where(table.c.updated_at >= updated_since)
    return db._rows(query)


def compute_node_get(context, node_id):
    with db.transaction() as session:
        node = session.get(models.ComputeNode, node_id)
        if node is None:
            raise exception.HypervisorNotFound(hypervisor_id=node_id)
        return db.as_dict(node)


def compute_node_get_by_uuid(context, node_uuid):
    with db.transaction() as session:
        node = session.scalars(sa.select(models.ComputeNode).filter_by(uuid=node_uuid)).first()
        if node is None:
            raise exception.HypervisorNotFound(hypervisor_id=node_uuid)
        return db.as_dict(node)


def compute_node_update_or_create(context, host, nodename, values):
    """Store what the resource tracker reported for (host, node)."""
    with db.transaction(writer=True) as session:
        node = session.scalars(
            sa.select(models.ComputeNode).filter_by(host=host, hypervisor_hostname=nodename)
        ).first()
        if node is None:
            node = models.ComputeNode(host=host, hypervisor_hostname=nodename)
            session.add(node)
        for key, value in db.attribute_values(models.ComputeNode, values).items():
            setattr(node, key, value)
        node.updated_at = timeutils.utcnow()
        session.flush()
        return db.as_dict(node)
