"""Configuration options, one module per option group (mirrors ``nova/conf/``).

Importing this package registers every option on the global ``CONF`` object,
exactly as ``nova.conf`` does, so any module can ``from mininova.conf import
CONF`` and read ``CONF.libvirt.virt_type`` without caring who registered it.
"""

from oslo_config import cfg

from mininova.conf import (
    api,
    cinder,
    compute,
    database,
    glance,
    image_cache,
    image_service,
    libvirt,
    logging_defaults,
    network,
    neutron,
    paths,
    quota,
    rpc,
    scheduler,
    service,
    service_user,
    volume,
)

CONF = cfg.CONF

ALL_MODULES = (
    paths,
    service,
    rpc,
    database,
    api,
    compute,
    scheduler,
    libvirt,
    glance,
    image_cache,
    image_service,
    network,
    neutron,
    quota,
    service_user,
    cinder,
    volume,
)

for _module in ALL_MODULES:
    _module.register_opts(CONF)

# oslo.log's options ([DEFAULT] log_dir, debug, ...) live on the same CONF,
# with Nova's log line format as their default.
logging_defaults.apply(CONF)
