"""Weighing: raw values normalised to 0..1 per weigher, × multiplier, summed."""

import pytest

from mininova.scheduler import weights


class Host:
    def __init__(self, name, value):
        self.name = name
        self.value = value

    def __repr__(self):
        return self.name


class ValueWeigher(weights.BaseHostWeigher):
    def __init__(self, multiplier=1.0):
        self.multiplier = multiplier

    def weight_multiplier(self):
        return self.multiplier

    def weigh_object(self, host_state, spec):
        return host_state.value


def test_normalize_maps_min_to_0_and_max_to_1():
    assert weights.normalize([10, 20, 15]) == [0.0, 1.0, 0.5]


def test_normalize_of_all_equal_values_is_all_zero():
    assert weights.normalize([7, 7, 7]) == [0.0, 0.0, 0.0]


def test_normalize_of_nothing_is_nothing():
    assert weights.normalize([]) == []


def test_weigh_sorts_best_first():
    hosts = [Host("small", 100), Host("big", 300), Host("middle", 200)]
    weighed = weights.weigh([ValueWeigher()], hosts, {})
    assert [item.obj.name for item in weighed] == ["big", "middle", "small"]
    assert [item.weight for item in weighed] == [1.0, 0.5, 0.0]


def test_negative_multiplier_reverses_the_order():
    hosts = [Host("small", 100), Host("big", 300)]
    weighed = weights.weigh([ValueWeigher(-1.0)], hosts, {})
    assert [item.obj.name for item in weighed] == ["small", "big"]
    assert [item.weight for item in weighed] == [0.0, -1.0]


def test_weights_of_several_weighers_add_up():
    hosts = [Host("a", 1), Host("b", 2)]
    weighed = weights.weigh([ValueWeigher(1.0), ValueWeigher(2.0)], hosts, {})
    assert weighed[0].obj.name == "b"
    assert weighed[0].weight == pytest.approx(3.0)


def test_parts_keep_the_raw_value_and_the_contribution():
    hosts = [Host("a", 1), Host("b", 3)]
    weighed = weights.weigh([ValueWeigher(2.0)], hosts, {})
    assert weighed[0].parts == {"ValueWeigher": (3, 2.0)}
    assert weighed[1].parts == {"ValueWeigher": (1, 0.0)}


def test_weighed_host_repr_has_novas_shape():
    assert repr(weights.WeighedHost(Host("a", 1), 1.0)) == "WeighedHost [host: a, weight: 1.0]"


def test_weigh_can_return_only_the_best_ones_in_the_same_order():
    hosts = [Host(name, value) for name, value in
             (("a", 5), ("b", 9), ("c", 1), ("d", 9), ("e", 7))]
    everything = weights.weigh([ValueWeigher()], hosts, {})
    best = weights.weigh([ValueWeigher()], hosts, {}, best=3)
    assert [w.obj.name for w in best] == [w.obj.name for w in everything][:3] == ["b", "d", "e"]
    assert [w.weight for w in best] == [w.weight for w in everything][:3]
    assert best[2].parts == {"ValueWeigher": (7, 0.75)}
