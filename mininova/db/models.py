"""SQLAlchemy models (mirrors ``nova/db/main/models.py``).

The tables a student meets when following a boot: ``services`` (who is
alive), ``compute_nodes`` (what each hypervisor has and uses), ``flavors``,
``instances`` (one row per server, soft-deleted like Nova's), and the audit
trail ``instance_faults``, ``instance_actions`` and ``instance_actions_events``.
Later API microversions brought a server's ``tags`` (2.26), its description
and lock (2.19, 2.9/2.73), and uuids for services, compute nodes (2.53) and
migrations (2.59).

Left out on purpose: cells (``nova_api`` vs. cell databases), build requests,
request specs, per-user quotas
(``project_user_quotas``) and the dozens of rarely read columns.
A server's disks and volumes are its ``block_device_mapping`` rows (Nova's
table, without its encryption columns).
An instance keeps a JSON snapshot of its flavor, as Nova's ``instance_extra``
does, so resizing a flavor later never changes a running server.
"""

import uuid as uuid_lib
from datetime import datetime

from oslo_utils import timeutils
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TimestampMixin:
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=timeutils.utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, onupdate=timeutils.utcnow)


class Service(TimestampMixin, Base):
    """One running service: ``mininova-compute`` on ``host1``, and so on."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("host", "binary", name="uniq_services0host0binary"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What the API calls the service from microversion 2.53 (Nova gave
    # services uuids so that ids stay unique across cells).
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True,
                                             default=lambda: str(uuid_lib.uuid4()))
    host: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str | None] = mapped_column(String(255))
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    # The heartbeat: ServiceGroup compares it with service_down_time.
    last_seen_up: Mapped[datetime | None] = mapped_column(DateTime)
    forced_down: Mapped[bool] = mapped_column(Boolean, default=False)


class ComputeNode(TimestampMixin, Base):
    """A hypervisor's resources as the compute's resource tracker reported them."""

    __tablename__ = "compute_nodes"
    __table_args__ = (
        UniqueConstraint("host", "hypervisor_hostname", name="uniq_compute_nodes0host0node"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The hypervisor's id in the API from microversion 2.53.
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True,
                                             default=lambda: str(uuid_lib.uuid4()))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    host: Mapped[str] = mapped_column(String(255))
    hypervisor_hostname: Mapped[str] = mapped_column(String(255))
    hypervisor_type: Mapped[str] = mapped_column(String(255))
    hypervisor_version: Mapped[int] = mapped_column(Integer, default=0)
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    local_gb: Mapped[int] = mapped_column(Integer)
    vcpus_used: Mapped[int] = mapped_column(Integer, default=0)
    memory_mb_used: Mapped[int] = mapped_column(Integer, default=0)
    local_gb_used: Mapped[int] = mapped_column(Integer, default=0)
    free_ram_mb: Mapped[int] = mapped_column(Integer, default=0)
    free_disk_gb: Mapped[int] = mapped_column(Integer, default=0)
    # What the disk really has free, minus what thin disks may still take
    # (measured by the driver; free_disk_gb is counted from the flavors).
    disk_available_least: Mapped[int | None] = mapped_column(Integer)
    running_vms: Mapped[int] = mapped_column(Integer, default=0)
    cpu_info: Mapped[dict | None] = mapped_column(JSON)
    ram_allocation_ratio: Mapped[float] = mapped_column(Float)
    disk_allocation_ratio: Mapped[float] = mapped_column(Float)
    cpu_allocation_ratio: Mapped[float] = mapped_column(Float)
    # Whatever else the host reports (arch, hypervisor version...), for the
    # capabilities and image properties filters.
    stats: Mapped[dict | None] = mapped_column(JSON)


class Flavor(TimestampMixin, Base):
    """A size of server. ``flavorid`` is the id users see ("42" for m1.nano)."""

    __tablename__ = "flavors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavorid: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    memory_mb: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer, default=0)
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)


class FlavorProject(TimestampMixin, Base):
    """A project that may use a private flavor (Nova's ``flavor_projects``)."""

    __tablename__ = "flavor_projects"
    __table_args__ = (UniqueConstraint("flavor_id", "project_id",
                                       name="uniq_flavor_projects0flavor_id0project_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavor_id: Mapped[int] = mapped_column(ForeignKey("flavors.id", ondelete="CASCADE"),
                                           index=True)
    project_id: Mapped[str] = mapped_column(String(255))


class Instance(TimestampMixin, Base):
    """A server. ``id`` names the libvirt domain (``instance-%08x``)."""

    __tablename__ = "instances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    # The server's description (microversion 2.19).
    display_description: Mapped[str | None] = mapped_column(Text)
    hostname: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255), index=True)
    image_ref: Mapped[str | None] = mapped_column(String(255))
    flavor: Mapped[dict] = mapped_column(JSON)
    # During a resize: the flavor before and the one asked for, kept until
    # the user confirms (old_flavor dropped) or reverts (flavor restored).
    old_flavor: Mapped[dict | None] = mapped_column(JSON)
    new_flavor: Mapped[dict | None] = mapped_column(JSON)
    # Its ports as its compute last saw them (mininova/network/model.py):
    # Nova's instance_info_caches row, kept with the instance.
    network_info: Mapped[list | None] = mapped_column(JSON)
    # Its tagged devices and their guest addresses, as its compute's driver
    # last built them (mininova/virt/libvirt/device_metadata.py): Nova's
    # instance_extra.device_metadata, what the guest's meta_data.json lists
    # as "devices".
    device_metadata: Mapped[list | None] = mapped_column(JSON)
    # Where it runs: set by the compute's claim, not by the scheduler.
    host: Mapped[str | None] = mapped_column(String(255), index=True)
    node: Mapped[str | None] = mapped_column(String(255))
    launched_on: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    vm_state: Mapped[str | None] = mapped_column(String(255))
    task_state: Mapped[str | None] = mapped_column(String(255))
    power_state: Mapped[int | None] = mapped_column(Integer)
    launched_at: Mapped[datetime | None] = mapped_column(DateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(DateTime)
    key_name: Mapped[str | None] = mapped_column(String(255))
    # The key pair's public key as it was at boot (Nova's column of the
    # same name): the config drive gives it to the guest even if the user
    # deletes or replaces the key pair later.
    key_data: Mapped[str | None] = mapped_column(Text)
    user_data: Mapped[str | None] = mapped_column(Text)
    # ``metadata`` is taken by SQLAlchemy itself, hence the attribute name.
    user_metadata: Mapped[dict | None] = mapped_column("metadata", JSON)
    config_drive: Mapped[str | None] = mapped_column(String(255))
    launch_index: Mapped[int | None] = mapped_column(Integer)
    reservation_id: Mapped[str | None] = mapped_column(String(255))
    progress: Mapped[int | None] = mapped_column(Integer)
    # A locked server refuses actions from anyone but an admin (2.9, 2.73).
    # locked_by is "owner" or "admin": who may unlock it. Nova keeps the
    # reason in the instance's system_metadata, a table mininova has not.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(String(255))
    locked_reason: Mapped[str | None] = mapped_column(String(255))
    # Nova's soft delete: 0 while alive, the row id once deleted.
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)


class Migration(TimestampMixin, Base):
    """One resize or cold migration of an instance, source to destination.

    ``status`` goes pre-migrating → migrating → post-migrating → finished
    (VERIFY_RESIZE), then confirmed or reverted; error when a step fails.
    While it is unfinished, both hosts' resource trackers count it.
    """

    __tablename__ = "migrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Shown next to the id from microversion 2.59.
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True,
                                             default=lambda: str(uuid_lib.uuid4()))
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    migration_type: Mapped[str] = mapped_column(String(255))  # "resize" | "migration"
    status: Mapped[str] = mapped_column(String(255))
    source_compute: Mapped[str | None] = mapped_column(String(255))
    source_node: Mapped[str | None] = mapped_column(String(255))
    dest_compute: Mapped[str | None] = mapped_column(String(255))
    dest_node: Mapped[str | None] = mapped_column(String(255))
    old_instance_type_id: Mapped[int | None] = mapped_column(Integer)
    new_instance_type_id: Mapped[int | None] = mapped_column(Integer)
    # active or stopped before the move: the state to come back to (Nova
    # keeps it in the instance's system_metadata).
    old_vm_state: Mapped[str | None] = mapped_column(String(255))


class Tag(Base):
    """A server's tag (microversion 2.26): a short string, at most 50 per
    server. Nova's table has the same name and key: (resource_id, tag)."""

    __tablename__ = "tags"

    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)


class InstanceFault(Base):
    """Why an instance went wrong: shown on the server in ERROR."""

    __tablename__ = "instance_faults"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    code: Mapped[int] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=timeutils.utcnow)


class InstanceAction(TimestampMixin, Base):
    """One user request on an instance (create, delete, stop, ...)."""

    __tablename__ = "instance_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(255))
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    request_id: Mapped[str | None] = mapped_column(String(255), index=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255))
    start_time: Mapped[datetime | None] = mapped_column(DateTime, default=timeutils.utcnow)
    finish_time: Mapped[datetime | None] = mapped_column(DateTime)
    message: Mapped[str | None] = mapped_column(String(255))


class InstanceActionEvent(TimestampMixin, Base):
    """One step of an action, e.g. ``compute__do_build_and_run_instance``."""

    __tablename__ = "instance_actions_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("instance_actions.id"), index=True)
    event: Mapped[str] = mapped_column(String(255))
    start_time: Mapped[datetime | None] = mapped_column(DateTime, default=timeutils.utcnow)
    finish_time: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[str | None] = mapped_column(String(255))
    traceback: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))


# --- scheduling: flavor extra specs, aggregates, server groups, decisions --

class FlavorExtraSpec(Base):
    """``capabilities:cpu_arch=x86_64`` and the like, read by the
    ComputeCapabilitiesFilter."""

    __tablename__ = "flavor_extra_specs"
    __table_args__ = (UniqueConstraint("flavor_id", "key", name="uniq_flavor_extra_specs0key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flavor_id: Mapped[int] = mapped_column(ForeignKey("flavors.id", ondelete="CASCADE"),
                                           index=True)
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str | None] = mapped_column(String(255))


class Aggregate(TimestampMixin, Base):
    """A named group of compute hosts with metadata; the metadata key
    ``availability_zone`` puts its hosts in that zone."""

    __tablename__ = "aggregates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class AggregateHost(Base):
    __tablename__ = "aggregate_hosts"
    __table_args__ = (UniqueConstraint("aggregate_id", "host", name="uniq_aggregate_hosts0host"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregate_id: Mapped[int] = mapped_column(ForeignKey("aggregates.id", ondelete="CASCADE"),
                                              index=True)
    host: Mapped[str] = mapped_column(String(255))


class AggregateMetadata(Base):
    __tablename__ = "aggregate_metadata"
    __table_args__ = (UniqueConstraint("aggregate_id", "key",
                                       name="uniq_aggregate_metadata0key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregate_id: Mapped[int] = mapped_column(ForeignKey("aggregates.id", ondelete="CASCADE"),
                                              index=True)
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))


class InstanceGroup(TimestampMixin, Base):
    """A server group: its members must share a host (affinity) or never
    share one (anti-affinity)."""

    __tablename__ = "instance_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255), index=True)
    policy: Mapped[str] = mapped_column(String(255))
    # {"max_server_per_host": N} for anti-affinity (microversion 2.64).
    rules: Mapped[dict | None] = mapped_column(JSON)


class InstanceGroupMember(TimestampMixin, Base):
    __tablename__ = "instance_group_member"
    __table_args__ = (UniqueConstraint("group_id", "instance_uuid",
                                       name="uniq_instance_group_member0instance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("instance_groups.id", ondelete="CASCADE"),
                                          index=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)


class SchedulingDecision(Base):
    """What the scheduler saw and decided for one instance in one attempt:
    every filter's verdict on every host, the weights and the choice.
    Nova keeps none of this; mininova keeps it to explain NoValidHost."""

    __tablename__ = "scheduling_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    request_id: Mapped[str | None] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=timeutils.utcnow)
    # [[host, node], ...]: every host the filters started from
    hosts: Mapped[list] = mapped_column(JSON)
    # [{"name", "start", "end", "verdicts": [{"host", "node", "passed", "reason"}]}];
    # verdicts list the hosts the filter removed
    filters: Mapped[list] = mapped_column(JSON)
    # [{"host", "node", "weight", "parts": {weigher: [raw, weighted]}}], best first
    weights: Mapped[list] = mapped_column(JSON)
    selected_host: Mapped[str | None] = mapped_column(String(255))
    selected_node: Mapped[str | None] = mapped_column(String(255))


# --- key pairs and quotas ---------------------------------------------------------------

class KeyPair(TimestampMixin, Base):
    """An SSH public key (or an x509 certificate) of one user, by name."""

    __tablename__ = "key_pairs"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uniq_key_pairs0user_id0name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    fingerprint: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(255), default="ssh")


class Quota(TimestampMixin, Base):
    """One project's own limit of one resource, set by an admin; a resource
    without a row here has the default (quota class ``default``, else the
    ``[quota]`` option)."""

    __tablename__ = "quotas"
    __table_args__ = (UniqueConstraint("project_id", "resource",
                                       name="uniq_quotas0project_id0resource"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaClass(TimestampMixin, Base):
    """A named set of limits. Only the class ``default`` is used: its rows
    replace the ``[quota]`` options as every project's default."""

    __tablename__ = "quota_classes"
    __table_args__ = (UniqueConstraint("class_name", "resource",
                                       name="uniq_quota_classes0class_name0resource"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_name: Mapped[str] = mapped_column(String(255), index=True)
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


# --- block devices ----------------------------------------------------------------------

class BlockDeviceMapping(TimestampMixin, Base):
    """One disk of a server, as ``block_device_mapping_v2`` asked for it:
    where its data comes from (``source_type`` image, snapshot, volume,
    blank) and where it lives (``destination_type`` local: a file in the
    instance directory; volume: a volume of the volume service). Soft-deleted
    as the instance is. ``connection_info`` is the volume attachment's, as
    JSON text (the dicts of ``mininova/db/block_devices.py`` carry it
    decoded). Nova's encryption columns are left out: no encrypted volumes.
    No foreign key to ``instances``: the API removes the rows of a refused
    request itself (``bdm_purge_by_instances``)."""

    __tablename__ = "block_device_mapping"
    __table_args__ = (
        Index("block_device_mapping_instance_uuid_idx", "instance_uuid"),
        Index("block_device_mapping_instance_uuid_volume_id_idx", "instance_uuid", "volume_id"),
        Index("volume_id", "volume_id"),
        UniqueConstraint("uuid", name="uniq_block_device_mapping0uuid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The mapping's own uuid (not the image's, volume's or snapshot's).
    uuid: Mapped[str | None] = mapped_column(String(36),
                                             default=lambda: str(uuid_lib.uuid4()))
    instance_uuid: Mapped[str] = mapped_column(String(36))
    source_type: Mapped[str | None] = mapped_column(String(255))
    destination_type: Mapped[str | None] = mapped_column(String(255))
    guest_format: Mapped[str | None] = mapped_column(String(255))
    device_type: Mapped[str | None] = mapped_column(String(255))
    disk_bus: Mapped[str | None] = mapped_column(String(255))
    # 0 is the boot disk; None a disk the guest does not boot from.
    boot_index: Mapped[int | None] = mapped_column(Integer)
    # /dev/vdX, chosen by the compute unless the user gave one.
    device_name: Mapped[str | None] = mapped_column(String(255))
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    volume_id: Mapped[str | None] = mapped_column(String(36))
    volume_size: Mapped[int | None] = mapped_column(Integer)
    volume_type: Mapped[str | None] = mapped_column(String(255))
    image_id: Mapped[str | None] = mapped_column(String(36))
    no_device: Mapped[bool | None] = mapped_column(Boolean)
    connection_info: Mapped[str | None] = mapped_column(Text)
    tag: Mapped[str | None] = mapped_column(String(255))
    attachment_id: Mapped[str | None] = mapped_column(String(36))
    # Nova's soft delete: 0 while in use, the row id once deleted.
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
