"""AvailabilityZoneFilter (mirrors
``nova/scheduler/filters/availability_zone_filter.py``): when the request
names a zone, only hosts in that zone pass. A host's zone is that of its
aggregates, else ``default_availability_zone`` (``nova``)."""

from mininova.scheduler import filters


class AvailabilityZoneFilter(filters.BaseHostFilter):
    run_filter_once_per_request = True

    def needed_for(self, spec):
        return bool(spec.get("availability_zone"))

    def host_passes(self, host_state, spec):
        requested = spec.get("availability_zone")
        if not requested:
            return filters.Verdict.ok("no zone requested")
        if host_state.availability_zone != requested:
            return filters.Verdict.fail(
                f"zone {host_state.availability_zone} ≠ requested {requested}")
        return filters.Verdict.ok("in zone {}", requested)
