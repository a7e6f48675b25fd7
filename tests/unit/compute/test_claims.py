"""Claims: the compute's own check of a build against its resources and the
scheduler's limits, with Nova's Queens/Rocky log lines."""

import logging

import pytest

from mininova import exception
from mininova.compute import claims

CONTEXT = object()   # the claim only passes it on to the tracker
INSTANCE = {"uuid": "11111111-2222-3333-4444-555555555555",
            "flavor": {"memory_mb": 512, "root_gb": 1, "ephemeral_gb": 0, "swap": 0,
                       "vcpus": 1}}

# 2048 MB of RAM with the 512 MB reserved for the host already used.
RESOURCES = {"memory_mb": 2048, "memory_mb_used": 512,
             "local_gb": 20, "local_gb_used": 0,
             "vcpus": 4, "vcpus_used": 0}


class StubTracker:
    def __init__(self):
        self.aborted = []

    def abort_instance_claim(self, context, instance):
        self.aborted.append((context, instance["uuid"]))


def claim(resources=None, limits=None, tracker=None):
    return claims.Claim(CONTEXT, INSTANCE, "n1", tracker or StubTracker(),
                        dict(RESOURCES, **(resources or {})), limits)


@pytest.fixture
def claim_log(caplog):
    caplog.set_level(logging.INFO, logger="mininova.compute.claims")
    return caplog


def test_successful_claim_logs_novas_lines(claim_log):
    claim(limits={"memory_mb": 3072.0})
    assert claim_log.messages == [
        "Attempting claim on node n1: memory 512 MB, disk 1 GB, vcpus 1 CPU",
        "Total memory: 2048 MB, used: 512.00 MB",
        "memory limit: 3072.00 MB, free: 2560.00 MB",
        "Total disk: 20 GB, used: 0.00 GB",
        "disk limit not specified, defaulting to unlimited",
        "Total vcpu: 4 VCPU, used: 0.00 VCPU",
        "vcpu limit not specified, defaulting to unlimited",
        "Claim successful on node n1",
    ]


def test_claim_without_limits_always_succeeds():
    claim(resources={"memory_mb_used": 100000})


def test_request_equal_to_free_memory_fits():
    claim(limits={"memory_mb": 1024.0})   # free = 1024 − 512 = 512 = requested


def test_memory_shortfall_raises_with_novas_message(claim_log):
    with pytest.raises(exception.ComputeResourcesUnavailable) as caught:
        claim(limits={"memory_mb": 612.0})
    assert str(caught.value) == (
        "Insufficient compute resources: Free memory 100.00 MB < requested 512 MB.")
    assert "memory limit: 612.00 MB, free: 100.00 MB" in claim_log.messages
    assert "Claim successful on node n1" not in claim_log.messages


def test_every_resource_short_is_named_joined_with_semicolons():
    with pytest.raises(exception.ComputeResourcesUnavailable) as caught:
        claim(resources={"local_gb_used": 20, "vcpus_used": 64},
              limits={"memory_mb": 612.0, "disk_gb": 20.0, "vcpu": 64.0})
    assert str(caught.value) == (
        "Insufficient compute resources: Free memory 100.00 MB < requested 512 MB; "
        "Free disk 0.00 GB < requested 1 GB; Free vcpu 0.00 VCPU < requested 1 VCPU.")


def test_disk_claim_counts_root_and_ephemeral_gb():
    instance = dict(INSTANCE, flavor=dict(INSTANCE["flavor"], root_gb=2, ephemeral_gb=3))
    made = claims.Claim(CONTEXT, instance, "n1", StubTracker(), dict(RESOURCES), {})
    assert made.disk_gb == 5


def test_with_block_that_fails_aborts_the_claim():
    tracker = StubTracker()
    with pytest.raises(RuntimeError, match="spawn failed"):
        with claim(tracker=tracker):
            raise RuntimeError("spawn failed")
    assert tracker.aborted == [(CONTEXT, INSTANCE["uuid"])]


def test_with_block_that_succeeds_keeps_the_claim():
    tracker = StubTracker()
    with claim(tracker=tracker):
        pass
    assert tracker.aborted == []


def test_claim_repr_lists_its_resources():
    assert repr(claim()) == "[Claim: 512 memory_mb, 1 disk_gb, 1 vcpus]"


def test_a_server_booted_from_a_volume_claims_no_root_disk():
    # 30 GB of root would not fit the 20 GB here; a volume-backed server's
    # root is not on this host (no image_ref: Nova's is_volume_backed_instance).
    flavor = {"memory_mb": 512, "root_gb": 30, "ephemeral_gb": 1, "swap": 0, "vcpus": 1}
    volume_backed = dict(INSTANCE, flavor=flavor, image_ref="")
    assert claims.Claim(CONTEXT, volume_backed, "n1", StubTracker(), RESOURCES,
                        {"disk_gb": 20}).disk_gb == 1
    with pytest.raises(exception.ComputeResourcesUnavailable):
        claims.Claim(CONTEXT, dict(volume_backed, image_ref="an-image"), "n1",
                     StubTracker(), RESOURCES, {"disk_gb": 20})
