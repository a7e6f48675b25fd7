"""Where a boot's time goes, read from the services' own log lines.

Every log line of a request carries its request id (``req-…``), in every
service: the API's, the conductor's, the scheduler's, the compute's. So
the lines of one boot, merged by their timestamps (milliseconds; all the
services run on this machine, on one clock), are its timeline; and the gaps
between a few well-known lines (the milestones below, Nova's own log lines)
say which step took how long. The benchmark adds its own two instants, the
POST sent and ACTIVE seen, on the same clock (``time.time()``).

Used by ``boot_overhead.py --timeline``; nothing here changes a boot.
"""

import re
import statistics
from datetime import datetime
from pathlib import Path

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \d+ (\w+) (\S+) "
                  r"\[(req-[0-9a-f-]+) [^\]]*\] (.*)$")

# (name, service, what the line says): the steps of a boot, in order. The
# first line of the request in the service that matches is the milestone.
MILESTONES = [
    ("API answered 202", "api", '"POST /v2.1/servers" status: 202'),
    ("scheduler started", "scheduler", "Starting with"),
    ("conductor: host selected", "conductor", "Took "),
    ("conductor: cast to the compute", "conductor", "Selected host:"),
    ("compute: Starting instance...", "compute", "Starting instance..."),
    ("compute: claim made", "compute", 'Lock "compute_resources" "released"'),
    ("compute: Creating image", "compute", "Creating image"),
    ("compute: overlay made", "compute", 'CMD "qemu-img create'),
    ("compute: Guest created on hypervisor", "compute", "Guest created on hypervisor"),
    ("compute: ACTIVE saved", "compute", "seconds to build instance"),
]
# Lines that repeat what a milestone says, or a library's chatter.
NOISE = ("oslo_concurrency.lockutils", "scheduler.host_manager Filter ")


def _stamp(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").timestamp()


def request_lines(log_dir, request_id):
    """``[(time, service, level, logger, message)]`` of ``request_id``,
    from every ``mininova-*.log`` of ``log_dir``, in time order."""
    lines = []
    for path in Path(log_dir).glob("mininova-*.log"):
        service = path.stem.removeprefix("mininova-")
        for raw in path.read_text(errors="replace").splitlines():
            if request_id not in raw:
                continue
            match = LINE.match(raw)
            if match and match.group(4) == request_id:
                stamp, level, logger, _req, message = match.groups()
                lines.append((_stamp(stamp), service, level, logger, message))
    return sorted(lines, key=lambda line: line[0])


def boot_request_id(log_dir, server_id):
    """The request id of the POST that made ``server_id``: the one the
    compute's ``Starting instance...`` line of that server carries."""
    wanted = f"[instance: {server_id}] Starting instance..."
    for raw in (Path(log_dir) / "mininova-compute.log").read_text(errors="replace").splitlines():
        if wanted in raw:
            return LINE.match(raw).group(4)
    return None


def milestones(lines, posted_at, active_at):
    """``[(name, time)]``: the POST, each milestone found, ACTIVE seen."""
    found = [("POST sent", posted_at)]
    for name, service, text in MILESTONES:
        for stamp, line_service, _level, logger, message in lines:
            if line_service == service and text in f"{logger} {message}":
                found.append((name, stamp))
                break
    found.append(("client saw ACTIVE", active_at))
    return found


def steps(marks):
    """``{"a → b": seconds}`` between consecutive milestones."""
    return {f"{a} → {b}": t_b - t_a
            for (a, t_a), (b, t_b) in zip(marks, marks[1:], strict=False)}


def print_timeline(log_dir, boots, label):
    """``boots``: ``[(server id, POST time, ACTIVE time)]`` (time.time()).
    Prints the lines of the median boot, then each step's median over all
    of them."""
    timed = []
    for server_id, posted_at, active_at in boots:
        request_id = boot_request_id(log_dir, server_id)
        if request_id is None:
            continue
        lines = request_lines(log_dir, request_id)
        timed.append((active_at - posted_at, request_id, lines,
                      milestones(lines, posted_at, active_at)))
    if not timed:
        print(f"timeline ({label}): no boot's lines found in {log_dir}")
        return
    timed.sort(key=lambda boot: boot[0])
    total, request_id, lines, marks = timed[len(timed) // 2]
    posted_at = marks[0][1]
    print(f"timeline of the median boot ({label}, {request_id}, {total * 1000:.0f} ms), "
          f"ms after the POST:")
    previous = posted_at
    for stamp, service, level, logger, message in lines:
        if any(noise in f"{logger} {message}" for noise in NOISE):
            continue
        message = message if len(message) <= 110 else message[:107] + "..."
        print(f"  {(stamp - posted_at) * 1000:7.0f} {(stamp - previous) * 1000:+5.0f}  "
              f"{service:<9} {level:<5} {message}")
        previous = stamp
    print(f"  {total * 1000:7.0f} {(marks[-1][1] - previous) * 1000:+5.0f}  "
          f"client    saw ACTIVE")
    print(f"steps, median over {len(timed)} boots (ms):")
    every = [steps(boot[3]) for boot in timed]
    for name in every[0]:
        values = [boot[name] for boot in every if name in boot]
        print(f"  {statistics.median(values) * 1000:7.1f}  {name}")
