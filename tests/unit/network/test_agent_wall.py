"""``mininova-network-agent`` runs on compute hosts, which hold no database
credentials: nothing it imports may load the network service's tables or
SQLAlchemy (the same wall as tests/unit/test_db_wall.py's, for Neutron's
agents)."""

import subprocess
import sys


def test_the_l2_agent_loads_no_database_module():
    script = (
        "import sys\n"
        "import mininova.cmd.network_agent\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'mininova.db',\n"
        "    'mininova.network.models', 'mininova.network.db', 'mininova.network.plugin',\n"
        "    'mininova.network.ipam_backend', 'mininova.network.securitygroups_db')))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
