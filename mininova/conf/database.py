"""Database options (mirrors oslo.db's ``[database]`` group).

Only mininova-api, -conductor and -scheduler read this group. mininova-compute
must run without it: it reaches the database only through the conductor.
"""

from oslo_config import cfg

database_group = cfg.OptGroup("database", title="Database options")

database_opts = [
    cfg.StrOpt(
        "connection",
        secret=True,
        help="SQLAlchemy URL of the database, for example "
        "``sqlite:////var/lib/mininova/mininova.sqlite``, "
        "``postgresql+psycopg2://user@host/mininova`` or "
        "``mysql+pymysql://root@127.0.0.1/mininova``. Unset on compute hosts.",
    ),
    cfg.IntOpt(
        "sqlite_busy_timeout",
        default=30,
        min=1,
        help="Seconds a SQLite writer waits for another writer's lock before "
        "failing with 'database is locked'.",
    ),
    cfg.BoolOpt(
        "sqlite_synchronous",
        default=False,
        help="Whether every SQLite commit waits for the disk (PRAGMA synchronous "
        "= FULL). The default, False, is synchronous = NORMAL, the setting "
        "SQLite recommends for its write-ahead log (which mininova always "
        "uses): the database stays consistent through any crash, and a crash "
        "of mininova loses nothing; only a power loss or a crash of the host "
        "may take back the last commits. It saves an fsync per commit, and a "
        "boot makes about a dozen (each task_state save of the compute is "
        "one). oslo.db's option of the same name defaults to True (and turns "
        "the journal's syncs off entirely when False). PostgreSQL and MariaDB "
        "are not affected.",
    ),
]


def register_opts(conf):
    conf.register_group(database_group)
    conf.register_opts(database_opts, group=database_group)


def list_opts():
    return {database_group.name: database_opts}
