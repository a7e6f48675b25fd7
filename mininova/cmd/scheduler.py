"""``mininova-scheduler`` (mirrors ``nova/cmd/scheduler.py``): answers the
conductor's ``select_destinations`` on the ``scheduler`` topic."""

import sys

from mininova import config, service
from mininova.scheduler import loadables, manager


def build_service(host=None):
    return service.Service.create("mininova-scheduler", "scheduler",
                                  manager.SchedulerManager(host), host=host)


def main():
    config.parse_args(sys.argv)
    config.setup_logging("mininova-scheduler")
    try:
        server = build_service()
    except loadables.LoadError as exc:
        # A filter or weigher that cannot be loaded is a configuration error:
        # refuse to start rather than schedule with a different set.
        sys.exit(f"mininova-scheduler cannot start: {exc}")
    server.start()
    service.wait_for_signal([server])


if __name__ == "__main__":
    main()
