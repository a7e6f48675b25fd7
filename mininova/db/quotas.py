"""Quota limits and usage counts in the database (mirrors the ``quota_*``
queries of ``nova/db/main/api.py``, ``nova/objects/quotas.py`` and the
counting functions of ``nova/quota.py``).

Two tables of limits: ``quotas`` (one project's own limit of a resource)
and ``quota_classes`` (the class ``default``: every project's default).
Usage is never stored: it is counted from the rows it is made of
(instances, key pairs, server groups) every time it is needed, which is
what Nova has done since Pike instead of keeping usage and reservation
records that could drift.
"""

import sqlalchemy as sa

from mininova.db import api as db
from mininova.db import models

# --- limits ---------------------------------------------------------------------


def quota_get_all_by_project(context, project_id):
    """``{resource: limit}`` of what was set for the project itself."""
    return _limits(models.Quota, models.Quota.project_id == project_id)


def quota_class_get_all_by_name(context, class_name):
    return _limits(models.QuotaClass, models.QuotaClass.class_name == class_name)


def _limits(model, owned):
    with db.transaction() as session:
        return dict(session.execute(sa.select(model.resource, model.hard_limit).where(owned)).all())


def quota_set(context, project_id, resource, hard_limit):
    """Create or update the project's limit of ``resource``."""
    _set_limit(models.Quota, {"project_id": project_id}, resource, hard_limit)


def quota_class_set(context, class_name, resource, hard_limit):
    _set_limit(models.QuotaClass, {"class_name": class_name}, resource, hard_limit)


def _set_limit(model, owner, resource, hard_limit):
    with db.transaction(writer=True) as session:
        row = session.scalars(sa.select(model).filter_by(resource=resource, **owner)).first()
        if row is None:
            session.add(model(resource=resource, hard_limit=hard_limit, **owner))
        else:
            row.hard_limit = hard_limit


def quota_destroy_all_by_project(context, project_id):
    """Forget the project's own limits: it has the defaults again."""
    with db.transaction(writer=True) as session:
        session.execute(sa.delete(models.Quota).filter_by(project_id=project_id))


# --- usage, counted -------------------------------------------------------------

def instances_cores_ram_count(context, project_id):
    """The project's servers that are not deleted, whatever their state,
    and the vcpus and RAM of their flavors (during a resize, the flavor
    the server has now), in one query as Nova counts the three together."""
    query = sa.select(models.Instance.flavor).where(models.Instance.project_id == project_id,
                                                    models.Instance.deleted == 0)
    with db.transaction() as session:
        flavors = list(session.scalars(query))
    return {"instances": len(flavors),
            "cores": sum(flavor["vcpus"] for flavor in flavors),
            "ram": sum(flavor["memory_mb"] for flavor in flavors)}


def server_group_count(context, project_id):
    with db.transaction() as session:
        return session.scalar(sa.select(sa.func.count(models.InstanceGroup.id))
                              .filter_by(project_id=project_id))


def server_group_member_count(context, group_uuid, user_id):
    """Servers of ``user_id`` in the group that are not deleted (Nova
    counts a group's members per user)."""
    query = (sa.select(sa.func.count(models.InstanceGroupMember.id))
             .join(models.InstanceGroup,
                   models.InstanceGroup.id == models.InstanceGroupMember.group_id)
             .join(models.Instance,
                   models.Instance.uuid == models.InstanceGroupMember.instance_uuid)
             .where(models.InstanceGroup.uuid == group_uuid,
                    models.Instance.user_id == user_id,
                    models.Instance.deleted == 0))
    with db.transaction() as session:
        return session.scalar(query)
