"""RPC over a real RabbitMQ survives the broker going away: every service
reconnects by itself, and the cloud works again without a restart."""

import subprocess
import time

from tests.integration import deployment as dep

SERVICES = ("mininova-conductor", "mininova-scheduler", "mininova-compute", "mininova-api")


def restart_broker():
    """Stop and start the RabbitMQ application: every connection is cut."""
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, timeout=120)
    time.sleep(2)
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, timeout=120)
    subprocess.run(["rabbitmqctl", "-q", "await_startup"], check=True, timeout=120)


def wait_for_reconnects(cloud, services, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        missing = [s for s in services
                   if "Reconnected to AMQP server" not in cloud.log(s)]
        if not missing:
            return
        time.sleep(0.5)
    raise AssertionError(f"no reconnection logged by {missing}")


def test_services_reconnect_after_a_broker_restart(cloud):
    admin = cloud.client()
    image = dep.upload_tiny_image(admin)
    restart_broker()
    # The consumers (conductor, scheduler, compute; the API's reply queue
    # appears with its first call) log the outage and their return.
    wait_for_reconnects(cloud, ("mininova-conductor", "mininova-scheduler",
                                "mininova-compute"))
    assert "AMQP server on" in cloud.log("mininova-compute")
    server = admin.create_server("after-restart", image["id"], "42")
    dep.wait_for_status(admin, server["id"], "ACTIVE")
    admin.delete_server(server["id"])
    dep.wait_for_gone(admin, server["id"])
    assert cloud.domain_names() == []
