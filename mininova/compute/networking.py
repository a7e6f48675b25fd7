"""The compute manager's networking steps (mirrors the network parts of
``nova/compute/manager.py``: ``_allocate_network_async``,
``_cleanup_allocated_networks``, ``_deallocate_network``).

While the instance is in task_state ``networking``, its ports are made and
bound to this host *in the background* (Nova's words in the log:
``Allocating IP information in the background.``): the build goes on with
its block devices and waits for the ports only when the driver needs them.
A build that fails, is rescheduled, or is deleted under it gives every port
back, so no port stays bound to a host that has no guest for it.

The network info is cached on the instance (its ``network_info``), which
the API shows as ``addresses`` and the driver reads to plug the VIFs.

With ``[neutron] enabled`` off (the embedded mode) instances get no ports.
"""

from concurrent import futures

from oslo_log import log as logging

from mininova.conf import CONF
from mininova.network import neutron

LOG = logging.getLogger(__name__)


class NetworkingMixin:
    _network_api = None
    _network_pool = None

    @property
    def network_api(self):
        if self._network_api is None:
            self._network_api = neutron.API()
        return self._network_api

    def _allocate_network_async(self, context, instance, request_spec):
        """A future of the instance's network info (a list of VIFs)."""
        if not CONF.neutron.enabled:
            done = futures.Future()
            done.set_result([])
            return done
        if self._network_pool is None:
            self._network_pool = futures.ThreadPoolExecutor(
                max_workers=CONF.max_concurrent_builds, thread_name_prefix="network")
        requested = (request_spec or {}).get("requested_networks")
        return self._network_pool.submit(
            self._with_context, context, self.network_api.allocate_for_instance,
            context, instance, requested, self.host)

    @staticmethod
    def _with_context(context, function, *args):
        # The pool's thread logs under the build's request id too.
        context.update_store()
        return function(*args)

    def _save_network_info(self, context, instance, network_info):
        return self._update(context, instance, network_info=network_info)

    def _deallocate_network(self, context, instance, allocation=None):
        """Give the instance's ports back: those of ``allocation`` (a build's
        future, waited for) or else those cached on the instance."""
        network_info = instance.get("network_info") or []
        if allocation is not None:
            try:
                network_info = allocation.result()
            except Exception:
                return  # the allocation gave back what it had made itself
        if not network_info:
            return
        LOG.debug("Deallocating network for instance", instance=instance)
        self.network_api.deallocate_for_instance(context, instance, network_info)
