"""Security groups in the plugin: each project's ``default`` group, the
groups of a port, and their listing (mirrors ``neutron/db/securitygroups_db.py``).

The groups and their rules are stored and shown, **not enforced**: no host
writes firewall rules for them (see :mod:`mininova.network.plugin`).

Neutron's core plugin inherits these methods from ``SecurityGroupDbMixin``;
here they are a mixin of :class:`mininova.network.plugin.Ml2Plugin` too.

Left out: creating, updating and deleting groups and rules (the API only
lists them: ``READ_ONLY`` in :mod:`mininova.network.api.app`).
"""

import uuid

import sqlalchemy as sa

from mininova.network import constants, db, exceptions
from mininova.network import models as m


class SecurityGroupDbMixin:
    # --- security groups (listed, not enforced) ---------------------------------

    def ensure_default_security_group(self, project_id):
        """The project's ``default`` group, made the first time it is needed
        (as Neutron does on a project's first network API call)."""
        for _attempt in range(db.DB_RETRIES):
            try:
                with self._session(writer=True) as session:
                    return self._default_security_group(session, project_id)
            except sa.exc.IntegrityError:
                continue  # another request made it meanwhile: read it
        raise RuntimeError(f"cannot make the default security group of {project_id}")

    def _default_security_group(self, session, project_id):
        existing = db.default_security_group_id(session, project_id)
        if existing:
            return existing
        group = m.SecurityGroup(id=str(uuid.uuid4()), project_id=project_id, name="default",
                                description="Default security group")
        session.add(group)
        session.flush()
        session.add(m.DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
        # Neutron's default rules: anything out; in, only from members of
        # the same group. Stored and shown; no host enforces them.
        for direction, ethertype in (("egress", "IPv4"), ("egress", "IPv6"),
                                     ("ingress", "IPv4"), ("ingress", "IPv6")):
            session.add(m.SecurityGroupRule(
                id=str(uuid.uuid4()), project_id=project_id, security_group_id=group.id,
                direction=direction, ethertype=ethertype,
                remote_group_id=group.id if direction == "ingress" else None))
        session.flush()
        return group.id

    def get_security_groups(self, context, filters=None):
        with self._session() as session:
            return db.make_security_group_dicts(session, db.security_group_rows(session, filters))

    def get_security_group(self, context, group_id):
        groups = self.get_security_groups(context, {"id": [group_id]})
        if not groups:
            raise exceptions.SecurityGroupNotFound(id=group_id)
        return groups[0]

    def get_security_group_rules(self, context, filters=None):
        with self._session() as session:
            return [db.make_security_group_rule_dict(row)
                    for row in db.security_group_rule_rows(session, filters)]

    def get_security_group_rule(self, context, rule_id):
        rules = self.get_security_group_rules(context, {"id": [rule_id]})
        if not rules:
            raise exceptions.SecurityGroupRuleNotFound(id=rule_id)
        return rules[0]

    # --- a port's groups ---------------------------------------------------------------

    def _set_security_groups(self, session, port, group_ids):
        """The port's groups: those given (the port's project's, or 404), or
        the project's ``default`` group; none for the network's own ports."""
        session.execute(sa.delete(m.SecurityGroupPortBinding)
                        .where(m.SecurityGroupPortBinding.port_id == port.id))
        if group_ids is None:
            if port.device_owner.startswith(constants.DEVICE_OWNER_NETWORK_PREFIX):
                return
            group_ids = [self._default_security_group(session, port.project_id)]
        for group_id in dict.fromkeys(group_ids):
            group = session.get(m.SecurityGroup, group_id)
            if group is None or group.project_id != port.project_id:
                raise exceptions.SecurityGroupNotFound(id=group_id)
            session.add(m.SecurityGroupPortBinding(port_id=port.id, security_group_id=group_id))
