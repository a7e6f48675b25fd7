"""Helpers of the compute side (mirrors ``nova/compute/utils.py``): instance
faults and the instance-action event reporter.

Both take ``api``: anything with the database API's methods
(``instance_fault_create``, ``action_event_start``...). On a compute host
that is the conductor RPC client; inside the conductor it is the database
module itself (``mininova.db.api`` for faults, ``mininova.db.instance_actions``
for events). The same code then records a fault from either side.
"""

import sys
import traceback

from oslo_log import log as logging

from mininova import exception

LOG = logging.getLogger(__name__)

# Nova's instance_faults.message column is 255 characters long.
FAULT_MESSAGE_MAX = 255
# What marks a message that was cut (ASCII: every database keeps it as is).
CUT_MARK = " ..."


def exception_to_fault(exc, include_details=None):
    """``{code, message, details}`` as Nova stores and shows a fault.

    Our own exceptions keep their HTTP code and message; anything else is a
    500 whose message is the class name (the traceback goes to details,
    which only admins see).
    """
    code = getattr(exc, "code", 500)
    if isinstance(exc, exception.MininovaException):
        message = exc.format_message()
    else:
        message = type(exc).__name__
    details = ""
    if getattr(exc, "kwargs", {}).get("details"):
        # The exception brought its own explanation (NoValidHost's per-host list).
        details = exc.kwargs["details"]
    elif code == 500 or include_details:
        details = getattr(exc, "remote_traceback", "") or "".join(
            traceback.format_exception(exc))
    short = cut_message(message)
    if short != message:
        # The column cannot hold it all: the whole text goes first in details.
        details = f"{message}\n\n{details}" if details else message
    return {"code": code, "message": short, "details": details}


def cut_message(message, limit=FAULT_MESSAGE_MAX):
    """``message`` if it fits in ``limit`` characters; else its beginning,
    cut after the last whole word, with " ..." to say so.

    Nova cuts at 255 characters wherever that falls, which leaves half a
    word or half a number (``IncompleteRead(2306``) that reads as if it
    were the whole value.
    """
    if len(message) <= limit:
        return message
    room = limit - len(CUT_MARK)
    head = message[:room + 1]
    space = head.rfind(" ")
    # A single "word" longer than half the room (a path, a URL) is cut
    # where it must be: dropping it whole would leave too little.
    head = head[:space] if space > room // 2 else head[:room]
    return head.rstrip(" ,;:.") + CUT_MARK


def add_instance_fault_from_exc(ctxt, api, instance_uuid, exc, host=None):
    values = exception_to_fault(exc)
    values.update(instance_uuid=instance_uuid, host=host)
    api.instance_fault_create(ctxt, values)


class EventReporter:
    """Record one event of the current instance action, with its result::

        with EventReporter(ctxt, api, "compute__do_build_and_run_instance", host, uuid):
            ...
    """

    def __init__(self, ctxt, api, event_name, host, instance_uuid):
        self.ctxt = ctxt
        self.api = api
        self.event_name = event_name
        self.host = host
        self.instance_uuid = instance_uuid

    def __enter__(self):
        try:
            self.api.action_event_start(self.ctxt, self.instance_uuid, self.event_name,
                                        self.host)
        except exception.NotFound:
            # No action for this request (e.g. the instance is gone): the
            # work still runs, it is only not recorded.
            LOG.debug("No instance action to record %s in", self.event_name)
        return self

    def __exit__(self, exc_type, exc, tb):
        result = "Success" if exc is None else "Error"
        details = None if exc is None else "".join(traceback.format_exception(exc))
        try:
            self.api.action_event_finish(self.ctxt, self.instance_uuid, self.event_name,
                                         result, details)
        except exception.NotFound:
            pass
        except Exception:
            LOG.warning("Could not record the end of %s", self.event_name,
                        exc_info=sys.exc_info())
        return False


def admin_context():
    """An admin context for work the compute starts itself (start-up,
    lifecycle events), stored for this thread so its log lines carry its
    request id."""
    from mininova import context

    ctxt = context.get_admin_context()
    ctxt.update_store()
    return ctxt


def local_disk_flavor(instance, flavor=None):
    """The flavor as this host's disk sees the instance: a server booted
    from a volume has its root disk in the volume service, so its root_gb
    takes nothing here. "Booted from a volume" is read as Nova's
    ``is_volume_backed_instance`` reads it first: no ``image_ref``. (One
    booted from a volume *with* an imageRef is counted with its root, too
    much rather than too little.)"""
    flavor = flavor or instance["flavor"]
    if "image_ref" in instance and not instance["image_ref"]:
        return dict(flavor, root_gb=0)
    return flavor
