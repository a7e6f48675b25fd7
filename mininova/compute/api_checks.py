"""What every action of the compute API shares (mirrors the
``check_instance_lock`` and ``check_instance_state`` decorators of
``nova/compute/api.py``, its ``instance.save(expected_task_state=...)``
and ``_record_action_start``).

The pattern, as in Nova: :meth:`ActionChecksMixin._check_state` refuses
an instance not in a (vm_state, task_state) the action accepts, with 409
``Cannot '<action>' instance <uuid> while it is in vm_state <state>``;
:meth:`ActionChecksMixin._begin` then sets the action's task_state with a
compare-and-swap on the states just checked (two requests racing cannot
both win) and records the instance action. :func:`check_instance_lock`
refuses every action on a locked server unless the caller is an admin.

Beyond Nova: :func:`undo_if_undelivered` puts the instance back as it was
when the broker never took the action's cast (503 after ``[api]
rpc_publish_timeout``), so that no server stays ``powering-off`` for good.

A mixin of :class:`mininova.compute.api.API` and the decorators its other
mixins (``api_server_actions.py``, ``api_resize.py``...) use.
"""

import functools

from oslo_log import log as logging

from mininova import exception, rpc
from mininova.db import api as db
from mininova.db import instance_actions as actions_db

LOG = logging.getLogger(__name__)


# What an action's _begin may change on the instance before its cast.
UNDONE_IF_UNDELIVERED = ("task_state", "image_ref", "display_name", "hostname", "metadata",
                         "display_description", "progress")


def undo_if_undelivered(function):
    """An action whose cast the broker never took (503 after ``[api]
    rpc_publish_timeout``) is put back as it was: no compute will ever
    clear its task_state, and a server must not stay ``powering-off`` for
    good. The action's own record stays, showing it was asked for."""
    @functools.wraps(function)
    def inner(self, context, instance, *args, **kwargs):
        try:
            return function(self, context, instance, *args, **kwargs)
        except rpc.MessageDeliveryFailure:
            _put_back(context, instance)
            raise
    return inner


def _put_back(context, instance):
    fresh = db.instance_get_by_uuid(context, instance["uuid"])
    changed = {field: instance[field] for field in UNDONE_IF_UNDELIVERED
               if field in instance and fresh.get(field) != instance[field]}
    if changed:
        try:
            db.instance_update(context, instance["uuid"], changed,
                               expected_task_state=[fresh["task_state"]])
        except exception.InstanceUpdateConflict:
            LOG.warning("Could not put back instance %s after an undelivered action: "
                        "it changed meanwhile", instance["uuid"])


def check_instance_lock(function):
    """Refuse the action on a locked server unless the caller is an admin."""
    @functools.wraps(function)
    def inner(self, context, instance, *args, **kwargs):
        if instance["locked"] and not context.is_admin:
            raise exception.InstanceIsLocked(instance_uuid=instance["uuid"])
        return function(self, context, instance, *args, **kwargs)
    return inner


class ActionChecksMixin:
    # --- the state checks every action shares -----------------------------------------------

    @staticmethod
    def _check_state(instance, action, vm_state, task_state=(None,)):
        """409 with Nova's message when the instance is not in a state the
        action accepts (vm_state checked first, as Nova does)."""
        if instance["vm_state"] not in vm_state:
            raise exception.InstanceInvalidState(
                action=action, server_id=instance["uuid"], attr="vm_state",
                state=instance["vm_state"])
        if instance["task_state"] not in task_state:
            raise exception.InstanceInvalidState(
                action=action, server_id=instance["uuid"], attr="task_state",
                state=instance["task_state"])
        if not instance["host"]:
            # Scheduled but never claimed by a compute: nobody to cast to.
            raise exception.InstanceNotReady(instance_id=instance["uuid"])

    def _begin(self, context, instance, action, new_task_state, vm_state,
               task_state=(None,), **updates):
        """Check the states, set the task_state only if they still hold
        (another request may have changed them since we read the row) and
        record the instance action. Returns the updated instance."""
        self._check_state(instance, action, vm_state, task_state)
        try:
            instance = db.instance_update(
                context, instance["uuid"], dict(updates, task_state=new_task_state),
                expected_task_state=list(task_state), expected_vm_state=list(vm_state))
        except exception.InstanceUpdateConflict:
            self._check_state(db.instance_get_by_uuid(context, instance["uuid"]),
                              action, vm_state, task_state)
            raise
        actions_db.action_start(context, instance["uuid"], action)
        return instance
