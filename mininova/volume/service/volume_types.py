"""Volume types (mirrors ``cinder/volume/volume_types.py``).

A type is a name for a kind of storage (``ssd``, ``replicated``); with
one backend, mininova's types are labels, but volumes still carry one,
the API still lists them, and clients still send one. Cinder makes the
type ``__DEFAULT__`` ("Default Volume Type") when its database is created
and gives it to every volume created without a type (``[volume]
default_volume_type``); so does mininova, at start.

Left out: extra specs that mean something to a scheduler (there is one
backend), private types and their project access lists, QoS specs,
encryption types, per-project default types (3.62).
"""

from oslo_log import log as logging
from oslo_utils import uuidutils

from mininova.conf import CONF
from mininova.volume.service import db, exception

LOG = logging.getLogger(__name__)

DEFAULT_VOLUME_TYPE = "__DEFAULT__"
DEFAULT_DESCRIPTION = "Default Volume Type"


def ensure_default_type(engine):
    """Create the configured default type if it does not exist yet."""
    name = CONF.volume.default_volume_type
    if db.volume_type_get_by_name(engine, name) is None:
        db.volume_type_create(engine, {"id": db.new_id(), "name": name,
                                       "description": DEFAULT_DESCRIPTION,
                                       "is_public": True, "extra_specs": {}})
        LOG.info("Created the default volume type %s", name)


def get_default_volume_type(engine):
    volume_type = db.volume_type_get_by_name(engine, CONF.volume.default_volume_type)
    if volume_type is None:
        raise exception.VolumeTypeNotFound(message="Default volume type can not be found.")
    return volume_type


def get_volume_type(engine, volume_type_id):
    volume_type = db.volume_type_get(engine, volume_type_id)
    if volume_type is None:
        raise exception.VolumeTypeNotFound(volume_type_id=volume_type_id)
    return volume_type


def get_by_name_or_id(engine, identity):
    """A type named by its id or by its name, as clients send either."""
    if uuidutils.is_uuid_like(identity):
        volume_type = db.volume_type_get(engine, identity)
        if volume_type is not None:
            return volume_type
    volume_type = db.volume_type_get_by_name(engine, identity)
    if volume_type is None:
        raise exception.VolumeTypeNotFoundByName(volume_type_name=identity)
    return volume_type


def create(engine, name, description=None, is_public=True, extra_specs=None):
    if db.volume_type_get_by_name(engine, name) is not None:
        raise exception.VolumeTypeExists(id=name)
    volume_type = db.volume_type_create(engine, {
        "id": db.new_id(), "name": name, "description": description,
        "is_public": is_public, "extra_specs": extra_specs or {}})
    LOG.info("Created volume type %s (%s)", name, volume_type["id"])
    return volume_type


def destroy(engine, volume_type):
    """Delete a type no volume uses; never the default."""
    if volume_type["name"] == CONF.volume.default_volume_type:
        raise exception.Invalid("Default volume type can not be deleted.")
    if db.volume_type_in_use(engine, volume_type["id"]):
        raise exception.Invalid("Target volume type is still in use.")
    db.volume_type_destroy(engine, volume_type["id"])
    LOG.info("Deleted volume type %s (%s)", volume_type["name"], volume_type["id"])
