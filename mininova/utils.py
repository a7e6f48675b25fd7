"""Small helpers shared by the services (mirrors ``nova/utils.py``)."""

import importlib
from datetime import datetime, timedelta

from oslo_log import log as logging

from mininova import processutils
from mininova.conf import CONF
from mininova.db.models import utcnow

LOG = logging.getLogger(__name__)


def execute(*cmd, timeout=None, **kwargs):
    """Run a command (:mod:`mininova.processutils`, as Nova uses
    oslo.concurrency's), killed after ``timeout`` seconds of wall-clock time:
    ``[DEFAULT] command_timeout`` unless the caller knows it takes longer.

    Failures are ProcessExecutionFailed with the command's own stderr, which
    is what a student needs to see in the fault, or one of its subclasses
    that says what stopped it (a timeout, a limit, a signal).
    """
    return processutils.execute(*cmd, timeout=timeout or CONF.command_timeout, **kwargs)


def import_class(path):
    module_name, _, class_name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def seconds_since(timestamp, now=None):
    """Seconds from ``timestamp`` (datetime or ISO string) to now."""
    if timestamp is None:
        return None
    if isinstance(timestamp, str):
        timestamp = datetime.fromisoformat(timestamp)
    return ((now or utcnow()) - timestamp) / timedelta(seconds=1)


def isotime(value):
    """``2026-11-21T12:00:00Z``, the API's timestamp format."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
