"""The service user's token (mirrors ``nova/service_auth.py``).

Built once from ``[service_user]`` (keystoneauth's loading of options), and
refreshed by keystoneauth when it expires. Only used with
``[api] auth_strategy = keystone``; noauth2 has no tokens to speak of.
"""

import threading

from keystoneauth1 import loading as ks_loading

from mininova.conf import CONF

_SESSION = None
_LOCK = threading.Lock()


def configured():
    """Whether a service user is configured (``[service_user] auth_type``)."""
    return bool(CONF.service_user.auth_type)


def get_session():
    global _SESSION
    with _LOCK:
        if _SESSION is None:
            auth = ks_loading.load_auth_from_conf_options(CONF, "service_user")
            _SESSION = ks_loading.load_session_from_conf_options(CONF, "service_user",
                                                                 auth=auth)
        return _SESSION


def get_token():
    return get_session().get_token()


def reset():
    """Forget the session (tests change the configuration)."""
    global _SESSION
    with _LOCK:
        _SESSION = None
