"""The client's polling, replayed beside a floor (for boot_overhead.py and
volume.py): while a benchmark waits for mininova it GETs a resource every
few ms, and on two cores those GETs take CPU from the work it measures. A
floor timed inside :func:`polling` pays the same, so the two scripts can
print how much of their gap is their own instrument's. And the other way
round, :func:`seconds_from`: the end of a request taken from the cloud's
own record, for a client that polls seldom."""

import contextlib
import datetime
import threading


@contextlib.contextmanager
def polling(get, interval):
    """While the block runs, call ``get()`` every ``interval`` seconds from
    another thread, as the benchmark's client does while it waits."""
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            get()
            stop.wait(interval)

    poller = threading.Thread(target=poll, name="bench-polling", daemon=True)
    poller.start()
    try:
        yield
    finally:
        stop.set()
        poller.join()


def seconds_from(posted_at, recorded):
    """Seconds from ``posted_at`` (``time.time()`` as the request was sent)
    to ``recorded``, a time the API showed with microseconds (Nova's
    ``finish_time``, Cinder's ``updated_at``): UTC, from the same machine's
    clock."""
    at = datetime.datetime.strptime(recorded, "%Y-%m-%dT%H:%M:%S.%f")
    return at.replace(tzinfo=datetime.timezone.utc).timestamp() - posted_at
