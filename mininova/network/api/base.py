"""One controller for every resource (mirrors ``neutron/api/v2/base.py``).

For each request it does what Neutron's generic controller does, driven by
the resource's attribute table (:mod:`.attributes`):

1. **the body** (POST, PUT): ``{"<resource>": {...}}``; attributes that do
   not exist, that a POST or a PUT may not set, a POST that leaves out a
   required one, values that do not validate: 400 ``HTTPBadRequest`` with
   Neutron's message. A POST is completed with the defaults and the
   caller's project;
2. **the policy** (:mod:`mininova.network.policy`): the action's rule on
   the resource (``create_port``), then the rule of each attribute the
   request sets (``create_port:binding:host_id``). A resource the caller
   may not see is a 404, whatever else they may not do with it;
   a create is also checked against the project's quota
   (:mod:`mininova.network.quota`: 409 ``OverQuota``);
3. **the plugin** does it (:mod:`mininova.network.plugin`);
4. **the view**: only the attributes the caller may see
   (``get_port:binding:vif_type`` hides a port's binding from its own
   project's members) and, with ``?fields=``, only those asked for.

Lists filter on any attribute shown: ``?name=private&shared=true``,
several values of one attribute are alternatives (``?id=a&id=b``), ports
also by address (``?fixed_ips=ip_address=10.0.0.5``). Neutron turns the
filters into SQL; here the controller filters the plugin's dicts, which
is plenty for a teaching cloud. Sorting and pagination parameters are
accepted and ignored: lists come oldest first, whole.
"""

from oslo_log import log as logging

from mininova.network import exceptions, policy, quota
from mininova.network.api import attributes as attrs

LOG = logging.getLogger(__name__)

# Query parameters that are not filters.
NOT_FILTERS = frozenset({"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"})
# The network's own attributes in a subnet's or port's policy target.
NETWORK_TARGET_KEYS = ("project_id", "shared", "router:external")


class Controller:
    """``resource``: ``port``; ``collection``: ``ports``; ``not_found``: the
    exception of a missing one (PortNotFound); ``id_key``: its argument."""

    def __init__(self, plugin, resource, collection, attributes, not_found, id_key):
        self.plugin = plugin
        self.resource = resource
        self.collection = collection
        self.attributes = attributes
        self.not_found = not_found
        self.id_key = id_key

    def _plugin_call(self, action, *args, **kwargs):
        return getattr(self.plugin, f"{action}_{self.resource}")(*args, **kwargs)

    # --- the five actions ---------------------------------------------------------

    def index(self, context, args):
        fields = args.getlist("fields")
        filters, address_filters = self._filters(args)
        key = self.collection.replace("-", "_")   # security-groups: security_groups
        items = getattr(self.plugin, f"get_{key}")(context)
        networks = self._networks_of(context, items)
        visible = [item for item in items
                   if _matches(item, filters, address_filters)
                   and self._may(context, f"get_{self.resource}", item, networks)]
        return {key: [self._view(context, item, networks, fields) for item in visible]}

    def show(self, context, resource_id, args):
        item, networks = self._visible_item(context, resource_id)
        return {self.resource: self._view(context, item, networks, args.getlist("fields"))}

    def create(self, context, body):
        values, given = self.prepare_request_body(context, body, is_create=True)
        networks = self._networks_of(context, [values], for_create=True)
        target = self._target(values, networks)
        policy.authorize(context, f"create_{self.resource}", target)
        self._authorize_attributes(context, "create", values, given, target)
        quota.check(self.plugin.engine, self.resource, values.get("project_id"))
        item = self._plugin_call("create", context, values)
        self._recheck_quota(context, item)
        # The same network as just read: a subnet or port stays on its network.
        return {self.resource: self._view(context, item, networks)}

    def update(self, context, resource_id, body):
        changes, given = self.prepare_request_body(context, body, is_create=False)
        item, networks = self._visible_item(context, resource_id)
        target = self._target({**item, **changes}, networks)
        policy.authorize(context, f"update_{self.resource}", target)
        self._authorize_attributes(context, "update", changes, given, target)
        item = self._plugin_call("update", context, resource_id, changes)
        return {self.resource: self._view(context, item, networks)}

    def delete(self, context, resource_id):
        item, networks = self._visible_item(context, resource_id)
        policy.authorize(context, f"delete_{self.resource}", self._target(item, networks))
        self._plugin_call("delete", context, resource_id)

    def _recheck_quota(self, context, item):
        """Counted again with the new row: of two creates that raced past
        the check, the one now over the limit takes its row back."""
        try:
            quota.check(self.plugin.engine, self.resource, item.get("project_id"), new=0)
        except exceptions.OverQuota:
            self._plugin_call("delete", context, item["id"])
            raise

    # --- policy -------------------------------------------------------------------

    def _visible_item(self, context, resource_id):
        """The resource and ``{id: its network}``, or its 404 when it is
        missing *or* hidden from the caller (Neutron does not tell others'
        resources from missing ones)."""
        item = self._plugin_call("get", context, resource_id)
        networks = self._networks_of(context, [item])
        if not self._may(context, f"get_{self.resource}", item, networks):
            raise self.not_found(**{self.id_key: resource_id})
        return item, networks

    def _may(self, context, action, item, networks):
        return policy.check(context, action, self._target(item, networks))

    def _target(self, item, networks):
        """The resource, and for a subnet or port its network's owner and
        sharing (``network:project_id``, ``network:shared``)."""
        target = dict(item)
        if self.resource == "network":
            network = item
        else:
            network = networks.get(item.get("network_id")) or {}
        for key in NETWORK_TARGET_KEYS:
            target[f"network:{key}"] = network.get(key)
        return target

    def _authorize_attributes(self, context, action, values, given, target):
        """The rules of the attributes the request sets. On a create, an
        attribute given with its default value counts as not set (a client
        sending ``"shared": false`` needs no admin), as in Neutron."""
        for name in given:
            if action == "create" and values[name] == self.attributes[name].default:
                continue
            if name == "fixed_ips":
                # Choosing a subnet is anyone's; choosing an address is not.
                if any("ip_address" in ip for ip in values.get("fixed_ips") or []):
                    policy.authorize(context, f"{action}_port:fixed_ips:ip_address", target)
                continue
            policy.authorize(context, f"{action}_{self.resource}:{name}", target)

    def _networks_of(self, context, items, for_create=False):
        """``{network id: network}`` of the items (subnets, ports) that have
        one, each with only the attributes a policy target takes from it.

        For a create: the network must exist and be the caller's, shared,
        or the caller an admin or service; else a 404, as Neutron answers
        for a network one cannot see.
        """
        if self.resource == "network":
            return {}
        networks = {}
        for network_id in {item.get("network_id") for item in items} - {None}:
            try:
                networks[network_id] = self.plugin.get_network(context, network_id,
                                                               fields=NETWORK_TARGET_KEYS)
            except exceptions.NetworkNotFound:
                if for_create:
                    raise
        if for_create:
            for network in networks.values():
                if not (network["shared"] or network["project_id"] == context.project_id
                        or policy.check(context, "admin_or_service", {})):
                    raise exceptions.HTTPNotFound()
        return networks

    # --- the body -----------------------------------------------------------------

    def prepare_request_body(self, context, body, is_create):
        """The request's attributes, checked, converted and (POST) completed;
        and the names the request itself gave."""
        values = self._resource_dict(body)
        self._populate_project(context, values, is_create)
        unknown = sorted(set(values) - set(self.attributes))
        if unknown:
            raise exceptions.HTTPBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        given = [name for name in values if name not in ("tenant_id", "project_id")]
        if is_create:
            self._fill_post_defaults(values)
        else:
            for name in values:
                if not self.attributes[name].put:
                    raise exceptions.HTTPBadRequest(f"Cannot update read-only attribute {name}")
        self._convert_and_validate(values)
        return values, given

    def _resource_dict(self, body):
        if not body:
            raise exceptions.HTTPBadRequest("Resource body required")
        if not isinstance(body, dict):
            raise exceptions.HTTPBadRequest("Body contains invalid data")
        if self.collection in body:
            raise exceptions.HTTPBadRequest("Bulk operation not supported")
        values = body.get(self.resource)
        if values is None:
            raise exceptions.HTTPBadRequest(f"Unable to find '{self.resource}' in request body")
        if not isinstance(values, dict):
            raise exceptions.HTTPBadRequest(f"Object '{self.resource}' contains invalid data")
        return dict(values)

    @staticmethod
    def _populate_project(context, values, is_create):
        """tenant_id and project_id say the same; only an admin (or a
        service) names another project than their own."""
        if "tenant_id" in values and "project_id" not in values:
            values["project_id"] = values["tenant_id"]
        elif "project_id" in values and "tenant_id" not in values:
            values["tenant_id"] = values["project_id"]
        if values.get("project_id") != values.get("tenant_id"):
            raise exceptions.HTTPBadRequest("'project_id' and 'tenant_id' do not match")
        if "project_id" in values and values["project_id"] != context.project_id and \
                not policy.check(context, "admin_or_service", {}):
            raise exceptions.HTTPBadRequest(
                "Specifying 'project_id' other than the authenticated project in request "
                "is not allowed for the current user.")
        if is_create and "project_id" not in values:
            values["project_id"] = values["tenant_id"] = context.project_id

    def _fill_post_defaults(self, values):
        for name, attr in self.attributes.items():
            if not attr.post:
                if name in values:
                    raise exceptions.HTTPBadRequest(f"Attribute '{name}' not allowed in POST")
                continue
            if name in values:
                continue
            if attr.default is attrs.REQUIRED:
                raise exceptions.HTTPBadRequest(
                    f"Failed to parse request. Required attribute '{name}' not specified")
            if attr.default not in (attrs.DERIVED, attrs.FROM_CONTEXT):
                values[name] = attr.default

    def _convert_and_validate(self, values):
        for name, value in list(values.items()):
            attr = self.attributes[name]
            try:
                if attr.convert is not None:
                    value = values[name] = attr.convert(value)
            except ValueError as exc:
                raise exceptions.InvalidInput(error_message=str(exc)) from None
            reason = attr.validate(value) if attr.validate else None
            if reason:
                raise exceptions.HTTPBadRequest(
                    f"Invalid input for {name}. Reason: {reason}.")

    # --- lists: filters -----------------------------------------------------------

    def _filters(self, args):
        """``({attribute: [values]}, [{"ip_address"|"subnet_id": [values]}])``."""
        filters, addresses = {}, {}
        for name in args:
            if name in NOT_FILTERS:
                continue
            values = args.getlist(name)
            if name == "fixed_ips" and self.resource == "port":
                for value in values:
                    key, _, wanted = value.partition("=")
                    if key not in ("ip_address", "subnet_id"):
                        raise exceptions.HTTPBadRequest(
                            f"[{name}] is invalid attribute for filtering")
                    addresses.setdefault(key, []).append(wanted)
                continue
            attr = self.attributes.get(name)
            if attr is None or not attr.filter:
                raise exceptions.HTTPBadRequest(f"[{name}] is invalid attribute for filtering")
            try:
                filters[name] = [attr.convert(v) if attr.convert else v for v in values]
            except ValueError as exc:
                raise exceptions.InvalidInput(error_message=str(exc)) from None
        return filters, addresses

    # --- the view -----------------------------------------------------------------

    def _view(self, context, item, networks, fields=None):
        target = self._target(item, networks)
        view = {}
        for name, value in item.items():
            attr = self.attributes.get(name)
            if attr is None or not attr.visible:
                continue
            if fields and name not in fields:
                continue
            if not policy.check(context, f"get_{self.resource}:{name}", target):
                continue
            view[name] = value
        return view


def _matches(item, filters, addresses):
    for name, wanted in filters.items():
        if item.get(name) not in wanted:
            return False
    if addresses:
        return any(all(ip.get(key) in wanted for key, wanted in addresses.items())
                   for ip in item.get("fixed_ips", []))
    return True
