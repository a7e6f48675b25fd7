"""detect_virt_type (kvm or qemu?) and disk.info, on fake sysfs/cpuinfo files."""

import json

from mininova.virt.libvirt import utils

INTEL_CPUINFO = "processor\t: 0\nflags\t\t: fpu vme de pse vmx sse sse2\n"
AMD_CPUINFO = "processor\t: 0\nflags\t\t: fpu vme svm sse\n"
NO_VIRT_CPUINFO = "processor\t: 0\nflags\t\t: fpu vme de pse sse sse2 hypervisor\n"


def fake_host(tmp_path, modules, cpuinfo, kvm_device=True):
    """Paths of a /sys/module, /proc/cpuinfo and /dev/kvm made in tmp_path."""
    sys_modules = tmp_path / "sys_module"
    sys_modules.mkdir()
    for module in modules:
        (sys_modules / module).mkdir()
    cpuinfo_path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        cpuinfo_path.write_text(cpuinfo)
    device = tmp_path / "kvm"
    if kvm_device:
        device.write_text("")
    return str(sys_modules), str(cpuinfo_path), str(device)


def test_intel_module_vmx_flag_and_device_give_kvm(tmp_path):
    paths = fake_host(tmp_path, ["kvm", "kvm_intel"], INTEL_CPUINFO)
    virt_type, reason = utils.detect_virt_type(*paths)
    assert virt_type == "kvm"
    assert reason == f"kvm_intel loaded, CPU flag vmx, {paths[2]} present"


def test_amd_module_svm_flag_and_device_give_kvm(tmp_path):
    assert utils.detect_virt_type(*fake_host(tmp_path, ["kvm", "kvm_amd"], AMD_CPUINFO))[0] \
        == "kvm"


def test_paravirtual_kvm_without_vmx_or_svm_gives_qemu(tmp_path):
    # This build machine: kvm and kvm_pvm loaded, /dev/kvm present, no vmx/svm.
    virt_type, reason = utils.detect_virt_type(
        *fake_host(tmp_path, ["kvm", "kvm_pvm"], NO_VIRT_CPUINFO))
    assert virt_type == "qemu"
    assert "kvm_pvm" in reason
    assert reason == ("kvm_intel/kvm_amd not loaded (kvm modules found: kvm, kvm_pvm); "
                      "no vmx/svm flag in /proc/cpuinfo")


def test_hardware_module_without_the_cpu_flag_gives_qemu(tmp_path):
    virt_type, reason = utils.detect_virt_type(
        *fake_host(tmp_path, ["kvm", "kvm_intel"], NO_VIRT_CPUINFO))
    assert virt_type == "qemu"
    assert reason == "no vmx/svm flag in /proc/cpuinfo"


def test_cpu_flag_without_the_hardware_module_gives_qemu(tmp_path):
    virt_type, reason = utils.detect_virt_type(*fake_host(tmp_path, ["kvm"], INTEL_CPUINFO))
    assert virt_type == "qemu"
    assert reason == "kvm_intel/kvm_amd not loaded (kvm modules found: kvm)"


def test_missing_dev_kvm_gives_qemu(tmp_path):
    paths = fake_host(tmp_path, ["kvm", "kvm_intel"], INTEL_CPUINFO, kvm_device=False)
    virt_type, reason = utils.detect_virt_type(*paths)
    assert virt_type == "qemu"
    assert reason == f"no {paths[2]}"


def test_missing_cpuinfo_gives_qemu(tmp_path):
    virt_type, reason = utils.detect_virt_type(
        *fake_host(tmp_path, ["kvm", "kvm_intel"], cpuinfo=None))
    assert virt_type == "qemu"
    assert "no vmx/svm flag" in reason


def test_no_kvm_modules_at_all_says_none_found(tmp_path):
    _, reason = utils.detect_virt_type(*fake_host(tmp_path, [], INTEL_CPUINFO))
    assert "kvm modules found: none" in reason


def test_disk_info_records_the_disks_format_as_one_json_object(tmp_path):
    disk_path = str(tmp_path / "disk")
    utils.write_disk_info(str(tmp_path), disk_path)
    text = (tmp_path / "disk.info").read_text()
    assert json.loads(text) == {disk_path: "qcow2"}
    assert text == json.dumps({disk_path: "qcow2"})


# --- how much a disk may still grow (disk_available_least) -----------------------------

def test_a_qcow2_may_grow_to_its_virtual_size(tmp_path):
    from mininova.virt.fake import empty_qcow2

    path = tmp_path / "disk"
    path.write_bytes(empty_qcow2(2 * 1024 ** 3))
    held = path.stat().st_blocks * 512
    assert utils.disk_growth_room(str(path), "qcow2") == 2 * 1024 ** 3 - held


def test_a_sparse_raw_file_may_grow_to_its_length_and_a_full_one_not_at_all(tmp_path):
    sparse = tmp_path / "sparse"
    with open(sparse, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    assert utils.disk_growth_room(str(sparse), "raw") == 64 * 1024 * 1024
    full = tmp_path / "full"
    full.write_bytes(b"\1" * 8192)
    assert utils.disk_growth_room(str(full), "raw") == 0
