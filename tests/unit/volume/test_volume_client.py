"""Nova's view of a volume (mininova/volume/cinder.py)."""

from mininova.volume import cinder


def volume(**overrides):
    view = {"id": "v1", "status": "in-use", "size": 1, "availability_zone": "nova",
            "created_at": "2026-01-01T00:00:00.000000", "name": "data", "description": None,
            "volume_type": "__DEFAULT__", "snapshot_id": None, "bootable": "true",
            "metadata": {"k": "v"}, "multiattach": False,
            "attachments": [{"server_id": "s1", "attachment_id": "a1", "device": "/dev/vdb",
                             "volume_id": "v1", "id": "v1"}]}
    view.update(overrides)
    return view


def test_a_volume_in_novas_shape():
    view = cinder._untranslate_volume_summary_view(volume())
    assert view["display_name"] == "data"
    assert view["bootable"] is True
    assert view["attach_status"] == "attached"
    assert view["attachments"] == {"s1": {"attachment_id": "a1", "mountpoint": "/dev/vdb"}}
    assert view["volume_metadata"] == {"k": "v"}
    assert "shared_targets" not in view and "volume_image_metadata" not in view


def test_microversion_and_image_fields_pass_through():
    view = cinder._untranslate_volume_summary_view(volume(
        attachments=[], bootable="false", shared_targets=False, service_uuid=None,
        volume_image_metadata={"image_id": "i1", "min_ram": "64"}))
    assert view["attach_status"] == "detached" and view["bootable"] is False
    assert view["shared_targets"] is False
    assert view["volume_image_metadata"] == {"image_id": "i1", "min_ram": "64"}


class _Response:
    def __init__(self, body, text=""):
        self._body = body
        self.text = text
        self.reason = "Bad Request"

    def json(self):
        if self._body is None:
            raise ValueError("no JSON")
        return self._body


def test_the_message_of_a_cinder_fault_body():
    body = {"badRequest": {"code": 400, "message": "Invalid volume: in-use"}}
    assert cinder._fault_message(_Response(body)) == "Invalid volume: in-use"
    assert cinder._fault_message(_Response(None, "plain text")) == "plain text"
