"""The network service's quotas: limits per project, counted usage, the
check before a create, and the ``/v2.0/quotas`` API (mirrors
``neutron/quota/__init__.py``, ``neutron/db/quota/driver_nolock.py`` and
``neutron/extensions/quotasv2.py`` with ``quotasv2_detail.py``).

The resources are those this service has: ``network``, ``subnet``,
``port``, ``security_group``, ``security_group_rule`` (Neutron shows
``router``, ``floatingip``... only when their extensions are loaded; here
they are not). Defaults are the ``[network] quota_*`` options; the admin's
``PUT`` stores a project's own limits in the ``quotas`` table, ``DELETE``
goes back to the defaults. A resource counts against the project that owns
it: a port Nova makes for a server counts for the server's project.

Usage is counted from the rows, and counted again once the new row exists:
a create that raced past the check with another takes its row back
(Neutron's "no lock" driver reserves instead; the effect is the same, one
of the two gets ``409 OverQuota``: ``Quota exceeded for resources:
['port'].``). The default security group Neutron makes on a project's first
look is not counted against the limit before it is made, as in Neutron.

Routes::

    GET    /v2.0/quotas                        projects with limits of their own (admin)
    GET    /v2.0/quotas/{project_id}           {"quota": {"network": 100, ...}}
    GET    /v2.0/quotas/{project_id}/default   the defaults
    GET    /v2.0/quotas/{project_id}/details   {"quota": {"network": {"limit", "used",
                                                "reserved"}, ...}}
    PUT    /v2.0/quotas/{project_id}           {"quota": {"port": 50}} (admin)
    DELETE /v2.0/quotas/{project_id}           204, back to the defaults (admin)

Left out: quota reservations and their expiry, ``force``/``check_limit``
beyond refusing a limit below what is used (``check_limit``, which
python-openstackclient sends by default), per-resource quota drivers.
"""

import contextlib

import sqlalchemy as sa
from flask import g, jsonify, request

from mininova.conf import CONF
from mininova.network import exceptions, models, policy

UNLIMITED = -1
# resource -> (its option, its table)
RESOURCES = {
    "network": ("quota_network", models.Network),
    "subnet": ("quota_subnet", models.Subnet),
    "port": ("quota_port", models.Port),
    "security_group": ("quota_security_group", models.SecurityGroup),
    "security_group_rule": ("quota_security_group_rule", models.SecurityGroupRule),
}


# --- limits and usage -------------------------------------------------------------------

def default_limits():
    return {resource: getattr(CONF.network, option)
            for resource, (option, _model) in RESOURCES.items()}


def project_limits(engine, project_id, session=None):
    limits = default_limits()
    query = sa.select(models.Quota.resource, models.Quota.limit).where(
        models.Quota.project_id == project_id)
    with _reading(engine, session) as session:
        limits.update({resource: limit for resource, limit in session.execute(query)
                       if resource in limits})
    return limits


def project_usage(engine, project_id, resources=None, session=None):
    """``{resource: rows the project has}``, of ``resources`` (default: all)."""
    usage = {}
    with _reading(engine, session) as session:
        for resource in resources or RESOURCES:
            model = RESOURCES[resource][1]
            usage[resource] = session.scalar(
                sa.select(sa.func.count()).select_from(model)
                .where(model.project_id == project_id))
    return usage


@contextlib.contextmanager
def _reading(engine, session):
    """``session`` when the caller has one open, else a transaction of its own."""
    if session is not None:
        yield session
    else:
        with models.session(engine) as session:
            yield session


def check(engine, resource, project_id, new=1):
    """409 OverQuota when ``new`` more of ``resource`` would pass the
    project's limit (``new=0``: is it over already, the recheck)."""
    if resource not in RESOURCES or not project_id:
        return
    # The limit and the count in one transaction (one BEGIN, one COMMIT:
    # a port's create checks twice on every boot), and only the resource
    # asked for is counted, not networks, subnets, groups...
    with models.session(engine) as session:
        limit = project_limits(engine, project_id, session)[resource]
        if limit == UNLIMITED:
            return
        used = project_usage(engine, project_id, [resource], session)[resource]
    if used + new > limit:
        raise exceptions.OverQuota(overs=[resource])


# --- the API ------------------------------------------------------------------------------

def _authorize(action, project_id):
    policy.authorize(g.context, action, {"project_id": project_id})


def list_quotas(engine):
    _authorize("get_quota", None)   # no project's reader: the admin only
    with models.session(engine) as session:
        projects = sorted(set(session.scalars(sa.select(models.Quota.project_id))))
    return jsonify({"quotas": [
        {"project_id": project, "tenant_id": project, **project_limits(engine, project)}
        for project in projects]})


def show_quota(engine, project_id):
    _authorize("get_quota", project_id)
    return jsonify({"quota": project_limits(engine, project_id)})


def show_default_quota(engine, project_id):
    _authorize("get_quota", project_id)
    return jsonify({"quota": default_limits()})


def show_quota_details(engine, project_id):
    _authorize("get_quota", project_id)
    limits, usage = project_limits(engine, project_id), project_usage(engine, project_id)
    return jsonify({"quota": {resource: {"limit": limits[resource], "used": usage[resource],
                                         "reserved": 0} for resource in limits}})


def update_quota(engine, project_id):
    _authorize("update_quota", project_id)
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("quota"), dict):
        raise exceptions.HTTPBadRequest("Malformed request body: expected {\"quota\": {...}}")
    requested = dict(body["quota"])
    force = requested.pop("force", False) is True
    requested.pop("check_limit", None)
    unknown = sorted(set(requested) - set(RESOURCES))
    if unknown:
        raise exceptions.HTTPBadRequest(
            f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    limits = {resource: _limit_value(resource, value) for resource, value in requested.items()}
    if not force:
        _check_not_below_usage(limits, project_usage(engine, project_id))
    _store(engine, project_id, limits)
    return jsonify({"quota": project_limits(engine, project_id)})


def delete_quota(engine, project_id):
    _authorize("delete_quota", project_id)
    with models.session(engine, writer=True) as session:
        session.execute(sa.delete(models.Quota).where(models.Quota.project_id == project_id))
    return "", 204


def _limit_value(resource, value):
    try:
        limit = int(str(value))
    except ValueError:
        raise exceptions.HTTPBadRequest(
            f"Invalid input for {resource}. Reason: '{value}' is not an integer.") from None
    if limit < UNLIMITED:
        raise exceptions.HTTPBadRequest(
            f"Invalid input for {resource}. Reason: '{value}' should be an integer "
            f"greater than or equal to -1.")
    return limit


def _check_not_below_usage(limits, usage):
    for resource, limit in limits.items():
        if limit != UNLIMITED and limit < usage[resource]:
            raise exceptions.HTTPBadRequest(
                f"Quota limit {limit} for {resource} must be greater than or equal to "
                f"already used and reserved {usage[resource]}.")


def _store(engine, project_id, limits):
    with models.session(engine, writer=True) as session:
        for resource, limit in limits.items():
            row = session.scalars(sa.select(models.Quota).where(
                models.Quota.project_id == project_id,
                models.Quota.resource == resource)).first()
            if row is None:
                session.add(models.Quota(project_id=project_id, resource=resource,
                                         limit=limit))
            else:
                row.limit = limit


def add_routes(app, engine):
    routes = [
        ("GET", "/v2.0/quotas", "quotas.index", lambda: list_quotas(engine)),
        ("GET", "/v2.0/quotas/<project_id>", "quotas.show",
         lambda project_id: show_quota(engine, project_id)),
        ("GET", "/v2.0/quotas/<project_id>/default", "quotas.default",
         lambda project_id: show_default_quota(engine, project_id)),
        ("GET", "/v2.0/quotas/<project_id>/details", "quotas.details",
         lambda project_id: show_quota_details(engine, project_id)),
        ("PUT", "/v2.0/quotas/<project_id>", "quotas.update",
         lambda project_id: update_quota(engine, project_id)),
        ("DELETE", "/v2.0/quotas/<project_id>", "quotas.delete",
         lambda project_id: delete_quota(engine, project_id)),
    ]
    for method, rule, endpoint, view in routes:
        app.add_url_rule(rule, endpoint, view, methods=[method])
