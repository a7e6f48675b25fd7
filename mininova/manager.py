"""Base class of the services' managers (mirrors ``nova/manager.py``).

A manager holds a service's logic. Its public methods are its RPC API: the
service's RPC server calls ``manager.<method>(context, **args)`` for every
message. Methods decorated with :func:`periodic_task` run on a timer.
"""

import time

from oslo_log import log as logging

from mininova.conf import CONF

LOG = logging.getLogger(__name__)


def periodic_task(spacing):
    """Run the decorated method every ``spacing`` seconds.

    ``spacing`` is a number, or the name of an option read at run time (so
    tests and operators can change it in the config): ``"report_interval"``
    for [DEFAULT], ``"image_cache.manager_interval"`` for a group. Zero or
    less turns the task off.
    """
    def decorator(function):
        function._periodic_spacing = spacing
        return function
    return decorator


def _seconds(spacing):
    if not isinstance(spacing, str):
        return spacing
    group, _dot, name = spacing.rpartition(".")
    return getattr(CONF[group] if group else CONF, name)


class Manager:
    # Public methods of a manager that are not reachable over RPC (periodic
    # tasks are not either: rpc.RPCServer skips them).
    NOT_RPC = frozenset({"init_host", "cleanup_host", "post_start_hook", "run_periodic_tasks",
                         "seconds_until"})

    def __init__(self, host=None):
        self.host = host or CONF.host
        self._last_run = {}

    def init_host(self):
        """Start-up work before the service takes messages (recovery, checks)."""

    def post_start_hook(self):
        """Work once the service is registered and consuming messages."""

    def cleanup_host(self):
        """Release what init_host took (connections, threads)."""

    def _periodic_tasks(self):
        for name in dir(type(self)):
            function = getattr(type(self), name)
            if callable(function) and hasattr(function, "_periodic_spacing"):
                yield name, function._periodic_spacing

    def run_periodic_tasks(self, context):
        """Run every periodic task that is due; one failing does not stop others.

        A task that fails (a MessagingTimeout while the broker is away) is
        logged as ``Error during <Manager>.<task>``; it releases its locks
        as it fails, since tasks take them in ``with`` blocks, and tasks do
        not hold a lock across an RPC call (the resource tracker's recount):
        no boot waits an RPC timeout behind a periodic task.
        """
        now = time.monotonic()
        for name, spacing in self._periodic_tasks():
            seconds = _seconds(spacing)
            last = self._last_run.setdefault(name, now)
            # The first run comes one spacing after start (Nova's default
            # run_immediately=False); services do their start-up work themselves.
            if seconds <= 0 or now - last < seconds:
                continue
            self._last_run[name] = now
            try:
                getattr(self, name)(context)
            except Exception:
                LOG.exception("Error during %s.%s", type(self).__name__, name)

    def seconds_until(self, task_name):
        """When the periodic task will next run, or None when it is off."""
        seconds = _seconds(getattr(type(self), task_name)._periodic_spacing)
        if seconds <= 0:
            return None
        last = self._last_run.get(task_name, time.monotonic())
        return max(0.0, last + seconds - time.monotonic())
