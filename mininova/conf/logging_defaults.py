"""mininova's defaults for oslo.log's options: Nova's line format.

Applied when ``mininova.conf`` is imported, so the daemons, the tools and
the generated ``mininova.conf.sample`` all show the same defaults.
"""

from oslo_config import cfg
from oslo_log import _options as oslo_log_options
from oslo_log import log

# Nova's (Queens/Rocky) line format: the request id, the user and the project
# in brackets, then ``[instance: <uuid>]`` when the line is about an instance.
CONTEXT_FORMAT = (
    "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s "
    "[%(request_id)s %(user_identity)s] %(instance)s%(message)s"
)

# "admin admin - - -": user, project, then the (unused) domains, as Nova prints.
USER_IDENTITY_FORMAT = "%(user)s %(project)s %(domain)s %(user_domain)s %(project_domain)s"

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


def apply(conf):
    log.register_options(conf)
    log.set_defaults(
        logging_context_format_string=CONTEXT_FORMAT,
        default_log_levels=log.get_default_log_levels() + QUIET_LIBRARIES,
    )
    # oslo.log's set_defaults() does not cover this option; set it on the
    # option itself so the generated sample shows it too.
    cfg.set_defaults(oslo_log_options.log_opts,
                     logging_user_identity_format=USER_IDENTITY_FORMAT)
