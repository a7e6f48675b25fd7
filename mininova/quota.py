"""Quotas: how much a project may have, and the checks that say no
(mirrors ``nova/quota.py`` with its ``DbQuotaDriver``, the
``check_deltas`` of ``nova/objects/quotas.py`` and the instance checks of
``nova/compute/utils.py``).

**Limits.** Each resource has a limit per project: the project's own
(``os-quota-sets``, table ``quotas``), else the quota class ``default``
(``os-quota-class-sets/default``, table ``quota_classes``), else the
``[quota]`` option. ``-1`` is unlimited.

**Usage is counted, not stored.** Since Pike, Nova keeps no usage or
reservation records: it counts the rows a resource is made of (servers and
their flavors' vcpus and RAM, key pairs, server groups, group members)
when it needs to, so the numbers can never drift from the truth.

**Count, create, count again.** Counting first and creating after is a
race: twenty requests arriving together all count nine servers of ten and
all go ahead. So each check is made twice, as Nova does: before the records
are created (``usage + delta <= limit``), and once more right after
(``usage <= limit``, the new records now counted), when the records just
made are removed again if the quota is exceeded (:func:`recheck`,
``[quota] recheck_quota``). Racing requests may then all be refused; none
gets past the limit.

**What the user sees** is a 403 with Nova's message:
``Quota exceeded for instances: Requested 1, but already used 10 of 10
instances`` (servers, at boot and resize), ``Quota exceeded, too many key
pairs.``, ``Quota exceeded, too many server groups.``, ``Quota exceeded,
too many servers in group``, ``Maximum number of metadata items exceeds
128``.

Left out: per-user quotas (``project_user_quotas`` and ``?user_id=``),
quota classes other than ``default``, counting from Placement, unified
limits in Keystone, and the nova-network and personality-file quotas,
which the API still shows (with Nova's defaults) for the shape of its
bodies but nothing enforces.
"""

from oslo_log import log as logging

from mininova import exception
from mininova.conf import CONF
from mininova.db import api as db_api
from mininova.db import keypairs as keypairs_db
from mininova.db import quotas as db

LOG = logging.getLogger(__name__)

UNLIMITED = -1
DEFAULT_CLASS = "default"


class Resource:
    """A quota'd resource: its name and where its default comes from."""

    counted = False

    def __init__(self, name, option=None, default=UNLIMITED):
        self.name = name
        self.option = option
        self._default = default

    @property
    def default(self):
        return CONF.quota[self.option] if self.option else self._default


class CountedResource(Resource):
    """A resource whose usage is counted from the database (Nova's
    CountableResource); the others are limits on one request's size."""

    counted = True


# Every resource Nova's quota_set shows, sorted by name as Nova shows them.
RESOURCES = {resource.name: resource for resource in sorted([
    CountedResource("instances", "instances"),
    CountedResource("cores", "cores"),
    CountedResource("ram", "ram"),
    Resource("metadata_items", "metadata_items"),
    CountedResource("key_pairs", "key_pairs"),
    CountedResource("server_groups", "server_groups"),
    CountedResource("server_group_members", "server_group_members"),
    # Shown, never enforced: mininova has no personality files (Nova's
    # defaults) and no nova-network (unlimited, as in Nova today).
    Resource("injected_files", default=5),
    Resource("injected_file_content_bytes", default=10240),
    Resource("injected_file_path_bytes", default=255),
    Resource("fixed_ips"),
    Resource("floating_ips"),
    Resource("security_groups"),
    Resource("security_group_rules"),
], key=lambda resource: resource.name)}

INSTANCE_RESOURCES = ("instances", "cores", "ram")


# --- limits ------------------------------------------------------------------------

def get_defaults(context):
    """``{resource: limit}`` every project has unless it has its own: the
    class ``default`` where set, else the ``[quota]`` option."""
    return get_class_quotas(context, DEFAULT_CLASS)


def get_class_quotas(context, class_name):
    class_limits = db.quota_class_get_all_by_name(context, class_name)
    return {name: class_limits.get(name, resource.default)
            for name, resource in RESOURCES.items()}


def get_project_limits(context, project_id):
    """``{resource: limit}`` that apply to the project."""
    # The class's limits and the project's own in one transaction: a
    # POST /servers reads them three times (instances, metadata, recheck).
    with db_api.reader():
        limits = get_defaults(context)
        limits.update(db.quota_get_all_by_project(context, project_id))
    return limits


def get_project_quotas(context, project_id, usages=False):
    """``{resource: {"limit": n}}``, with ``"in_use"`` when ``usages``:
    what ``os-quota-sets/<id>/detail`` and ``/limits`` show."""
    limits = get_project_limits(context, project_id)
    quotas = {name: {"limit": limit} for name, limit in limits.items()}
    if usages:
        in_use = get_project_usages(context, project_id)
        for name, quota in quotas.items():
            quota["in_use"] = in_use.get(name, 0)
    return quotas


def get_project_usages(context, project_id):
    """What the project uses of the resources counted per project. Key
    pairs (per user) and group members (per group) are shown as 0 in a
    project's usage, as Nova does."""
    usages = db.instances_cores_ram_count(context, project_id)
    usages["server_groups"] = db.server_group_count(context, project_id)
    return usages


def get_settable_quotas(context, project_id):
    """``{resource: (minimum, maximum)}`` an admin may set: no less than is
    in use now (maximum unlimited: no per-user quotas to fit under)."""
    usages = get_project_usages(context, project_id)
    return {name: (usages.get(name, 0), UNLIMITED) for name in RESOURCES}


def _over(limit, value):
    return limit != UNLIMITED and value > limit


# --- servers: instances, cores and ram --------------------------------------------------

def check_num_instances(context, flavor, min_count, max_count, project_id=None):
    """How many of ``max_count`` servers of ``flavor`` the project may
    still have, at least ``min_count``; else TooManyInstances.

    Nova's ``check_num_instances_quota``: when all of them would go over,
    the answer may be fewer (a request for 2 to 5 servers gets 3 if 3
    fit); when not even ``min_count`` fit, the 403 names each resource
    over its limit, what was asked, what is used and what is allowed."""
    project_id = project_id or context.project_id
    limits = get_project_limits(context, project_id)
    usage = db.instances_cores_ram_count(context, project_id)
    requested = _instance_deltas(flavor, max_count)
    overs = [r for r in INSTANCE_RESOURCES if _over(limits[r], usage[r] + requested[r])]
    if not overs:
        return max_count
    fits = _servers_that_fit(flavor, limits, usage)
    if 0 < fits and min_count <= fits < max_count:
        return check_num_instances(context, flavor, min_count, fits, project_id)
    requested["instances"] = (str(max_count) if min_count == max_count
                              else f"{min_count}-{max_count}")
    LOG.debug("%(overs)s quota exceeded for %(pid)s, tried to run %(count)s instances. "
              "%(msg)s", {"overs": ", ".join(overs), "pid": project_id,
                          "count": requested["instances"],
                          "msg": (f"Can only run {fits} more instances of this type."
                                  if fits > 0 else
                                  "Cannot run any more instances of this type.")})
    raise _too_many(overs, requested, usage, limits)


def recheck_num_instances(context, flavor, count, project_id=None):
    """After the rows are written: does the project now have more than
    its limits? (``count`` is what the request asked for, for the message.)"""
    project_id = project_id or context.project_id
    limits = get_project_limits(context, project_id)
    usage = db.instances_cores_ram_count(context, project_id)
    overs = [r for r in INSTANCE_RESOURCES if _over(limits[r], usage[r])]
    if overs:
        LOG.debug("%(overs)s quota exceeded for %(pid)s after the records were made: "
                  "a concurrent request used it up.", {"overs": ", ".join(overs),
                                                       "pid": project_id})
        # As Nova's recheck, "used" is the whole limit: the others took it.
        raise _too_many(overs, _instance_deltas(flavor, count), limits, limits)


def check_upsize(context, instance, current_flavor, new_flavor):
    """A resize to a bigger flavor needs the difference in cores and RAM
    (a smaller one frees some; the server count does not change)."""
    deltas = {resource: new_flavor[key] - current_flavor[key]
              for resource, key in (("cores", "vcpus"), ("ram", "memory_mb"))
              if new_flavor[key] > current_flavor[key]}
    if not deltas:
        return
    limits = get_project_limits(context, instance["project_id"])
    usage = db.instances_cores_ram_count(context, instance["project_id"])
    overs = [r for r in deltas if _over(limits[r], usage[r] + deltas[r])]
    if overs:
        LOG.info("%(overs)s quota exceeded for %(pid)s, tried to resize instance.",
                 {"overs": ", ".join(overs), "pid": context.project_id})
        raise _too_many(overs, deltas, usage, limits)


def _instance_deltas(flavor, count):
    return {"instances": count, "cores": count * flavor["vcpus"],
            "ram": count * flavor["memory_mb"]}


def _servers_that_fit(flavor, limits, usage):
    per_server = {"instances": 1, "cores": flavor["vcpus"], "ram": flavor["memory_mb"]}
    return min((limits[r] - usage[r]) // per_server[r] for r in INSTANCE_RESOURCES
               if limits[r] != UNLIMITED and per_server[r] > 0)


def _too_many(overs, requested, used, allowed):
    """Nova's TooManyInstances: one comma-separated list per part."""
    def joined(values):
        return ", ".join(str(values[r]) for r in overs)
    return exception.TooManyInstances(overs=", ".join(overs), req=joined(requested),
                                      used=joined(used), allowed=joined(allowed))


# --- one count each: key pairs, server groups, group members, metadata ---------------------------

def check_key_pairs(context, user_id, delta=1):
    """Key pairs are counted per user, against the limit of the project
    the request is made in."""
    limit = get_project_limits(context, context.project_id)["key_pairs"]
    if _over(limit, keypairs_db.key_pair_count_by_user(context, user_id) + delta):
        raise exception.KeypairLimitExceeded()


def check_server_groups(context, delta=1):
    limit = get_project_limits(context, context.project_id)["server_groups"]
    if _over(limit, db.server_group_count(context, context.project_id) + delta):
        raise exception.ServerGroupLimitExceeded()


def check_server_group_members(context, group_uuid, delta=1):
    """Servers of this user in the group: the ones being booted count."""
    limit = get_project_limits(context, context.project_id)["server_group_members"]
    used = db.server_group_member_count(context, group_uuid, context.user_id)
    if _over(limit, used + delta):
        raise exception.GroupMemberLimitExceeded()


def metadata_items_limit(context, project_id):
    return get_project_limits(context, project_id)["metadata_items"]


def check_metadata_items(context, project_id, metadata):
    """Metadata items are not counted: one server's metadata is too big or not."""
    limit = metadata_items_limit(context, project_id)
    if metadata and _over(limit, len(metadata)):
        raise exception.MetadataLimitExceeded(allowed=limit)


# --- the second count --------------------------------------------------------------------

def recheck(check, undo):
    """Count again now that the new records exist (``check``, a check with
    a delta of 0) and, if that is over quota, ``undo`` the records and let
    the OverQuota through: the request is refused and leaves nothing."""
    if not CONF.quota.recheck_quota:
        return
    try:
        check()
    except exception.OverQuota:
        undo()
        raise
