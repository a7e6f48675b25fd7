"""The compute's database wall as structure: nothing a compute process
imports (the compute manager and its mixins, the virt drivers, the
``mininova-compute`` entry point) loads ``mininova.db``. A compute path
that called ``db.*`` would need that import, so it cannot exist, in the
multi-process deployment and in mininova-all alike."""

import pkgutil
import subprocess
import sys

import mininova.virt

COMPUTE_SIDE = [
    "mininova.cmd.compute",
    "mininova.compute.manager",
    "mininova.compute.server_actions",
    "mininova.compute.resize",
    "mininova.compute.power_sync",
    "mininova.compute.resource_tracker",
    "mininova.compute.claims",
    "mininova.compute.utils",
    "mininova.compute.rpcapi",
    "mininova.conductor.api",
    "mininova.service",
    # Nova's client of the volume service, for the compute's attach and detach.
    "mininova.volume.cinder",
] + [module.name for module in pkgutil.walk_packages(mininova.virt.__path__, "mininova.virt.")]


def test_the_compute_side_loads_no_database_module():
    # A fresh interpreter: this one has loaded everything already.
    script = (
        "import importlib, sys\n"
        f"for name in {COMPUTE_SIDE!r}: importlib.import_module(name)\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('mininova.db'))))\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=60)
    db_modules, sqlalchemy_modules = result.stdout.splitlines()
    assert db_modules == "", f"the compute side loads {db_modules}"
    assert sqlalchemy_modules == "", "the compute side loads SQLAlchemy"
