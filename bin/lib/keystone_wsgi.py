"""Keystone's WSGI application, as gunicorn loads it (``keystone_wsgi:application``).

Keystone reads its command line as its own options when it starts (oslo.config
parses ``sys.argv``). Under gunicorn, ``sys.argv`` is gunicorn's command line,
which Keystone would refuse ("unrecognized arguments: --bind ..."), so hide it
before Keystone is imported. Its configuration file comes from the environment
(``OS_KEYSTONE_CONFIG_FILES``, set by ``keystone_setup.py serve``).
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402  (after the line above)

__all__ = ["application"]
