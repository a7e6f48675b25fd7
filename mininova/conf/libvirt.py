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
    cfg.StrOpt(
        "remote_filesystem_transport",
        default="ssh",
        choices=[
            ("ssh", "ssh for directories and files, scp for the disk copy"),
            ("rsync", "ssh for directories and files, rsync --sparse over ssh "
                      "for the disk copy"),
        ],
        help="How a resize or cold migration copies the disk to a destination "
        "that does not share this host's instances_path (found out by a test "
        "file made there over ssh; a destination whose my_ip is ours is taken "
        "as shared at once). Needs an ssh login as root from each compute to "
        "the others (see ssh_identity_file).",
    ),
    cfg.StrOpt(
        "ssh_identity_file",
        help="Private key for the ssh, scp and rsync of disk moves between "
        "compute hosts (mininova's option: Nova uses the nova user's "
        "~/.ssh). Unset: ssh's default keys.",
    ),
    cfg.StrOpt(
        "ssh_known_hosts_file",
        help="known_hosts file with the other compute hosts' keys; when set, "
        "an unknown or changed host key fails the move (StrictHostKeyChecking). "
        "Unset: ssh's defaults (~/.ssh/known_hosts).",
    ),
]


def register_opts(conf):
    conf.register_group(libvirt_group)
    conf.register_opts(libvirt_opts, group=libvirt_group)


def list_opts():
    return {libvirt_group.name: libvirt_opts}
