"""Files on another compute host, over SSH (mirrors
``nova/virt/libvirt/volume/remotefs.py``: ``RemoteFilesystem``, ``SshDriver``
and ``RsyncDriver``, and ``ssh_execute`` of ``nova/utils.py``).

libvirt cannot copy a disk to another host for a cold migration, so the
compute does it itself, as Nova's libvirt driver does: ``ssh <host> mkdir
-p <dir>``, then ``scp`` (or ``rsync``) of the disk to ``<host>:<path>``.
The source pushes; a destination pulls only a base file the image service
no longer has (``<host>:<path>`` as the source of :meth:`copy_file`).

Which identity: Nova relies on the ``nova`` user's ``~/.ssh`` (a key and
``known_hosts`` the deployment tool puts there). mininova adds two options
so a deployment can name them without touching root's home:
``[libvirt] ssh_identity_file`` and ``[libvirt] ssh_known_hosts_file``
(unset: ssh's own defaults). Every command runs with ``BatchMode=yes``: a
missing key or an unknown host fails at once instead of waiting for a
password nobody will type.

Left out: Nova's ``RsyncDriver`` creates and removes files and
directories with rsync over an empty temporary directory (for hosts that
allow rsync but no shell); here only its copy uses rsync, the rest goes
through ssh. ``on_execute``/``on_completion`` (Nova records the copy's pid
to kill it when the migration is aborted): mininova's commands have a
wall-clock limit instead (``image_copy_timeout``).
"""

import shlex

from oslo_log import log as logging

from mininova import utils
from mininova.conf import CONF

LOG = logging.getLogger(__name__)


def ssh_options():
    """The options every ssh, scp and rsync gets (``-o`` pairs, ``-i``)."""
    options = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
    if CONF.libvirt.ssh_known_hosts_file:
        options += ["-o", f"UserKnownHostsFile={CONF.libvirt.ssh_known_hosts_file}",
                    "-o", "StrictHostKeyChecking=yes"]
    if CONF.libvirt.ssh_identity_file:
        options += ["-i", CONF.libvirt.ssh_identity_file]
    return options


def remote_path(host, path):
    """``host:path``, with an IPv6 address in brackets (``[::1]:path``)."""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{path}"


def ssh_execute(host, *cmd, timeout=None):
    """Run ``cmd`` on ``host`` (Nova's ``utils.ssh_execute``). The remote
    shell joins the words again, so each one is quoted."""
    command = " ".join(shlex.quote(word) for word in cmd)
    return utils.execute("ssh", *ssh_options(), host, command, timeout=timeout)


class SshDriver:
    """Everything with ssh, copies with scp."""

    def create_file(self, host, path):
        ssh_execute(host, "touch", path)

    def remove_file(self, host, path):
        ssh_execute(host, "rm", "-f", path)

    def create_dir(self, host, path):
        ssh_execute(host, "mkdir", "-p", path)

    def remove_dir(self, host, path):
        ssh_execute(host, "rm", "-rf", path)

    def copy_file(self, src, dst, compression=False):
        """``src`` or ``dst`` is ``host:path`` (see :func:`remote_path`)."""
        args = ["scp", *ssh_options()]
        if compression:
            args.append("-C")
        utils.execute(*args, src, dst, timeout=CONF.image_copy_timeout)


class RsyncDriver(SshDriver):
    """Copies with rsync over ssh: sparse (a qcow2's holes stay holes, where
    scp writes them out), and resumable by hand."""

    def copy_file(self, src, dst, compression=False):
        remote_shell = " ".join(["ssh", *(shlex.quote(o) for o in ssh_options())])
        args = ["rsync", "--sparse", "-e", remote_shell]
        if compression:
            args.append("--compress")
        utils.execute(*args, src, dst, timeout=CONF.image_copy_timeout)


DRIVERS = {"ssh": SshDriver, "rsync": RsyncDriver}


def get_driver():
    """The driver ``[libvirt] remote_filesystem_transport`` names."""
    return DRIVERS[CONF.libvirt.remote_filesystem_transport]()
