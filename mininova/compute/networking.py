"""The compute manager's networking steps (mirrors the network parts of
``nova/compute/manager.py``: ``_allocate_network_async``,
``_cleanup_allocated_networks``, ``_deallocate_network``).

While the instance is in task_state ``networking``, its ports are made and
bound to this host *in the background* (Nova's words in the log:
``Allocating IP information in the background.``): the build goes on with
its block devices, and the driver with the disks, and waits for the ports
only when it plugs them and writes the domain XML
(``network.model.NetworkInfoAsyncWrapper``).
A build that fails, is rescheduled, or is deleted under it gives every port
back, so no port stays bound to a host that has no guest for it.

The network info is cached on the instance (its ``network_info``), which
the API shows as ``addresses`` and the driver reads to plug the VIFs.

With ``[neutron] enabled`` off (the embedded mode) instances get no ports.
"""

from concurrent import futures

from oslo_concurrency import lockutils
from oslo_log import log as logging

from mininova import exception
from mininova.compute import utils as compute_utils
from mininova.conf import CONF
from mininova.network import neutron

LOG = logging.getLogger(__name__)


def _refresh_cache_lock(instance_uuid):
    """Nova's lock around every write of an instance's network info cache."""
    return lockutils.lock(f"refresh_cache-{instance_uuid}")


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
            self._with_context, context, self._allocate_network, context, instance, requested)

    def _allocate_network(self, context, instance, requested_networks):
        """In the network pool: make and bind the ports, then record them on
        the instance before the driver sees them (Nova's allocation fills
        the info cache itself), so that a build that dies later leaves them
        known to the delete. A record that fails gives the ports back: the
        build's cleanup finds only the failure.

        All of it under the instance's ``refresh_cache`` lock, as Nova's
        ``allocate_for_instance`` builds and saves its network info: the
        ``network-changed`` that binding a port brings then refreshes the
        cache after the allocation has written it, instead of holding the
        lock (three reads of the network service) while the build waits
        for its ports to be saved."""
        with _refresh_cache_lock(instance["uuid"]):
            network_info = self.network_api.allocate_for_instance(
                context, instance, requested_networks, self.host)
            if not network_info:
                return network_info  # nothing to record: a round trip less
            try:
                # Not _update: the build's own thread owns the instance dict.
                self.conductor_api.instance_update(context, instance["uuid"],
                                                   {"network_info": network_info})
            except Exception:
                self.network_api.deallocate_for_instance(context, instance, network_info)
                raise
            return network_info

    def _refresh_vif(self, context, instance, port_id):
        """A ``network-changed`` event: read the port again into the cached
        network info. Under the lock the allocation holds until it has
        saved, so that a refresh cannot read the cache before that save
        and write back a list without the ports it recorded."""
        if not CONF.neutron.enabled:
            return
        with _refresh_cache_lock(instance["uuid"]):
            current = self.conductor_api.instance_get_by_uuid(context, instance["uuid"])
            cached = current.get("network_info") or []
            refreshed = self.network_api.refresh_vif(context, current, port_id, cached)
            if refreshed != cached:
                self.conductor_api.instance_update(context, instance["uuid"],
                                                   {"network_info": refreshed})

    @staticmethod
    def _with_context(context, function, *args):
        # The pool's thread logs under the build's request id too.
        context.update_store()
        return function(*args)

    def _save_network_info(self, context, instance, network_info):
        """Record the ports before the guest is made, so that a build that
        dies half-way leaves them known to the delete. With none made and
        none recorded there is nothing to save: a round trip to the
        conductor less (Nova's empty info cache is not saved either)."""
        if not network_info and not instance.get("network_info"):
            return instance
        return self._update(context, instance, network_info=network_info)

    def _deallocate_network_quietly(self, context, instance, allocation=None):
        try:
            self._deallocate_network(context, instance, allocation)
        except Exception:
            LOG.exception("Failed to deallocate network for instance", instance=instance)

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

    def _bind_ports_here(self, context, instance):
        """A moved instance's ports follow it to this host (resize, cold
        migration, revert)."""
        if CONF.neutron.enabled and instance.get("network_info"):
            self.network_api.migrate_instance_finish(context, instance, self.host)

    # --- interfaces of a running guest (os-interface) -----------------------------------

    def attach_interface(self, context, instance, network_id, port_id, requested_ip):
        """A call from the API: bind a new (or the given) port to this host,
        plug it into the guest, and answer with its VIF."""
        with lockutils.lock(instance["uuid"]):
            with compute_utils.EventReporter(context, self.conductor_api,
                                             "compute_attach_interface", self.host,
                                             instance["uuid"]):
                vif = self.network_api.allocate_port_for_instance(
                    context, instance, self.host, network_id, port_id, requested_ip)
                try:
                    self.driver.attach_interface(context, instance, vif)
                except Exception as exc:
                    LOG.exception("Failed to attach network adapter device", instance=instance)
                    self.network_api.deallocate_for_instance(context, instance, [vif])
                    raise exception.InterfaceAttachFailed(
                        instance_uuid=instance["uuid"]) from exc
                network_info = [*(instance.get("network_info") or []), dict(vif, active=True)]
                self._save_network_info(context, instance, network_info)
                return vif

    def detach_interface(self, context, instance, port_id):
        """A cast from the API: take the port out of the guest, then give it
        back (deleted if it was made for the guest, unbound if the user's)."""
        with lockutils.lock(instance["uuid"]):
            with compute_utils.EventReporter(context, self.conductor_api,
                                             "compute_detach_interface", self.host,
                                             instance["uuid"]):
                fresh = self.conductor_api.instance_get_by_uuid(context, instance["uuid"])
                network_info = fresh.get("network_info") or []
                [vif] = [v for v in network_info if v["id"] == port_id] or [None]
                if vif is None:
                    LOG.warning("Detach interface failed, port_id=%s, reason: Port %s is "
                                "not attached", port_id, port_id, instance=instance)
                    return
                self.driver.detach_interface(context, fresh, vif)
                self._save_network_info(context, fresh,
                                        [v for v in network_info if v["id"] != port_id])
                self.network_api.deallocate_for_instance(context, fresh, [vif])
