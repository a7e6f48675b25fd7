"""``mininova-manage``, run as an operator runs it: against the database of
a configuration file."""

import logging

import pytest

from mininova.cmd import manage
from mininova.conf import CONF


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    config = tmp_path / "mininova.conf"
    config.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\n"
                      f"[database]\nconnection = sqlite:///{tmp_path}/mininova.sqlite\n")

    def mininova_manage(*args):
        monkeypatch.setattr("sys.argv", ["mininova-manage", "--config-file", str(config),
                                         *args])
        # The command sets up logging (oslo.log replaces the root logger's
        # handlers with one on this test's captured stderr): put it back.
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        try:
            manage.main()
        finally:
            for handler in list(root.handlers):
                root.removeHandler(handler)
            for handler in handlers:
                root.addHandler(handler)
            root.setLevel(level)
            CONF.reset()
            CONF.unregister_opt(manage.CATEGORY_OPT)
        return capsys.readouterr().out
    mininova_manage("db", "sync")
    yield mininova_manage
    from mininova.db import api as db_api
    db_api.dispose_engines()


def test_flavor_create_uses_the_name_given(run):
    out = run("flavor", "create", "m1.mini", "--ram", "96", "--disk", "0", "--vcpus", "1")
    assert "| m1.mini " in out
    run("flavor", "create", "m1.tiny2", "--ram", "128", "--disk", "1", "--vcpus", "1")
    names = [line.split("|")[2].strip() for line in run("flavor", "list").splitlines()
             if line.startswith("|")]
    assert {"m1.mini", "m1.tiny2"} <= set(names)
