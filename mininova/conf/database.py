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
]


def register_opts(conf):
    conf.register_group(database_group)
    conf.register_opts(database_opts, group=database_group)


def list_opts():
    return {database_group.name: database_opts}
