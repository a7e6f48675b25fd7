"""What the ``mininova`` commands share (mirrors novaclient's ``utils.py``):
novaclient's tables, ``key=value`` arguments, the upload progress bar,
acting on or deleting several resources by name, and polling until a state
is reached."""

import json
import sys
import time

import prettytable

from mininova.cli.client import ClientException


def add_command(commands, name, function, help_text):
    """A sub-command that runs ``function(client, args)``; add its arguments
    to the parser this returns."""
    sub = commands.add_parser(name, help=help_text, description=help_text)
    sub.set_defaults(function=function)
    return sub


# --- output ------------------------------------------------------------------

def print_list(rows, fields, labels=None):
    table = prettytable.PrettyTable(labels or fields)
    table.align = "l"
    for row in rows:
        table.add_row([row.get(field, "") for field in fields])
    print(table)


def print_dict(values):
    table = prettytable.PrettyTable(["Property", "Value"])
    table.align = "l"
    for key in sorted(values):
        value = values[key]
        if isinstance(value, (dict, list)):
            value = _compact(value)
        table.add_row([key, "-" if value is None else value])
    print(table)


def _compact(value):
    return json.dumps(value, sort_keys=True)


class ProgressBar:
    """``[=====     ]  50%`` on stderr, redrawn only when the percent changes,
    and only on a terminal: in a log file or a CI job's output each redraw
    would be a line of its own."""

    WIDTH = 40

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.shown = None

    def __call__(self, sent, total):
        percent = 100 * sent // total if total else 100
        if percent == self.shown or not self.stream.isatty():
            return
        self.shown = percent
        done = self.WIDTH * percent // 100
        self.stream.write(f"\r[{'=' * done}{' ' * (self.WIDTH - done)}] {percent:3d}%")
        self.stream.flush()

    def finish(self):
        """End the bar's line, if one was drawn."""
        if self.shown is not None:
            self.stream.write("\n")


# --- what the commands share ---------------------------------------------------------

def key_value(text, option="--property"):
    """``key=value`` as ``(key, value)``; anything else ends the command."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise SystemExit(f"error: {option} takes key=value, got {text!r}")
    return key, value


def delete_each(names, noun, delete, deleted_message):
    """Delete several resources by name, as novaclient's ``delete`` commands
    do: ``delete(name)`` for each, then ``deleted_message`` (its ``{name}``
    filled in) on stdout, or ``Delete for <noun> <name> failed: ...`` on
    stderr and on to the next name. Exit status 1 if any delete failed."""
    failures = _each(names, delete, deleted_message,
                     lambda name, exc: f"Delete for {noun} {name} failed: {exc}")
    return 1 if failures else 0


def act_on_each(names, act, accepted_message, unable_message):
    """Run an action on several servers, as novaclient's ``stop``, ``start``
    and ``reboot`` do: ``act(name)`` for each, ``accepted_message`` (its
    ``{name}`` filled in; None prints nothing) on stdout, or the error on
    stderr and on to the next. If any failed, ``unable_message`` ends the
    command with exit status 1."""
    failures = _each(names, act, accepted_message, lambda _name, exc: str(exc))
    if failures:
        print(f"ERROR (CommandError): {unable_message}", file=sys.stderr)
        return 1
    return 0


def _each(names, act, done_message, failure_message):
    """The number of names ``act`` failed on; one does not stop the others."""
    failures = 0
    for name in names:
        try:
            act(name)
        except ClientException as exc:
            print(failure_message(name, exc), file=sys.stderr)
            failures += 1
            continue
        if done_message is not None:
            print(done_message.format(name=name))
    return failures


def poll(fetch, describe, finished, timeout, interval=0.5):
    """``fetch()`` until ``finished(value)`` or ``timeout`` seconds, printing
    ``describe(value)`` each time it changes (``--wait``, ``--poll``): the
    states a server or an image goes through. Returns the last value."""
    deadline = time.monotonic() + timeout
    shown = None
    while True:
        value = fetch()
        line = describe(value)
        if line != shown:
            print(line, flush=True)
            shown = line
        if finished(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)
