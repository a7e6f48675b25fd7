"""Command-line and config-file parsing, logging set-up (mirrors ``nova/config.py``).

Every daemon calls :func:`parse_args` then :func:`setup_logging` before doing
anything else, so options and the log format are in place for every module.
"""

from oslo_log import log

from mininova.conf import CONF

DEFAULT_CONFIG_FILES = ["/etc/mininova/mininova.conf"]

# Nova's (Queens/Rocky) line format: the request id, the user and the project
# in brackets, then ``[instance: <uuid>]`` when the line is about an instance.
CONTEXT_FORMAT = (
    "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s "
    "[%(request_id)s %(user_identity)s] %(instance)s%(message)s"
)

# Libraries whose chatter would drown the lines a student is looking for.
QUIET_LIBRARIES = [
    "amqp=WARN",
    "kombu=WARN",
    "waitress=WARN",
    "urllib3=WARN",
    "requests=WARN",
    "alembic=WARN",
    "sqlalchemy=WARN",
    "werkzeug=WARN",
]


# "admin admin - - -": user, project, then the (unused) domains, as Nova prints.
USER_IDENTITY_FORMAT = "%(user)s %(project)s %(domain)s %(user_domain)s %(project_domain)s"


def set_log_defaults():
    log.set_defaults(
        logging_context_format_string=CONTEXT_FORMAT,
        default_log_levels=log.get_default_log_levels() + QUIET_LIBRARIES,
    )
    CONF.set_default("logging_user_identity_format", USER_IDENTITY_FORMAT)


def parse_args(argv, default_config_files=None):
    """Parse ``argv[1:]`` and the config files into the global CONF."""
    set_log_defaults()
    if default_config_files is None:
        default_config_files = [f for f in DEFAULT_CONFIG_FILES if _readable(f)]
    CONF(
        argv[1:],
        project="mininova",
        default_config_files=default_config_files,
    )


def setup_logging(binary):
    """Log to ``$log_dir/<binary>.log`` (one file per service) or to stderr.

    oslo.log names the file after the running program; passing ``binary``
    keeps the name right when several services share one interpreter.
    """
    if CONF.log_dir and not CONF.log_file:
        CONF.set_override("log_file", f"{binary}.log")
    log.setup(CONF, "mininova")


def _readable(path):
    try:
        with open(path):
            return True
    except OSError:
        return False
