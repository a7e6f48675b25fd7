"""ComputeCapabilitiesFilter (mirrors
``nova/scheduler/filters/compute_capabilities_filter.py``).

Every flavor extra spec in the ``capabilities:`` scope names something the
host reports and a requirement on it: ``capabilities:cpu_arch = x86_64``,
``capabilities:hypervisor_type = s== QEMU``, ``capabilities:cpu_info:vendor
= <in> Intel``. The name is looked up as a host attribute (``hypervisor_type``,
``total_usable_ram_mb``, ...), then, split at ``:``, inside the host's
reported ``cpu_info`` and ``stats``. Specs in other scopes (``hw:``,
``quota:``...) are someone else's business and are ignored.
"""

from mininova.scheduler import filters
from mininova.scheduler.filters import extra_specs_ops

SCOPE = "capabilities"


class ComputeCapabilitiesFilter(filters.BaseHostFilter):
    # The host's capabilities do not change between instances of a request.
    run_filter_once_per_request = True

    def needed_for(self, spec):
        return bool(_capability_specs(spec["flavor"].get("extra_specs") or {}))

    def host_passes(self, host_state, spec):
        wanted = _capability_specs(spec["flavor"].get("extra_specs") or {})
        if not wanted:
            return filters.Verdict.ok("flavor asks for no capabilities")
        for name, requirement in wanted.items():
            value = _host_value(host_state, name)
            if value is _MISSING:
                return filters.Verdict.fail(f"does not report capability {name} "
                                            f"(flavor wants {requirement!r})")
            if not extra_specs_ops.match(value, requirement):
                return filters.Verdict.fail(f"capability {name} is {value!r}, flavor wants "
                                            f"{requirement!r}")
        return filters.Verdict.ok(f"has {', '.join(sorted(wanted))}")


_MISSING = object()


def _capability_specs(extra_specs):
    specs = {}
    for key, value in extra_specs.items():
        scope, sep, name = key.partition(":")
        if sep and scope == SCOPE:
            specs[name] = value
        elif not sep:
            # Unscoped keys are capabilities too (Nova's historical behaviour).
            specs[key] = value
    return specs


def _host_value(host_state, name):
    parts = name.split(":")
    if hasattr(host_state, parts[0]):
        value = getattr(host_state, parts[0])
        parts = parts[1:]
    elif parts[0] in host_state.stats:
        value = host_state.stats[parts[0]]
        parts = parts[1:]
    else:
        return _MISSING
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value
