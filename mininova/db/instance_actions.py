"""Instance actions and their events in the database (mirrors the
``action_*`` and ``actions_get`` queries of ``nova/db/main/api.py``).

An action is one request on a server (``create``, ``reboot``...), keyed by
the request id; its events are the steps the services took for it, each
with its result. The API starts the action; the conductor and the computes
(through the conductor's RPC) start and finish its events, which find the
action by the context's request id (:func:`_action_for_request`).
``GET /servers/{id}/os-instance-actions`` reads them back.

Same rules as :mod:`mininova.db.api`: one short transaction per function,
plain dicts out.

Left out: ``action_finish`` (an action is finished by its events here) and
``action_event_get_by_id``.
"""

import sqlalchemy as sa
from oslo_utils import timeutils

from mininova import exception
from mininova.db import api as db
from mininova.db import models

# --- instance actions and their events -----------------------------------------

def action_start(context, instance_uuid, action):
    with db.transaction(writer=True) as session:
        row = models.InstanceAction(
            action=action,
            instance_uuid=instance_uuid,
            request_id=context.request_id,
            user_id=context.user_id,
            project_id=context.project_id,
        )
        return db._saved(session, row)


def _action_for_request(session, context, instance_uuid):
    action = session.scalars(
        sa.select(models.InstanceAction)
        .filter_by(instance_uuid=instance_uuid, request_id=context.request_id)
        .order_by(models.InstanceAction.id.desc())
    ).first()
    if action is None:
        raise exception.NotFound(
            f"No action for request {context.request_id} on instance {instance_uuid}")
    return action


def action_event_start(context, instance_uuid, event_name, host=None):
    with db.transaction(writer=True) as session:
        action = _action_for_request(session, context, instance_uuid)
        # An action changes when one of its events does (the changes-since
        # filter of 2.58 reads the action's updated_at), as in Nova.
        action.updated_at = timeutils.utcnow()
        row = models.InstanceActionEvent(action_id=action.id, event=event_name, host=host)
        return db._saved(session, row)


def action_event_finish(context, instance_uuid, event_name, result, traceback=None):
    """Close the event; an error also marks its action with ``Error``."""
    with db.transaction(writer=True) as session:
        action = _action_for_request(session, context, instance_uuid)
        row = session.scalars(
            sa.select(models.InstanceActionEvent)
            .filter_by(action_id=action.id, event=event_name)
            .order_by(models.InstanceActionEvent.id.desc())
        ).first()
        if row is None:
            raise exception.NotFound(f"No event {event_name} for instance {instance_uuid}")
        row.finish_time = action.updated_at = timeutils.utcnow()
        row.result = result
        row.traceback = traceback
        if result == "Error":
            action.message = "Error"
        return db.as_dict(row)


def actions_get(context, instance_uuid, limit=None, marker=None, filters=None):
    """The instance's actions, newest first.

    ``marker`` is the request id of the last action of the previous page;
    ``filters`` may hold ``changes-since`` and ``changes-before`` (2.58,
    2.66), compared with the action's last change."""
    with db.transaction() as session:
        query = (
            sa.select(models.InstanceAction)
            .filter_by(instance_uuid=instance_uuid)
            .order_by(models.InstanceAction.created_at.desc(),
                      models.InstanceAction.id.desc())
        )
        changed = db._last_change(models.InstanceAction)
        if (filters or {}).get("changes-since"):
            query = query.where(changed >= filters["changes-since"])
        if (filters or {}).get("changes-before"):
            query = query.where(changed <= filters["changes-before"])
        if marker is not None:
            query = db._after_marker(session, query, models.InstanceAction, marker,
                                     instance_uuid=instance_uuid, request_id=marker)
        if limit:
            query = query.limit(limit)
        return [db.as_dict(action) for action in session.scalars(query)]


def action_events_get(context, action_id):
    with db.transaction() as session:
        query = (
            sa.select(models.InstanceActionEvent)
            .filter_by(action_id=action_id)
            .order_by(models.InstanceActionEvent.id)
        )
        return [db.as_dict(event) for event in session.scalars(query)]


def action_get_by_request_id(context, instance_uuid, request_id):
    """The instance's action of one request, or None (os-instance-actions/<id>)."""
    with db.transaction() as session:
        action = session.scalars(
            sa.select(models.InstanceAction)
            .filter_by(instance_uuid=instance_uuid, request_id=request_id)
            .order_by(models.InstanceAction.id.desc())
        ).first()
        return db.as_dict(action)
