"""The ``mininova`` command against the in-process cloud: novaclient-like
tables, a boot that prints its states, and errors that say what to fix."""

import pytest

from tests.functional.helpers import table_rows


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.raw"
    path.write_bytes(b"\0" * 3 * 1024 * 1024)
    return path


def test_image_create_shows_progress_and_the_image(mininova, tiny_file):
    code, out, err = mininova("image-create", "--file", str(tiny_file), "--disk-format", "raw",
                              "--property", "hw_architecture=i686", "tiny")
    assert code == 0
    # Not a terminal: no progress bar redrawn line after line into a log.
    assert err == ""
    rows = dict(row for row in table_rows(out)[1:])
    assert rows["status"] == "active"
    assert rows["size"] == str(3 * 1024 * 1024)
    assert rows["hw_architecture"] == "i686"


def test_boot_wait_prints_states_then_the_server(mininova, tiny_file):
    mininova("image-create", "--file", str(tiny_file), "--disk-format", "raw", "tiny")
    code, out, _err = mininova("boot", "--image", "tiny", "--flavor", "m1.nano", "--wait", "vm1")
    assert code == 0
    progress = [line for line in out.splitlines() if line.startswith("Server vm1 ")]
    assert progress[0].endswith(": BUILD (scheduling)")
    assert progress[-1].endswith(": ACTIVE")
    rows = dict(row for row in table_rows(out)[1:])
    assert rows["status"] == "ACTIVE"
    assert rows["flavor"] == "42"
    assert rows["OS-EXT-STS:vm_state"] == "active"

    code, out, _err = mininova("list")
    assert table_rows(out)[0] == ["ID", "Name", "Status", "Task State", "Power State",
                                  "Networks"]
    assert table_rows(out)[1][1:5] == ["vm1", "ACTIVE", "-", "Running"]

    code, out, _err = mininova("console-log", "vm1")
    assert out.endswith("vm1 login: ")

    code, out, _err = mininova("delete", "vm1")
    assert out.strip() == "Request to delete server vm1 has been accepted."


def test_boot_of_a_server_that_cannot_fit_exits_non_zero(mininova, tiny_file):
    mininova("image-create", "--file", str(tiny_file), "--disk-format", "raw", "tiny")
    code, out, err = mininova("boot", "--image", "tiny", "--flavor", "m1.xlarge", "--wait", "big")
    assert code == 1
    assert out.splitlines()[-1] != ""
    assert "ERROR: No valid host was found. There are not enough hosts available." in err


def test_unknown_names_are_clear_errors(mininova):
    code, _out, err = mininova("boot", "--image", "nope", "--flavor", "m1.nano", "vm")
    assert code == 1
    assert "No image with a name or ID of 'nope' exists." in err
    code, _out, err = mininova("show", "ghost")
    assert code == 1
    assert "No server with a name or ID of 'ghost' exists." in err


def test_flavor_service_and_hypervisor_tables(mininova):
    _code, out, _err = mininova("flavor-list")
    rows = table_rows(out)
    assert rows[0] == ["ID", "Name", "Memory_MiB", "Disk", "Ephemeral", "Swap", "VCPUs",
                       "RXTX_Factor", "Is_Public"]
    # Sorted by flavor id, as Nova lists them (strings: "4" < "42" < "5").
    assert [row[:2] for row in rows[1:6]] == [["1", "m1.tiny"], ["2", "m1.small"],
                                              ["3", "m1.medium"], ["4", "m1.large"],
                                              ["42", "m1.nano"]]

    _code, out, _err = mininova("service-list")
    rows = table_rows(out)
    assert rows[0][:6] == ["Id", "Binary", "Host", "Zone", "Status", "State"]
    assert ["mininova-compute", "host1", "nova", "enabled", "up"] in [r[1:6] for r in rows]

    _code, out, _err = mininova("hypervisor-list")
    assert table_rows(out)[1][1:] == ["host1", "up", "enabled"]


def test_non_admin_token_gets_a_forbidden_error(mininova, monkeypatch):
    monkeypatch.setenv("MININOVA_TOKEN", "demo:demo")
    code, _out, err = mininova("service-list")
    assert code == 1
    assert err.startswith("ERROR (Forbidden): Policy doesn't allow")


def test_the_progress_bar_is_drawn_on_a_terminal_only():
    import io

    from mininova.cli.utils import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        bar = ProgressBar(stream)
        for sent in range(0, 101, 10):
            bar(sent, 100)
    assert terminal.getvalue().endswith("[========================================] 100%")
    assert log.getvalue() == ""


def test_help_lists_the_commands_and_shows_one(mininova):
    code, out, _err = mininova("help")
    assert code == 0
    assert "boot" in out and "service-delete" in out
    code, out, _err = mininova("help", "resize")
    assert code == 0
    assert out.startswith("usage: mininova resize")
    assert "--poll" in out
    code, _out, err = mininova("help", "no-such-command")
    assert code == 1
    assert "'no-such-command' is not a valid subcommand" in err


@pytest.mark.hosts("host1", "host2")
def test_service_delete_removes_a_gone_host(mininova, cloud, admin):
    cloud.computes["host2"].stop()
    [host2] = [s for s in admin.list_services() if s["host"] == "host2"]
    assert mininova("service-delete", str(host2["id"])) == (0, "", "")
    assert "host2" not in {s["host"] for s in admin.list_services()}
