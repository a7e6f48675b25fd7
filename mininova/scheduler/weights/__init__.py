"""Host weighers (mirrors ``nova/weights.py`` and ``nova/scheduler/weights/``).

Each weigher gives every host a raw value (free RAM, free disk, ...). The
values of one weigher are normalised to 0..1 over the hosts (min → 0,
max → 1; all equal → 0), multiplied by the weigher's multiplier, and the
weighers' results are added up. The highest total wins.
"""


class WeighedHost:
    def __init__(self, host_state, weight=0.0, columns=(), index=None):
        self.obj = host_state
        self.weight = weight
        # weigh()'s per-weigher lists and this host's place in them: the
        # parts are looked up only for the few hosts an explanation shows.
        self._columns = columns
        self._index = index

    @property
    def parts(self):
        """Per weigher: (raw value, normalised × multiplier), for explanations."""
        return {name: (raw[self._index], scaled[self._index])
                for name, raw, scaled in self._columns}

    def __repr__(self):
        return f"WeighedHost [host: {self.obj!r}, weight: {self.weight}]"


class BaseHostWeigher:
    def weight_multiplier(self):
        return 1.0

    def weigh_object(self, host_state, spec):
        raise NotImplementedError

    def weighs_anything(self, spec):
        """False when every host would weigh the same for this request (a
        soft-affinity weigher and a request without such a group): its
        values are then all 0 without asking host by host, as the
        filters' ``needed_for`` spares the filters."""
        return True

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


def weigh(weighers, host_states, spec, best=None):
    """Weighed hosts, best first: all of them, or the ``best`` first ones.

    Worked on plain lists of numbers, one per weigher, rather than on an
    object per host: at 10,000 hosts the bookkeeping would cost more than
    the sums."""
    totals = [0.0] * len(host_states)
    columns = []
    for weigher in weighers:
        if weigher.weighs_anything(spec):
            raw = [weigher.weigh_object(host_state, spec) for host_state in host_states]
        else:
            raw = [0] * len(host_states)
        multiplier = weigher.weight_multiplier()
        scaled = [multiplier * norm for norm in normalize(raw)]
        totals = [total + part for total, part in zip(totals, scaled, strict=True)]
        columns.append((weigher.name, raw, scaled))
    order = sorted(range(len(host_states)), key=totals.__getitem__, reverse=True)
    return [WeighedHost(host_states[index], totals[index], columns, index)
            for index in order[:best]]


def all_weighers():
    from mininova.scheduler import loadables, weights

    return loadables.classes_in_package(weights, BaseHostWeigher)
