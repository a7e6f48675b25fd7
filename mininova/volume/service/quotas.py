"""The volume service's quotas: limits, usage, the checks before a volume or
snapshot is made, and the ``os-quota-sets`` and ``limits`` APIs (mirrors
``cinder/quota.py``, ``cinder/api/contrib/quotas.py`` and
``cinder/api/v3/limits.py``).

The resources are Cinder's: ``volumes``, ``snapshots``, ``gigabytes``
(volumes and snapshots together, as Cinder counts them unless
``no_snapshot_gb_quota``), ``per_volume_gigabytes`` (the largest one
volume may be), ``backups``, ``backup_gigabytes`` and ``groups`` (shown,
always 0 used: backups and groups are left out), and per volume type
``volumes_<type>``, ``gigabytes_<type>``, ``snapshots_<type>`` (no limit
unless the admin sets one). Defaults come from the ``[volume] quota_*``
options; the admin's ``PUT`` stores a project's own in the ``quotas``
table; ``DELETE`` goes back to the defaults.

Usage is *counted* from the volumes and snapshots rows, with a recheck after
the new row is made (two creates racing past the first check: the second
one's recheck sees both and takes its row back), which is how Nova counts
since Pike. Cinder still keeps ``quota_usages`` and ``reservations`` rows
and commits them when the volume is made: left out, with quota classes,
nested projects and the ``skip_validation`` of an update.

Exceeding a quota is Cinder's 413 with its words, e.g. ``Maximum number of
volumes allowed (10) exceeded for quota 'volumes'.``
"""

from flask import Response, jsonify, request

from mininova.conf import CONF
from mininova.volume.service import common, db, exception
from mininova.volume.service import policies as policy

PER_TYPE_RESOURCES = ("volumes", "gigabytes", "snapshots")
# Cinder's option of the same name, without the "quota_" for per_volume.
PROJECT_RESOURCES = {
    "volumes": "quota_volumes",
    "snapshots": "quota_snapshots",
    "gigabytes": "quota_gigabytes",
    "backups": "quota_backups",
    "backup_gigabytes": "quota_backup_gigabytes",
    "groups": "quota_groups",
    "per_volume_gigabytes": "per_volume_size_limit",
}
UNLIMITED = -1


# --- limits and usage -------------------------------------------------------------------

def default_limits(engine):
    """Every resource's default: the options, and no limit per type."""
    return _default_limits(db.volume_type_get_all(engine, include_private=True))


def project_limits(engine, project_id):
    """The defaults, overridden by what the admin set for the project."""
    limits = default_limits(engine)
    limits.update(db.quota_get_all_by_project(engine, project_id))
    return limits


def project_usage(engine, project_id):
    """What the project holds, by resource name (project-wide and per type)."""
    types = db.volume_type_get_all(engine, include_private=True)
    return _usage(types, db.quota_usage(engine, project_id))


def limits_and_usage(engine, project_id):
    """:func:`project_limits` and :func:`project_usage` together, what
    every check needs, read in one session: the types once, not twice, and
    one connection from the pool, not four."""
    types, set_limits, held = db.quota_read(engine, project_id)
    limits = _default_limits(types)
    limits.update(set_limits)
    return limits, _usage(types, held)


def _default_limits(volume_types):
    limits = {name: getattr(CONF.volume, option) for name, option in PROJECT_RESOURCES.items()}
    for volume_type in volume_types:
        for resource in PER_TYPE_RESOURCES:
            limits[f"{resource}_{volume_type['name']}"] = UNLIMITED
    return limits


def _usage(volume_types, held_by_type):
    """The usage by resource name from :func:`db.quota_usage`'s counts
    per type id: every counted resource, project-wide and per type, at 0
    unless held."""
    type_names = {t["id"]: t["name"] for t in volume_types}
    usage = dict.fromkeys((name for name in PROJECT_RESOURCES
                           if name != "per_volume_gigabytes"), 0)
    usage.update({f"{resource}_{name}": 0 for name in type_names.values()
                  for resource in PER_TYPE_RESOURCES})
    for type_id, (volumes, volume_gb, snapshots, snapshot_gb) in held_by_type.items():
        held = {"volumes": volumes, "gigabytes": volume_gb + snapshot_gb,
                "snapshots": snapshots}
        for resource, count in held.items():
            usage[resource] += count
            if type_id in type_names:
                usage[f"{resource}_{type_names[type_id]}"] += count
    return usage


# --- the checks ---------------------------------------------------------------------------

def check_volume(engine, project_id, volume_type_name, size, new_volumes=1):
    """Refuse a volume (or, with ``new_volumes=0``, an extension by ``size``
    GiB) that would go over one of the project's limits."""
    limits, usage = limits_and_usage(engine, project_id)
    per_volume = limits["per_volume_gigabytes"]
    if new_volumes and per_volume != UNLIMITED and size > per_volume:
        raise exception.VolumeSizeExceedsLimit(size=size, limit=per_volume)
    for name in ("volumes", f"volumes_{volume_type_name}"):
        if _over(limits, usage, name, new_volumes):
            raise exception.VolumeLimitExceeded(allowed=limits[name], name=name)
    _check_gigabytes(limits, usage, volume_type_name, size)


def check_snapshot(engine, project_id, volume_type_name, size):
    limits, usage = limits_and_usage(engine, project_id)
    for name in ("snapshots", f"snapshots_{volume_type_name}"):
        if _over(limits, usage, name, 1):
            raise exception.SnapshotLimitExceeded(allowed=limits[name])
    _check_gigabytes(limits, usage, volume_type_name, size)


def recheck(engine, project_id, volume_type_name, counted="volumes"):
    """After the row is made: is a count it adds to (``volumes`` or
    ``snapshots``, and gigabytes) now over its limit? The caller takes its
    row back when this raises: it lost a race with another create."""
    limits, usage = limits_and_usage(engine, project_id)
    for name in (counted, f"{counted}_{volume_type_name}", "gigabytes",
                 f"gigabytes_{volume_type_name}"):
        if _over(limits, usage, name, 0):
            raise exception.UnexpectedOverQuota(name=name)


def _check_gigabytes(limits, usage, volume_type_name, size):
    for name in ("gigabytes", f"gigabytes_{volume_type_name}"):
        if _over(limits, usage, name, size):
            raise exception.VolumeSizeExceedsAvailableQuota(
                name=name, requested=size, quota=limits[name], consumed=usage[name])


def _over(limits, usage, name, requested):
    limit = limits.get(name, UNLIMITED)
    return limit != UNLIMITED and usage.get(name, 0) + requested > limit


# --- os-quota-sets --------------------------------------------------------------------------

class QuotaSetsController:
    """``/v3/{project_id}/os-quota-sets/{target project}``::

        GET     show ({"quota_set": {"id", "volumes": 10, ...}});
                ``?usage=True``: each value {"limit", "in_use", "reserved", "allocated"}
        GET     .../defaults   the defaults
        PUT     {"quota_set": {"volumes": 20}}   the admin's
        DELETE  back to the defaults, the admin's
    """

    def show(self, project_id, target_id):
        context = common.context()
        context.can(policy.QUOTAS_SHOW, {"project_id": target_id})
        engine = common.services().engine
        limits = project_limits(engine, target_id)
        if common.query_bool("usage"):
            usage = project_usage(engine, target_id)
            limits = {name: {"limit": limit, "in_use": usage.get(name, 0), "reserved": 0,
                             "allocated": 0} for name, limit in limits.items()}
        return jsonify({"quota_set": {"id": target_id, **limits}})

    def defaults(self, project_id, target_id):
        context = common.context()
        context.can(policy.QUOTAS_SHOW, {"project_id": target_id})
        return jsonify({"quota_set": {"id": target_id,
                                      **default_limits(common.services().engine)}})

    def update(self, project_id, target_id):
        context = common.context()
        context.can(policy.QUOTAS_UPDATE, {"project_id": target_id})
        body = common.entity(common.json_body(), "quota_set")
        engine = common.services().engine
        known = default_limits(engine)
        bad = sorted(set(body) - set(known) - {"id", "tenant_id"})
        if bad:
            raise exception.InvalidInput(reason=f"Bad key(s) in quota set: {','.join(bad)}")
        requested = {name: _limit_value(name, value) for name, value in body.items()
                     if name in known}
        _check_not_below_usage(requested, project_usage(engine, target_id))
        db.quota_set(engine, target_id, requested)
        return jsonify({"quota_set": project_limits(engine, target_id)})

    def delete(self, project_id, target_id):
        context = common.context()
        context.can(policy.QUOTAS_DELETE, {"project_id": target_id})
        db.quota_destroy_all_by_project(common.services().engine, target_id)
        return Response(status=200)


def _limit_value(name, value):
    """An integer of -1 or more (Cinder's ``validate_integer``)."""
    try:
        number = int(str(value))
    except ValueError:
        raise exception.InvalidInput(reason=f"{name} must be an integer.") from None
    if number < UNLIMITED:
        raise exception.InvalidInput(reason=f"{name} must be >= -1")
    return number


def _check_not_below_usage(requested, usage):
    for name, limit in requested.items():
        if limit != UNLIMITED and limit < usage.get(name, 0):
            raise exception.Invalid(
                message=f"Quota {name} limit must be equal or greater than existing "
                        f"resources.")


# --- limits -------------------------------------------------------------------------------

# The absolute limits' names in GET /limits, and the resource each reads.
ABSOLUTE_LIMITS = {
    "maxTotalVolumes": "volumes",
    "maxTotalSnapshots": "snapshots",
    "maxTotalVolumeGigabytes": "gigabytes",
    "maxTotalBackups": "backups",
    "maxTotalBackupGigabytes": "backup_gigabytes",
}
ABSOLUTE_USED = {
    "totalVolumesUsed": "volumes",
    "totalSnapshotsUsed": "snapshots",
    "totalGigabytesUsed": "gigabytes",
    "totalBackupsUsed": "backups",
    "totalBackupGigabytesUsed": "backup_gigabytes",
}


def limits_index(project_id):
    """``GET /v3/{project_id}/limits``: the caller's project's absolute
    limits and what it uses (Cinder's used_limits extension); no rate
    limits (``rate`` is empty, as in Cinder without its rate middleware)."""
    context = common.context()
    context.can(policy.LIMITS_USED, {"project_id": context.project_id})
    engine = common.services().engine
    target = request.args.get("project_id") if context.is_admin else None
    target = target or context.project_id
    limits, usage = limits_and_usage(engine, target)
    absolute = {key: limits[name] for key, name in ABSOLUTE_LIMITS.items()}
    absolute.update({key: usage.get(name, 0) for key, name in ABSOLUTE_USED.items()})
    return jsonify({"limits": {"rate": [], "absolute": absolute}})
