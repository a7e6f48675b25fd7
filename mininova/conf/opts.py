"""Entry point for ``oslo-config-generator`` (mirrors ``nova/conf/opts.py``).

``etc/mininova/mininova-config-generator.conf`` names the namespace
``mininova.conf``; setup.cfg maps it to :func:`list_opts`, which gathers the
``list_opts()`` of every option module into ``[(group, [opts])]``.
"""

import collections

from mininova import conf


def list_opts():
    grouped = collections.defaultdict(list)
    for module in conf.ALL_MODULES:
        for group, opts in module.list_opts().items():
            grouped[group].extend(opts)
    return sorted(grouped.items(), key=lambda item: item[0])
