"""Options of the service user (mirrors ``nova/conf/service_token.py``).

In a Keystone deployment, calls one service makes to another carry the
user's token; work nobody asked for (the compute's periodic tasks, a
snapshot's upload outliving the user's token) uses a token of mininova's
own service user instead, obtained with these keystoneauth options
(``auth_type = password``, ``auth_url``, ``username``...). The quickstart
writes them.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

service_user_group = cfg.OptGroup("service_user", title="Service user options")

service_user_opts = [
    cfg.BoolOpt(
        "send_service_user_token",
        default=False,
        help="Send the service user's token (X-Service-Token) along with the "
        "user's, so that a call made late in a long operation is accepted "
        "even when the user's token has expired meanwhile.",
    ),
]


def register_opts(conf):
    conf.register_group(service_user_group)
    conf.register_opts(service_user_opts, group=service_user_group)
    ks_loading.register_session_conf_options(conf, service_user_group.name)
    ks_loading.register_auth_conf_options(conf, service_user_group.name)


def list_opts():
    return {service_user_group.name: (
        service_user_opts
        + ks_loading.get_session_conf_options()
        + ks_loading.get_auth_common_conf_options()
        + ks_loading.get_auth_plugin_conf_options("password"))}
