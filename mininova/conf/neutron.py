"""How the compute service reaches the network service (mirrors
``nova/conf/neutron.py``)."""

from oslo_config import cfg

neutron_group = cfg.OptGroup("neutron", title="Network service client options")

neutron_opts = [
    cfg.BoolOpt(
        "enabled",
        default=False,
        help="Whether instances get ports (and so network interfaces) from "
        "mininova-network. Off, as in the embedded mininova-all, they have "
        "none. Nova always uses Neutron; the quickstart turns this on.",
    ),
    cfg.StrOpt(
        "endpoint_override",
        help="URL of mininova-network (its Networking API v2.0), e.g. "
        "http://127.0.0.1:9696. Unset: found in Keystone's catalog (service "
        "type 'network') with the service user's token.",
    ),
    cfg.StrOpt(
        "region_name",
        default="RegionOne",
        help="Region of the network endpoint in Keystone's catalog.",
    ),
    cfg.IntOpt(
        "timeout",
        default=30,
        min=1,
        help="Seconds to wait for the network service to answer one request.",
    ),
    cfg.BoolOpt(
        "service_metadata_proxy",
        default=False,
        help="Whether the metadata API is reached through the network "
        "service's metadata proxy, which names the instance in signed "
        "X-Instance-ID headers (see metadata_proxy_shared_secret). Off (Nova's "
        "default): the metadata API finds the instance by the address the "
        "request comes from, asking the network service which port holds it.",
    ),
    cfg.StrOpt(
        "metadata_proxy_shared_secret",
        default="",
        secret=True,
        help="The secret the metadata proxy signs X-Instance-ID with "
        "(HMAC-SHA256); the same as the network service's [metadata_agent] "
        "metadata_proxy_shared_secret.",
    ),
]


def register_opts(conf):
    conf.register_group(neutron_group)
    conf.register_opts(neutron_opts, group=neutron_group)


def list_opts():
    return {neutron_group.name: neutron_opts}
