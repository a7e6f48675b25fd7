"""The service user's token (mirrors ``nova/service_auth.py``).

Built once from ``[service_user]`` (keystoneauth's loading of options), and
refreshed by keystoneauth when it expires. Only used with
``[api] auth_strategy = keystone``; noauth2 has no tokens to speak of.

:func:`identity_headers` is who a request to another service of the cloud
(the image service, the volume service) says is asking.
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


def identity_headers(context):
    """The headers saying who asks another service for ``context``.

    With Keystone: the user's own token, as Nova passes it to Glance and
    Cinder, plus the service user's (X-Service-Token) when configured; work
    no user asked for carries the service user's token alone. With noauth2:
    the ``user:project`` token (a context without a user speaks as
    ``admin:admin``). Always the request id, so that the other service
    logs under the same ``req-...``."""
    headers = {"X-OpenStack-Request-ID": context.request_id}
    if CONF.api.auth_strategy != "keystone":
        user = context.user_id or "admin"
        project = context.project_id or "admin"
        headers["X-Auth-Token"] = f"{user}:{project}"
    elif context.auth_token:
        headers["X-Auth-Token"] = context.auth_token
        if CONF.service_user.send_service_user_token and configured():
            headers["X-Service-Token"] = get_token()
    elif configured():
        headers["X-Auth-Token"] = get_token()
    return headers
