"""Options of the REST API service (mirrors ``nova/conf/wsgi.py`` and the
``osapi_compute_*`` options of ``nova/conf/service.py``)."""

from oslo_config import cfg

api_opts = [
    cfg.StrOpt(
        "osapi_compute_listen",
        default="0.0.0.0",
        help="IP address mininova-api listens on.",
    ),
    cfg.PortOpt(
        "osapi_compute_listen_port",
        default=8774,
        help="Port mininova-api listens on (8774, as Nova).",
    ),
    cfg.IntOpt(
        "osapi_compute_workers",
        default=8,
        min=1,
        help="Threads of the WSGI server that answer API requests.",
    ),
    cfg.ListOpt(
        "enabled_apis",
        default=["osapi_compute", "metadata"],
        item_type=cfg.types.String(choices=["osapi_compute", "metadata"]),
        help="The APIs mininova-api serves: the compute API (osapi_compute, "
        "on osapi_compute_listen_port) and the metadata API its guests read "
        "through the network service's metadata proxy (metadata, on "
        "metadata_listen_port). Nova's option and default.",
    ),
    cfg.StrOpt(
        "metadata_listen",
        default="0.0.0.0",
        help="IP address the metadata API listens on.",
    ),
    cfg.PortOpt(
        "metadata_listen_port",
        default=8775,
        help="Port the metadata API listens on (8775, as Nova).",
    ),
    cfg.IntOpt(
        "metadata_workers",
        default=4,
        min=1,
        help="Threads of the WSGI server that answer metadata requests.",
    ),
]

api_group = cfg.OptGroup("api", title="REST API options")

api_group_opts = [
    cfg.StrOpt(
        "auth_strategy",
        default="noauth2",
        choices=[("keystone", "validate tokens with Keystone (keystonemiddleware's "
                              "auth_token, configured by [keystone_authtoken])"),
                 ("noauth2", "no Keystone: the token is '<user>:<project>', and the user "
                             "'admin' is an administrator; for tests and mininova-all")],
        help="How the REST APIs (compute and image) learn who is asking. Nova's "
        "default is keystone; mininova's is noauth2 so that mininova-all needs "
        "nothing installed. The quickstart configures keystone.",
    ),
    cfg.IntOpt(
        "max_request_body_size",
        default=114688,
        help="Largest accepted request body in bytes (112 KiB as Nova's "
        "oslo.middleware default); larger bodies get 413.",
    ),
    cfg.StrOpt(
        "dhcp_domain",
        default="novalocal",
        help="Domain of the instances' hostnames in their metadata "
        "(meta_data.json's hostname is <hostname>.<dhcp_domain>); empty for "
        "none.",
    ),
    cfg.IntOpt(
        "max_limit",
        default=1000,
        help="Most items one list request returns.",
    ),
    cfg.IntOpt(
        "rpc_publish_timeout",
        default=10,
        min=1,
        help="Seconds a request to the API waits for the message broker when it "
        "is unreachable, before the API answers 503 with a message (a server it "
        "was creating is removed again). Short, because an HTTP client is "
        "waiting; the services' own bound is [DEFAULT] rpc_publish_timeout.",
    ),
]


def register_opts(conf):
    conf.register_opts(api_opts)
    conf.register_group(api_group)
    conf.register_opts(api_group_opts, group=api_group)


def list_opts():
    return {"DEFAULT": api_opts, api_group.name: api_group_opts}
