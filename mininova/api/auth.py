"""Who is asking (mirrors ``nova/api/auth.py``).

``[api] auth_strategy`` chooses, as in Nova:

* ``keystone``: keystonemiddleware's ``auth_token`` sits in front of the
  application. It validates the ``X-Auth-Token`` with Keystone (caching the
  answer, ``[keystone_authtoken]`` options) and, for a valid token, adds
  headers saying who the token is for: ``X-User-Id``, ``X-Project-Id``,
  ``X-Roles``... The request context is made from those headers. An invalid
  or missing token gets Keystone's 401 from the middleware itself.
* ``noauth2``: no Keystone; the token *is* the identity, ``user:project``
  (see :func:`mininova.context.from_auth_token`). For ``mininova-all`` (the
  embedded mode: nothing to install) and the functional tests.

The version documents answer without a token in both, as Nova's do, so a
client can discover the API before it authenticates.
"""

from keystonemiddleware import auth_token

from mininova import context as mn_context
from mininova.conf import CONF


def with_authentication(app, public_paths):
    """``app`` behind keystonemiddleware when the strategy is keystone;
    requests for ``public_paths`` go around it."""
    if CONF.api.auth_strategy != "keystone":
        return app
    # auth_token reads [keystone_authtoken] from mininova's own configuration.
    protected = auth_token.AuthProtocol(app, {"oslo_config_config": CONF})

    def dispatch(environ, start_response):
        path = environ.get("PATH_INFO", "").rstrip("/") or "/"
        if path in public_paths:
            return app(environ, start_response)
        return protected(environ, start_response)
    return dispatch


def request_context(environ, headers, request_id):
    """The request's context, or None when the request names nobody."""
    if CONF.api.auth_strategy == "keystone":
        # Only the middleware sets this; a client cannot forge it because
        # auth_token removes any X-Identity-Status a request arrives with.
        if environ.get("HTTP_X_IDENTITY_STATUS") != "Confirmed":
            return None
        return mn_context.RequestContext.from_environ(environ, request_id=request_id)
    roles = headers.get("X-Roles")
    return mn_context.from_auth_token(
        headers.get("X-Auth-Token"), request_id=request_id,
        roles=[r.strip() for r in roles.split(",") if r.strip()] if roles else None)
