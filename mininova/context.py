"""The request context (mirrors ``nova/context.py``).

A context says who asked (user, project, roles) and which request this is
(``req-<uuid>``). The API creates it from the HTTP request; every RPC message
carries it as a dict (oslo.context's ``to_dict()``); the receiving service
rebuilds it (``from_dict()``) and stores it in a
thread-local, where oslo.log finds it and prints the request id on every line.
That is how one ``req-…`` can be followed through all the services' logs.

With Keystone the context is made from the headers keystonemiddleware adds
(``from_environ``, see :mod:`mininova.api.auth`) and carries the user's
token, so that services the request reaches later (the image service) see
the same user.

Left out: service catalogs in the context, cell targeting, read-deleted
modes other than a flag.
"""

from oslo_context import context as oslo_context


class RequestContext(oslo_context.RequestContext):
    """Security context and request information for one request."""

    def __init__(self, user_id=None, project_id=None, roles=None, is_admin=None, **kwargs):
        roles = list(roles or [])
        if is_admin is None:
            is_admin = "admin" in roles
        super().__init__(
            user_id=user_id,
            project_id=project_id,
            roles=roles,
            is_admin=is_admin,
            **kwargs,
        )

    def can(self, action, target=None):
        """Whether this context may do ``action`` (a policy rule) on
        ``target``; raises PolicyNotAuthorized (403) if not, as Nova's does."""
        from mininova import policy

        return policy.authorize(self, action, target)

    def elevated(self):
        """A copy with the admin role, for internal look-ups on behalf of a user."""
        values = self.to_dict()
        values["is_admin"] = True
        values["roles"] = sorted(set(values["roles"]) | {"admin"})
        return RequestContext.from_dict(values, overwrite=False)


def get_admin_context():
    """A context for work no user asked for (periodic tasks, start-up).

    It gets its own fresh request id; ``overwrite=False`` keeps it from
    replacing the thread's current context.
    """
    return RequestContext(user_id=None, project_id=None, roles=["admin"], is_admin=True,
                          overwrite=False)


def clear_current():
    """Forget the thread's current context once a message has been handled,
    so that a pooled thread's next log lines do not carry a stale request id.
    (oslo.context has no public call for this.)"""
    oslo_context._request_store.context = None


def from_auth_token(token, request_id=None, roles=None):
    """The context of an ``X-Auth-Token: <user>:<project>`` header.

    This is Nova's ``noauth2`` idea: the token *is* the identity, nothing is
    verified. A user named ``admin`` gets the admin role (and, as Keystone's
    role implications give, member and reader), any other member and
    reader; ``roles`` (an ``X-Roles`` header) replaces them, so that a
    reader-only user can be tried. Returns None for a missing or malformed
    token (the caller answers 401).
    """
    if not token or token.count(":") != 1:
        return None
    user_id, project_id = (part.strip() for part in token.split(":"))
    if not user_id or not project_id:
        return None
    if roles is None:
        roles = ["admin", "member", "reader"] if user_id == "admin" else ["member", "reader"]
    kwargs = {"request_id": request_id} if request_id else {}
    return RequestContext(user_id=user_id, project_id=project_id, roles=roles, **kwargs)
