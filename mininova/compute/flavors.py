"""Making a flavor (mirrors ``create`` of ``nova/compute/flavors.py``), and
which of its fields an instance keeps a copy of (``FLAVOR_SNAPSHOT_FIELDS``).

The API's schema has already checked the shape of each value; this checks
what a string of digits could still get wrong (``"0"`` RAM, a size past the
database's integer), fills in the defaults and writes the row:

- ``id`` absent or null: a UUID is made up, as Nova does. ``"auto"`` too:
  Nova itself would keep ``"auto"`` as the id, but its clients turn
  ``--id auto`` into a null id before sending, so a hand-written
  ``"id": "auto"`` gets what the clients' option means;
- ``ram`` and ``vcpus`` at least 1; ``disk``, ephemeral and ``swap`` at
  least 0; all at most 2^31 - 1;
- ``rxtx_factor`` a float above 0 (1.0 by default); ``is_public`` true by
  default. A private flavor starts with no project that may use it (Nova's
  choice too: not even the project that made it).
"""

from oslo_utils import strutils, uuidutils

from mininova import exception
from mininova.db import flavors as flavors_db

MAX_INT = 0x7FFFFFFF
SQL_SP_FLOAT_MAX = 3.40282e38

# Flavor fields an instance keeps a copy of (Nova's instance_extra.flavor).
FLAVOR_SNAPSHOT_FIELDS = ("id", "flavorid", "name", "memory_mb", "vcpus", "root_gb",
                          "ephemeral_gb", "swap", "rxtx_factor", "extra_specs")

# The row's column, the name the error message uses, the smallest value.
_SIZES = (("memory_mb", "ram", 1), ("vcpus", "vcpus", 1), ("root_gb", "disk", 0),
          ("ephemeral_gb", "ephemeral", 0), ("swap", "swap", 0))


def create(context, name, memory, vcpus, root_gb, ephemeral_gb=0, flavorid=None, swap=0,
           rxtx_factor=1.0, is_public=True, description=None):
    if flavorid is None or flavorid == "auto":
        flavorid = uuidutils.generate_uuid()
    values = {"name": name.strip(), "flavorid": str(flavorid), "description": description,
              "is_public": _boolean(is_public), "rxtx_factor": _rxtx_factor(rxtx_factor)}
    given = {"memory_mb": memory, "vcpus": vcpus, "root_gb": root_gb,
             "ephemeral_gb": ephemeral_gb, "swap": swap}
    for column, api_name, minimum in _SIZES:
        values[column] = _integer(given[column], api_name, minimum)
    return flavors_db.flavor_create(context, values)


def _integer(value, name, minimum):
    try:
        return strutils.validate_integer(value, name, minimum, MAX_INT)
    except ValueError as exc:
        raise exception.InvalidInput(reason=str(exc)) from exc


def _rxtx_factor(value):
    try:
        factor = float(value)
    except ValueError:
        factor = 0
    if not 0 < factor <= SQL_SP_FLOAT_MAX:
        raise exception.InvalidInput(
            reason=f"'rxtx_factor' argument must be a float between 0 and {SQL_SP_FLOAT_MAX:g}")
    return factor


def _boolean(value):
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError as exc:
        raise exception.InvalidInput(reason="is_public must be a boolean") from exc
