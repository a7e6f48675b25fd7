"""Command-line and config-file parsing, logging set-up (mirrors ``nova/config.py``).

Every daemon calls :func:`parse_args` then :func:`setup_logging` before doing
anything else, so options and the log format are in place for every module.
"""

from oslo_log import log

from mininova.conf import CONF

DEFAULT_CONFIG_FILES = ["/etc/mininova/mininova.conf"]


def parse_args(argv, default_config_files=None):
    """Parse ``argv[1:]`` and the config files into the global CONF."""
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
