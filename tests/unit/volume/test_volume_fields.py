"""The status rules of mininova-volume (mininova/volume/service/fields.py)."""

import pytest

from mininova.volume.service import fields


def test_build_or_str_lists_statuses_as_cinder_says_them():
    assert fields.build_or_str(("available", "error")) == "available or error"
    assert fields.build_or_str("available") == "available"
    assert (fields.build_or_str(("a", "b"), "status must be %s and")
            == "status must be a or b and")


@pytest.mark.parametrize("remaining, expected", [
    ([], ("available", "detached")),
    (["reserved"], ("available", "detached")),
    (["attached"], ("in-use", "attached")),
    (["attaching", "attached"], ("in-use", "attached")),
])
def test_the_status_a_volume_gets_once_an_attachment_is_deleted(remaining, expected):
    assert fields.attach_status_after_detach(remaining) == expected


@pytest.mark.parametrize("status, instances, instance, allowed", [
    ("available", [], "i1", True),
    ("available", [], None, True),
    ("in-use", ["i1"], "i2", False),      # no multiattach
    ("in-use", ["i1"], "i1", True),       # Nova moving the server: same instance
    ("reserved", ["i1"], "i1", True),
    ("reserved", ["i1"], None, False),
    ("creating", [], "i1", False),
    ("error", [], "i1", False),
    ("attaching", ["i1"], "i1", False),
])
def test_which_volumes_may_be_reserved(status, instances, instance, allowed):
    assert fields.reserve_status_allowed(status, instances, instance) is allowed


def test_every_status_named_in_the_rules_is_a_known_status():
    for status in (*fields.RESERVABLE_STATUSES, *fields.SNAPSHOTTABLE_STATUSES,
                   *fields.FORCE_SNAPSHOTTABLE_STATUSES, *fields.CLONEABLE_STATUSES):
        assert status in fields.VOLUME_STATUSES
    # Cinder's delete list names two statuses mininova never reaches.
    assert set(fields.DELETABLE_STATUSES) - set(fields.VOLUME_STATUSES) == {
        "error_restoring", "error_managing"}
    assert set(fields.EXPORTED_ATTACH_STATUSES) <= set(fields.ATTACH_STATUSES)
