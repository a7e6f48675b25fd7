"""connection_info, from the NBD target's answer to what Nova stores: the
driver's nested shape, Cinder's flat attachment shape, and Nova's nesting
of it back (mininova/volume/service/nbd.py, manager.py, mininova/volume/cinder.py)."""

from mininova.volume import cinder
from mininova.volume.service import manager, nbd

VOLUME_ID = "0c0d7e9a-3a0e-4d1d-9b53-1f1c1e4a2b11"
ATTACHMENT_ID = "5b8e0b4e-7d2a-4f4e-8a3c-9a1d2c3b4e5f"
EXPORT = nbd.Export("127.0.0.1", 10809, f"volume-{VOLUME_ID}", 4242)


def driver_answer():
    target = nbd.NbdTarget(volumes_path="/nowhere", host="127.0.0.1", port_min=10809,
                           port_max=10810)
    return target.initialize_connection(EXPORT, VOLUME_ID)


def test_the_driver_answer_is_what_novas_network_volume_driver_reads():
    answer = driver_answer()
    assert answer["driver_volume_type"] == "nbd"
    data = answer["data"]
    # LibvirtNetVolumeDriver: <source protocol='nbd' name=...><host name port/>
    assert data["name"] == f"volume-{VOLUME_ID}"
    assert data["hosts"] == ["127.0.0.1"]
    assert data["ports"] == ["10809"]  # strings, as libvirt's XML attributes are
    assert (data["host"], data["port"]) == ("127.0.0.1", 10809)
    assert data["volume_id"] == VOLUME_ID
    assert data["access_mode"] == "rw"
    assert data["encrypted"] is False  # Nova asks for no encryption metadata


def test_the_attachment_api_gives_it_flat_with_the_attachment_id():
    flat = manager.flat_connection_info(driver_answer(), ATTACHMENT_ID)
    assert "data" not in flat
    assert flat["driver_volume_type"] == "nbd"
    assert flat["name"] == f"volume-{VOLUME_ID}"
    assert flat["attachment_id"] == ATTACHMENT_ID


def test_novas_client_nests_it_back_for_the_block_device_mapping():
    flat = manager.flat_connection_info(driver_answer(), ATTACHMENT_ID)
    attachment = {"id": ATTACHMENT_ID, "status": "attaching", "instance": "i-1",
                  "volume_id": VOLUME_ID, "attached_at": "2026-01-01T00:00:00.000000",
                  "detached_at": "", "attach_mode": "rw", "connection_info": flat}

    translated = cinder._translate_attachment_ref(attachment)

    info = translated["connection_info"]
    assert info["driver_volume_type"] == "nbd"
    assert info["data"] == driver_answer()["data"]
    assert (info["status"], info["instance"], info["volume_id"]) == (
        "attaching", "i-1", VOLUME_ID)
    assert "attachment_id" not in info["data"]
    assert translated["id"] == ATTACHMENT_ID


def test_a_reserved_attachment_has_no_connection_info():
    attachment = {"id": ATTACHMENT_ID, "status": "reserved", "instance": "i-1",
                  "volume_id": VOLUME_ID, "attached_at": "", "detached_at": "",
                  "attach_mode": "null", "connection_info": {}}
    assert cinder._translate_attachment_ref(attachment)["connection_info"] == {}
    assert cinder._translate_attachment_ref(attachment)["status"] == "reserved"


def test_the_daemon_command_line_names_the_format_and_escapes_commas():
    argv = nbd.daemon_command("/var/lib/a,b/volume-x", "volume-x", "127.0.0.1", 10809,
                              "/run/x.pid")
    assert argv[0] == "qemu-storage-daemon"
    assert "driver=file,node-name=file0,filename=/var/lib/a,,b/volume-x,discard=unmap" in argv
    assert "driver=raw,node-name=disk0,file=file0,discard=unmap" in argv
    assert "addr.type=inet,addr.host=127.0.0.1,addr.port=10809" in argv
    assert "type=nbd,id=export0,node-name=disk0,name=volume-x,writable=on" in argv
    assert argv[-2:] == ["--pidfile", "/run/x.pid"]
