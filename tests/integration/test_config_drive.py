"""A config drive on real libvirt: the guest (the tiny image, which reads it
as CirrOS does) takes its hostname from it and runs the user data script."""

import base64
import xml.etree.ElementTree as ET

from tests.integration import deployment as dep

USER_DATA = "#!/bin/sh\necho hello from the user data of $(hostname)\n"


def test_the_guest_reads_its_config_drive(cloud, admin, tiny):
    server = admin.create_server(
        "cd-vm", tiny["id"], "42", config_drive=True,
        user_data=base64.b64encode(USER_DATA.encode()).decode())
    server = dep.wait_for_status(admin, server["id"], "ACTIVE")
    try:
        instance_dir = cloud.instances_path / server["id"]
        assert (instance_dir / "disk.config").exists()
        xml = ET.parse(instance_dir / "libvirt.xml").getroot()
        [cdrom] = xml.findall("devices/disk[@device='cdrom']")
        assert cdrom.find("source").get("file") == str(instance_dir / "disk.config")
        compute_log = cloud.log("mininova-compute")
        assert f"[instance: {server['id']}] Using config drive" in compute_log
        assert (f"[instance: {server['id']}] Creating config drive at "
                f"{instance_dir / 'disk.config'}") in compute_log
        console = dep.wait_for_console(admin, server["id"],
                                       "user-data: hello from the user data of cd-vm",
                                       timeout=180)
        assert "=== datasource: configdrive" in console
        assert "=== cloud-init: hostname set to cd-vm ===" in console
        assert server["config_drive"] == "True"
    finally:
        admin.delete_server(server["id"])
        dep.wait_for_gone(admin, server["id"])
    assert not instance_dir.exists()
    assert cloud.domain_names() == []
