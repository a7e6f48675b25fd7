"""Loading filter and weigher classes from import paths in the config."""

import pytest

from mininova.scheduler import filters, loadables, weights
from mininova.scheduler.filters import ram_filter
from mininova.scheduler.weights import affinity, disk, ram


def test_a_class_path_loads_that_class():
    classes = loadables.load_classes(["mininova.scheduler.filters.ram_filter.RamFilter"],
                                     filters.BaseHostFilter)
    assert classes == [ram_filter.RamFilter]


def test_a_function_path_loads_the_classes_it_returns():
    classes = loadables.load_classes(["mininova.scheduler.weights.all_weighers"],
                                     weights.BaseHostWeigher)
    assert classes == [disk.DiskWeigher, ram.RAMWeigher,
                       affinity.ServerGroupSoftAffinityWeigher,
                       affinity.ServerGroupSoftAntiAffinityWeigher]


def test_a_path_that_does_not_import_names_the_path():
    with pytest.raises(loadables.LoadError, match=r"Cannot import 'nonexistent\.module\.Filter'"):
        loadables.load_classes(["nonexistent.module.Filter"], filters.BaseHostFilter)


def test_a_missing_class_in_a_real_module_names_the_path():
    with pytest.raises(loadables.LoadError, match="ram_filter.NoSuchFilter"):
        loadables.load_classes(["mininova.scheduler.filters.ram_filter.NoSuchFilter"],
                               filters.BaseHostFilter)


def test_a_class_of_the_wrong_kind_is_refused():
    with pytest.raises(loadables.LoadError,
                       match="'mininova.scheduler.weights.ram.RAMWeigher' is not a "
                             "BaseHostFilter"):
        loadables.load_classes(["mininova.scheduler.weights.ram.RAMWeigher"],
                               filters.BaseHostFilter)


def test_all_filters_returns_every_shipped_filter_class_sorted_by_name():
    names = [cls.__name__ for cls in filters.all_filters()]
    assert names == ["AvailabilityZoneFilter", "ComputeCapabilitiesFilter", "ComputeFilter",
                     "CoreFilter", "DiskFilter", "ImagePropertiesFilter", "RamFilter",
                     "RetryFilter", "ServerGroupAffinityFilter",
                     "ServerGroupAntiAffinityFilter"]
    assert all(issubclass(cls, filters.BaseHostFilter) for cls in filters.all_filters())
