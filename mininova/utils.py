"""Small helpers shared by the services (mirrors ``nova/utils.py``)."""

import importlib
import os
from datetime import datetime, timedelta
from importlib import metadata

from oslo_log import log as logging
from oslo_utils import timeutils

from mininova import processutils
from mininova.conf import CONF

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


def listdir(path):
    """The names in directory ``path``, sorted; none when it does not exist
    (a host that never cached an image has no ``_base`` yet)."""
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []


def package_version():
    """mininova's installed version, for logs and the domain XML."""
    try:
        return metadata.version("mininova")
    except metadata.PackageNotFoundError:
        return "unknown"


def import_class(path):
    module_name, _, class_name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def seconds_since(timestamp, now=None):
    """Seconds from ``timestamp`` (datetime or ISO string) to now."""
    if timestamp is None:
        return None
    if isinstance(timestamp, str):
        timestamp = datetime.fromisoformat(timestamp)
    return ((now or timeutils.utcnow()) - timestamp) / timedelta(seconds=1)


def isotime(value):
    """``2026-11-21T12:00:00Z``, the API's timestamp format."""
    return _formatted(value, "%Y-%m-%dT%H:%M:%SZ")


def perfect_time(value):
    """``2026-11-21T12:00:00.880302``: a time as Nova's API shows the ones it
    hands to its JSON encoder as they are (oslo.serialization's
    ``PERFECT_TIME_FORMAT``, microseconds always, no zone), such as
    ``OS-SRV-USG:launched_at`` and an instance action's ``start_time``."""
    return _formatted(value, PERFECT_TIME_FORMAT)


PERFECT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def _formatted(value, time_format):
    """A datetime (or ISO string) in ``time_format``; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime(time_format)


def sanitize_hostname(display_name):
    """A DNS-safe hostname from the display name (as Nova's, in nova/utils.py)."""
    allowed = "".join(c if c.isalnum() or c == "-" else "-" for c in display_name.lower())
    return allowed.strip("-")[:63] or "server"
