"""Queries of the scheduling side (the part of ``nova/db/main/api.py`` and
``nova/objects/aggregate.py``, ``instance_group.py`` it needs): flavor extra
specs, host aggregates and the availability zones they define, server
groups, and mininova's record of each scheduling decision.

Same rules as :mod:`mininova.db.api`: one short transaction per function,
plain dicts out.
"""

import uuid

import sqlalchemy as sa

from mininova import exception
from mininova.db import api as db
from mininova.db import models

AZ_KEY = "availability_zone"


# --- flavor extra specs -------------------------------------------------------

def _flavor_row_id(session, flavorid):
    row = session.scalars(sa.select(models.Flavor.id).filter_by(flavorid=str(flavorid))).first()
    if row is None:
        raise exception.FlavorNotFound(flavor_id=flavorid)
    return row


def flavor_extra_specs_get(context, flavorid):
    with db.transaction() as session:
        flavor_id = _flavor_row_id(session, flavorid)
        rows = session.scalars(sa.select(models.FlavorExtraSpec).filter_by(flavor_id=flavor_id))
        return {row.key: row.value for row in rows}


def flavor_extra_specs_update(context, flavorid, specs):
    """Set the given keys (others are kept); returns all of the flavor's specs."""
    with db.transaction(writer=True) as session:
        flavor_id = _flavor_row_id(session, flavorid)
        existing = {row.key: row for row in session.scalars(
            sa.select(models.FlavorExtraSpec).filter_by(flavor_id=flavor_id))}
        for key, value in specs.items():
            if key in existing:
                existing[key].value = value
            else:
                session.add(models.FlavorExtraSpec(flavor_id=flavor_id, key=key, value=value))
    return flavor_extra_specs_get(context, flavorid)


def flavor_extra_specs_delete(context, flavorid, key):
    with db.transaction(writer=True) as session:
        flavor_id = _flavor_row_id(session, flavorid)
        result = session.execute(sa.delete(models.FlavorExtraSpec)
                                 .filter_by(flavor_id=flavor_id, key=key))
        if result.rowcount != 1:
            raise exception.FlavorExtraSpecsNotFound(flavor_id=flavorid, extra_specs_key=key)


# --- aggregates and availability zones ----------------------------------------

def _aggregate_dict(session, aggregate):
    hosts = session.scalars(sa.select(models.AggregateHost.host)
                            .filter_by(aggregate_id=aggregate.id)
                            .order_by(models.AggregateHost.id)).all()
    metadata = {row.key: row.value for row in session.scalars(
        sa.select(models.AggregateMetadata).filter_by(aggregate_id=aggregate.id))}
    values = db.as_dict(aggregate)
    values.update(hosts=list(hosts), metadata=metadata,
                  availability_zone=metadata.get(AZ_KEY))
    return values


def _aggregate_row(session, aggregate_id):
    query = sa.select(models.Aggregate)
    if str(aggregate_id).isdigit():
        query = query.filter_by(id=int(aggregate_id))
    else:
        query = query.filter_by(uuid=str(aggregate_id))
    aggregate = session.scalars(query).first()
    if aggregate is None:
        raise exception.AggregateNotFound(aggregate_id=aggregate_id)
    return aggregate


def aggregate_create(context, name, availability_zone=None):
    with db.transaction(writer=True) as session:
        if session.scalars(sa.select(models.Aggregate).filter_by(name=name)).first():
            raise exception.AggregateNameExists(aggregate_name=name)
        aggregate = models.Aggregate(uuid=str(uuid.uuid4()), name=name)
        session.add(aggregate)
        session.flush()
        if availability_zone:
            session.add(models.AggregateMetadata(aggregate_id=aggregate.id, key=AZ_KEY,
                                                 value=availability_zone))
            session.flush()
        return _aggregate_dict(session, aggregate)


def aggregate_get(context, aggregate_id):
    with db.transaction() as session:
        return _aggregate_dict(session, _aggregate_row(session, aggregate_id))


def aggregate_get_all(context):
    with db.transaction() as session:
        aggregates = session.scalars(sa.select(models.Aggregate).order_by(models.Aggregate.id))
        return [_aggregate_dict(session, aggregate) for aggregate in aggregates]


def aggregate_update(context, aggregate_id, name=None, availability_zone=None):
    with db.transaction(writer=True) as session:
        aggregate = _aggregate_row(session, aggregate_id)
        if name and name != aggregate.name:
            if session.scalars(sa.select(models.Aggregate).filter_by(name=name)).first():
                raise exception.AggregateNameExists(aggregate_name=name)
            aggregate.name = name
    if availability_zone is not None:
        aggregate_metadata_set(context, aggregate_id, {AZ_KEY: availability_zone})
    return aggregate_get(context, aggregate_id)


def aggregate_delete(context, aggregate_id):
    with db.transaction(writer=True) as session:
        aggregate = _aggregate_row(session, aggregate_id)
        if session.scalars(sa.select(models.AggregateHost)
                           .filter_by(aggregate_id=aggregate.id)).first():
            raise exception.InvalidAggregateAction(
                action="delete", aggregate_id=aggregate_id, reason="Host aggregate is not empty")
        session.execute(sa.delete(models.AggregateMetadata).filter_by(aggregate_id=aggregate.id))
        session.delete(aggregate)


def aggregate_host_add(context, aggregate_id, host):
    with db.transaction(writer=True) as session:
        aggregate = _aggregate_row(session, aggregate_id)
        if session.scalars(sa.select(models.AggregateHost)
                           .filter_by(aggregate_id=aggregate.id, host=host)).first():
            raise exception.AggregateHostExists(aggregate_id=aggregate_id, host=host)
        session.add(models.AggregateHost(aggregate_id=aggregate.id, host=host))
        session.flush()
        return _aggregate_dict(session, aggregate)


def aggregate_host_delete(context, aggregate_id, host):
    with db.transaction(writer=True) as session:
        aggregate = _aggregate_row(session, aggregate_id)
        result = session.execute(sa.delete(models.AggregateHost)
                                 .filter_by(aggregate_id=aggregate.id, host=host))
        if result.rowcount != 1:
            raise exception.AggregateHostNotFound(aggregate_id=aggregate_id, host=host)
        return _aggregate_dict(session, aggregate)


def aggregate_metadata_set(context, aggregate_id, metadata):
    """Set keys; a value of None deletes the key."""
    with db.transaction(writer=True) as session:
        aggregate = _aggregate_row(session, aggregate_id)
        rows = {row.key: row for row in session.scalars(
            sa.select(models.AggregateMetadata).filter_by(aggregate_id=aggregate.id))}
        for key, value in metadata.items():
            if value is None:
                if key in rows:
                    session.delete(rows[key])
            elif key in rows:
                rows[key].value = value
            else:
                session.add(models.AggregateMetadata(aggregate_id=aggregate.id, key=key,
                                                     value=value))
        session.flush()
        return _aggregate_dict(session, aggregate)


def aggregates_by_host(context):
    """``{host: [aggregate, ...]}`` for every host in an aggregate."""
    result = {}
    for aggregate in aggregate_get_all(context):
        for host in aggregate["hosts"]:
            result.setdefault(host, []).append(aggregate)
    return result


def availability_zones_by_host(context):
    """``{host: zone}`` for hosts whose aggregates name a zone."""
    zones = {}
    for host, aggregates in aggregates_by_host(context).items():
        named = sorted({a["availability_zone"] for a in aggregates if a["availability_zone"]})
        if named:
            zones[host] = ",".join(named)
    return zones


# --- server groups ----------------------------------------------------------------

def _group_dict(session, group):
    members = session.scalars(sa.select(models.InstanceGroupMember.instance_uuid)
                              .filter_by(group_id=group.id)
                              .order_by(models.InstanceGroupMember.id)).all()
    values = db.as_dict(group)
    values["members"] = list(members)
    return values


def _group_row(session, group_uuid):
    group = session.scalars(sa.select(models.InstanceGroup).filter_by(uuid=group_uuid)).first()
    if group is None:
        raise exception.InstanceGroupNotFound(group_uuid=group_uuid)
    return group


def instance_group_create(context, name, policy, rules=None):
    with db.transaction(writer=True) as session:
        group = models.InstanceGroup(uuid=str(uuid.uuid4()), name=name, policy=policy,
                                     rules=rules, user_id=context.user_id,
                                     project_id=context.project_id)
        session.add(group)
        session.flush()
        return _group_dict(session, group)


def instance_group_get(context, group_uuid):
    with db.transaction() as session:
        return _group_dict(session, _group_row(session, group_uuid))


def instance_group_get_all(context, project_id=None):
    with db.transaction() as session:
        query = sa.select(models.InstanceGroup).order_by(models.InstanceGroup.id)
        if project_id is not None:
            query = query.filter_by(project_id=project_id)
        return [_group_dict(session, group) for group in session.scalars(query)]


def instance_group_delete(context, group_uuid):
    with db.transaction(writer=True) as session:
        group = _group_row(session, group_uuid)
        session.execute(sa.delete(models.InstanceGroupMember).filter_by(group_id=group.id))
        session.delete(group)


def instance_group_members_add(context, group_uuid, instance_uuids):
    with db.transaction(writer=True) as session:
        group = _group_row(session, group_uuid)
        for instance_uuid in instance_uuids:
            session.add(models.InstanceGroupMember(group_id=group.id,
                                                   instance_uuid=instance_uuid))
        session.flush()
        return _group_dict(session, group)


def instance_group_get_by_instance(context, instance_uuid):
    """The group ``instance_uuid`` belongs to, or None."""
    with db.transaction() as session:
        group = session.scalars(
            sa.select(models.InstanceGroup)
            .join(models.InstanceGroupMember,
                  models.InstanceGroupMember.group_id == models.InstanceGroup.id)
            .where(models.InstanceGroupMember.instance_uuid == instance_uuid)).first()
        return _group_dict(session, group) if group else None


def instance_group_member_hosts(context, group_uuid, exclude=()):
    """``{member uuid: host}`` of the group's live members that reached a host."""
    with db.transaction() as session:
        group = _group_row(session, group_uuid)
        query = (sa.select(models.Instance.uuid, models.Instance.host)
                 .join(models.InstanceGroupMember,
                       models.InstanceGroupMember.instance_uuid == models.Instance.uuid)
                 .where(models.InstanceGroupMember.group_id == group.id,
                        models.Instance.deleted == 0,
                        models.Instance.host.is_not(None)))
        if exclude:
            query = query.where(models.Instance.uuid.not_in(list(exclude)))
        return dict(session.execute(query).all())


def instance_group_hosts(context, group_uuid, exclude=()):
    """Hosts of the group's live members (those that reached a host), one
    entry per member: a host with two members is listed twice, which is
    what an anti-affinity rule ``max_server_per_host`` counts."""
    return sorted(instance_group_member_hosts(context, group_uuid, exclude).values())


# --- scheduling decisions ------------------------------------------------------------

def scheduling_decision_create(context, values):
    with db.transaction(writer=True) as session:
        row = models.SchedulingDecision(**db.attribute_values(models.SchedulingDecision,
                                                              values))
        session.add(row)
        session.flush()
        return db.as_dict(row)


def scheduling_decisions_get(context, instance_uuid):
    with db.transaction() as session:
        query = (sa.select(models.SchedulingDecision).filter_by(instance_uuid=instance_uuid)
                 .order_by(models.SchedulingDecision.attempt, models.SchedulingDecision.id))
        return [db.as_dict(row) for row in session.scalars(query)]
