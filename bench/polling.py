"""The client's polling, replayed beside a floor (for boot_overhead.py and
volume.py): while a benchmark waits for mininova it GETs a resource every
few ms, and on two cores those GETs take CPU from the work it measures. A
floor timed inside :func:`polling` pays the same, so the two scripts can
print how much of their gap is their own instrument's."""

import contextlib
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
