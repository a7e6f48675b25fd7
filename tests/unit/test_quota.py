"""The arithmetic of mininova/quota.py, without a database: what is over,
how many servers still fit, and Nova's message."""

from mininova import quota

NANO = {"vcpus": 1, "memory_mb": 64}
LIMITS = {"instances": 10, "cores": 20, "ram": 51200}


def test_unlimited_is_never_over():
    assert not quota._over(quota.UNLIMITED, 10 ** 9)
    assert quota._over(10, 11) and not quota._over(10, 10)


def test_servers_that_fit_take_the_tightest_resource():
    usage = {"instances": 2, "cores": 18, "ram": 0}
    assert quota._servers_that_fit(NANO, LIMITS, usage) == 2
    big = {"vcpus": 4, "memory_mb": 8192}
    assert quota._servers_that_fit(big, LIMITS, {"instances": 0, "cores": 0, "ram": 0}) == 5


def test_servers_that_fit_ignore_unlimited_resources():
    limits = dict(LIMITS, instances=quota.UNLIMITED, ram=quota.UNLIMITED)
    assert quota._servers_that_fit(NANO, limits, {"instances": 50, "cores": 17, "ram": 0}) == 3


def test_the_message_lists_each_resource_over():
    error = quota._too_many(["instances", "cores"], {"instances": "2-4", "cores": 4},
                            {"instances": 9, "cores": 19}, LIMITS)
    assert error.code == 403
    assert error.format_message() == (
        "Quota exceeded for instances, cores: Requested 2-4, 4, but already used 9, 19 "
        "of 10, 20 instances, cores")


def test_resources_are_sorted_as_nova_shows_them():
    assert list(quota.RESOURCES) == sorted(quota.RESOURCES)
    assert {"instances", "cores", "ram", "metadata_items", "key_pairs", "server_groups",
            "server_group_members"} <= set(quota.RESOURCES)
