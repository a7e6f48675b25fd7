"""The network service's tables (mirrors ``neutron/db/models_v2.py``, the
ML2 binding table of ``neutron/plugins/ml2/models.py`` and
``neutron/db/models/securitygroup.py``).

Neutron keeps its own database, apart from Nova's; so does mininova-network
(``[network] connection``), with its own ``DeclarativeBase``. The table
names are Neutron's, so that ``sqlite3 network.sqlite .tables`` reads like
``mysql neutron -e 'show tables'`` (a small part of it).

What a row means:

- ``networks``: an L2 segment; on a host, a bridge ``brq<id[:11]>``.
- ``subnets``: an IPv4 range on a network, its gateway and DHCP settings;
  ``ipallocationpools``: the ranges its ports' addresses come from.
- ``ports``: a virtual NIC on a network, with a MAC; ``ipallocations``: its
  fixed IPs. The primary key (ip_address, subnet_id) is what makes an
  address impossible to give twice, even to two requests racing.
- ``ml2_port_bindings``: the host a port is bound to and its VIF type.
- ``quotas``: the limits the admin set for a project (the defaults are
  options; see :mod:`mininova.network.quota`).
- ``securitygroups``, ``securitygrouprules``, ``securitygroupportbindings``,
  ``default_security_group``: security groups, stored and shown but **not
  enforced** (no firewall rules are written on any host).

Left out on purpose: Neutron's standard-attributes table (timestamps and
revision numbers are columns of each row here), network segments (a
network is one ``local`` segment until issue 15's VXLAN), RBAC policies
(``shared`` is a column), tags, the pluggable IPAM driver's copies of the
pools and allocations, and Alembic migrations (the tables are made with
``create_all`` when the service starts, as mininova-image does).
"""

from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from oslo_utils import timeutils
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, orm
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

UUID_LEN = 36
NAME_LEN = 255
DESCRIPTION_LEN = 255


class Base(DeclarativeBase):
    pass


class StandardAttributes:
    """Columns every resource has (Neutron's standardattributes table)."""

    description: Mapped[str] = mapped_column(String(DESCRIPTION_LEN), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=timeutils.utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=timeutils.utcnow,
                                                 onupdate=timeutils.utcnow)
    revision_number: Mapped[int] = mapped_column(Integer, default=0)


class Network(StandardAttributes, Base):
    __tablename__ = "networks"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    status: Mapped[str] = mapped_column(String(16))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # router:external (the external-net extension): shown, and visible to
    # every project as Neutron's are; nothing routes to it here.
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    mtu: Mapped[int] = mapped_column(Integer)


class Subnet(StandardAttributes, Base):
    __tablename__ = "subnets"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64))
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    # Neutron keeps these in tables of their own (dnsnameservers, with an
    # order column, and subnetroutes); an ordered JSON list says the same.
    dns_nameservers: Mapped[list] = mapped_column(JSON, default=list)
    host_routes: Mapped[list] = mapped_column(JSON, default=list)


class IPAllocationPool(Base):
    __tablename__ = "ipallocationpools"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("subnets.id", ondelete="CASCADE"), index=True)
    first_ip: Mapped[str] = mapped_column(String(64))
    last_ip: Mapped[str] = mapped_column(String(64))


class Port(StandardAttributes, Base):
    __tablename__ = "ports"
    # Two ports of one network never share a MAC (the switch could not tell
    # them apart); on different networks they may.
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address",
                                          name="uniq_ports0network_id0mac_address"),)

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    mac_address: Mapped[str] = mapped_column(String(32))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(NAME_LEN), default="", index=True)
    device_owner: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    dns_name: Mapped[str] = mapped_column(String(NAME_LEN), default="")


class IPAllocation(Base):
    __tablename__ = "ipallocations"

    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True)


class PortBinding(Base):
    __tablename__ = "ml2_port_bindings"

    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(String(NAME_LEN), default="", index=True)
    vif_type: Mapped[str] = mapped_column(String(64))
    vnic_type: Mapped[str] = mapped_column(String(64))
    vif_details: Mapped[dict] = mapped_column(JSON, default=dict)
    profile: Mapped[dict] = mapped_column(JSON, default=dict)


class SecurityGroup(StandardAttributes, Base):
    __tablename__ = "securitygroups"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    stateful: Mapped[bool] = mapped_column(Boolean, default=True)


class SecurityGroupRule(StandardAttributes, Base):
    __tablename__ = "securitygrouprules"

    id: Mapped[str] = mapped_column(String(UUID_LEN), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("securitygroups.id", ondelete="CASCADE"), index=True)
    remote_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("securitygroups.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(16))
    protocol: Mapped[str | None] = mapped_column(String(40))
    port_range_min: Mapped[int | None] = mapped_column(Integer)
    port_range_max: Mapped[int | None] = mapped_column(Integer)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64))


class DefaultSecurityGroup(Base):
    """One ``default`` group per project; the primary key makes sure of it
    when two first requests of a project race to create it."""

    __tablename__ = "default_security_group"

    project_id: Mapped[str] = mapped_column(String(NAME_LEN), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("securitygroups.id", ondelete="CASCADE"))


class SecurityGroupPortBinding(Base):
    __tablename__ = "securitygroupportbindings"

    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("securitygroups.id", ondelete="CASCADE"), primary_key=True)


class Quota(Base):
    """One limit the admin set for one project (Neutron's ``quotas`` table)."""
    __tablename__ = "quotas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(String(NAME_LEN), index=True)
    resource: Mapped[str] = mapped_column(String(NAME_LEN))
    limit: Mapped[int] = mapped_column(Integer)


def create_tables(engine):
    """Make the tables that are missing (our stand-in for migrations)."""
    Base.metadata.create_all(engine)


@contextmanager
def session(engine, writer=False):
    """One short transaction. A writer on SQLite begins ``IMMEDIATE``: it
    waits for the other writers instead of failing (see mininova/db/api.py)."""
    with orm.Session(engine, expire_on_commit=False) as sess:
        if writer and engine.dialect.name == "sqlite":
            sess.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield sess
            sess.commit()
        except BaseException:
            sess.rollback()
            raise
