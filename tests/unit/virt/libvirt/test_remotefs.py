"""The commands of a disk move between compute hosts
(mininova/virt/libvirt/remotefs.py), recorded instead of run."""

import pytest

from mininova import utils
from mininova.virt.libvirt import remotefs

BATCH = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]


@pytest.fixture
def commands(monkeypatch):
    seen = []

    def execute(*cmd, timeout=None, **kwargs):
        seen.append((list(cmd), timeout))
        return "", ""
    monkeypatch.setattr(utils, "execute", execute)
    return seen


def test_ssh_driver_commands(conf, commands):
    fs = remotefs.SshDriver()
    fs.create_dir("192.0.2.2", "/var/lib/mininova/instances/u_resize")
    fs.create_file("192.0.2.2", "/var/lib/mininova/instances/abc.tmp")
    fs.remove_file("192.0.2.2", "/var/lib/mininova/instances/abc.tmp")
    fs.remove_dir("192.0.2.2", "/var/lib/mininova/instances/u_resize")
    fs.copy_file("/i/u_resize/disk", "192.0.2.2:/i/u_resize/disk")
    assert [cmd for cmd, _ in commands] == [
        ["ssh", *BATCH, "192.0.2.2", "mkdir -p /var/lib/mininova/instances/u_resize"],
        ["ssh", *BATCH, "192.0.2.2", "touch /var/lib/mininova/instances/abc.tmp"],
        ["ssh", *BATCH, "192.0.2.2", "rm -f /var/lib/mininova/instances/abc.tmp"],
        ["ssh", *BATCH, "192.0.2.2", "rm -rf /var/lib/mininova/instances/u_resize"],
        ["scp", *BATCH, "/i/u_resize/disk", "192.0.2.2:/i/u_resize/disk"],
    ]
    # The copy may take as long as any disk copy; the rest the usual limit.
    assert commands[-1][1] == conf.image_copy_timeout
    assert commands[0][1] is None


def test_the_identity_and_known_hosts_are_used_everywhere(conf, commands):
    conf.set_override("ssh_identity_file", "/etc/mininova/ssh/id_ed25519", "libvirt")
    conf.set_override("ssh_known_hosts_file", "/etc/mininova/ssh/known_hosts", "libvirt")
    remotefs.SshDriver().create_dir("h2", "/i")
    remotefs.RsyncDriver().copy_file("/i/disk", "h2:/i/disk")
    options = [*BATCH, "-o", "UserKnownHostsFile=/etc/mininova/ssh/known_hosts",
               "-o", "StrictHostKeyChecking=yes", "-i", "/etc/mininova/ssh/id_ed25519"]
    assert commands[0][0] == ["ssh", *options, "h2", "mkdir -p /i"]
    assert commands[1][0] == ["rsync", "--sparse", "-e", " ".join(["ssh", *options]),
                              "/i/disk", "h2:/i/disk"]


def test_remote_words_are_quoted(conf, commands):
    remotefs.SshDriver().remove_dir("h2", "/i/a b; reboot")
    assert commands[0][0][-1] == "rm -rf '/i/a b; reboot'"


def test_remote_paths():
    assert remotefs.remote_path("192.0.2.2", "/x") == "192.0.2.2:/x"
    assert remotefs.remote_path("2001:db8::2", "/x") == "[2001:db8::2]:/x"


def test_the_transport_option_picks_the_driver(conf):
    assert type(remotefs.get_driver()) is remotefs.SshDriver
    conf.set_override("remote_filesystem_transport", "rsync", "libvirt")
    assert type(remotefs.get_driver()) is remotefs.RsyncDriver
