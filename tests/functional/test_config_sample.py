"""etc/mininova/mininova.conf.sample is what oslo-config-generator makes of
the current options: regenerate it (see tox -e genconfig) when this fails."""

from pathlib import Path

from oslo_config import generator

REPO = Path(__file__).resolve().parents[2]


def test_sample_config_is_up_to_date(tmp_path):
    output = tmp_path / "mininova.conf.sample"
    generator.main(["--config-file", str(REPO / "etc/mininova/mininova-config-generator.conf"),
                    "--output-file", str(output)])
    committed = (REPO / "etc/mininova/mininova.conf.sample").read_text()
    assert output.read_text() == committed, (
        "etc/mininova/mininova.conf.sample is stale: run "
        "oslo-config-generator --config-file etc/mininova/mininova-config-generator.conf")
