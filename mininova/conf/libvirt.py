"""Options of the libvirt driver (mirrors ``nova/conf/libvirt.py``)."""

from oslo_config import cfg

libvirt_group = cfg.OptGroup("libvirt", title="Libvirt driver options")

libvirt_opts = [
    cfg.StrOpt(
        "virt_type",
        default="auto",
        choices=[
            ("auto", "kvm when the host has hardware virtualisation, else qemu"),
            ("kvm", "hardware-assisted guests (needs kvm_intel or kvm_amd)"),
            ("qemu", "full emulation (TCG): slower, works anywhere"),
        ],
        help="Domain type of the guests. 'auto' picks kvm only when the "
        "kvm_intel or kvm_amd module is loaded and /proc/cpuinfo shows vmx or "
        "svm, and logs its choice at start.",
    ),
    cfg.StrOpt(
        "connection_uri",
        default="qemu:///system",
        help="libvirt URI of the hypervisor.",
    ),
]


def register_opts(conf):
    conf.register_group(libvirt_group)
    conf.register_opts(libvirt_opts, group=libvirt_group)


def list_opts():
    return {libvirt_group.name: libvirt_opts}
