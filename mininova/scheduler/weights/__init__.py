"""Host weighers (mirrors ``nova/weights.py`` and ``nova/scheduler/weights/``).

Each weigher gives every host a raw value (free RAM, free disk, ...). The
values of one weigher are normalised to 0..1 over the hosts (min → 0,
max → 1; all equal → 0), multiplied by the weigher's multiplier, and the
weighers' results are added up. The highest total wins.
"""


class WeighedHost:
    def __init__(self, host_state, weight=0.0):
        self.obj = host_state
        self.weight = weight
        # Per weigher: (raw value, normalised × multiplier), for explanations.
        self.parts = {}

    def __repr__(self):
        return f"WeighedHost [host: {self.obj!r}, weight: {self.weight}]"


class BaseHostWeigher:
    def weight_multiplier(self):
        return 1.0

    def weigh_object(self, host_state, spec):
        raise NotImplementedError

    @property
    def name(self):
        return type(self).__name__


def normalize(values):
    """Scale ``values`` to 0..1 by min/max; all equal gives all 0."""
    lowest, highest = min(values, default=0), max(values, default=0)
    span = highest - lowest
    if span == 0:
        return [0.0 for _ in values]
    return [(value - lowest) / span for value in values]


def weigh(weighers, host_states, spec):
    """Weighed hosts, best first."""
    weighed = [WeighedHost(host_state) for host_state in host_states]
    for weigher in weighers:
        raw = [weigher.weigh_object(item.obj, spec) for item in weighed]
        multiplier = weigher.weight_multiplier()
        for item, value, norm in zip(weighed, raw, normalize(raw), strict=True):
            item.weight += multiplier * norm
            item.parts[weigher.name] = (value, multiplier * norm)
    return sorted(weighed, key=lambda item: item.weight, reverse=True)


def all_weighers():
    from mininova.scheduler import loadables, weights

    return loadables.classes_in_package(weights, BaseHostWeigher)
