#!/usr/bin/env bash
# A node of the Vagrant lab (vagrant/Vagrantfile), as root in the guest:
#
#   provision.sh controller ADDRESS
#   provision.sh compute CONTROLLER_ADDRESS ADDRESS
#
# Installs the lab's SSH key for root (the private half, to fetch the
# bootstrap file from the controller and, for cold migration, to reach the
# other computes; the public half, so the others reach this node), names
# the nodes in /etc/hosts, then runs the role script of the synced repository:
# bin/mininova-quickstart --role controller|compute. A compute waits until the
# controller has written its bootstrap file (vagrant-libvirt brings the
# nodes up in parallel). Safe to run again (vagrant provision).
set -euo pipefail

REPO=/opt/mininova
KEY=/root/.ssh/mininova_lab
role=${1:?role: controller or compute}
controller=${2:?the controller address}
# This node's address on the lab's private network (the controller's own
# for the controller): the NAT interface Vagrant adds first is not it.
address=${3:-$controller}

install_lab_key() {
    install -d -m 700 /root/.ssh
    install -m 600 /tmp/mininova_lab "$KEY"
    install -m 644 /tmp/mininova_lab.pub "$KEY.pub"
    touch /root/.ssh/authorized_keys
    chmod 600 /root/.ssh/authorized_keys
    grep -qxF "$(cat "$KEY.pub")" /root/.ssh/authorized_keys \
        || cat "$KEY.pub" >>/root/.ssh/authorized_keys
    # The lab's nodes only: new host keys are taken on first contact.
    cat >/root/.ssh/config <<CONFIG
Host controller compute1 compute2 ${LAB_PREFIX:-192.168.56}.*
    IdentityFile $KEY
    StrictHostKeyChecking accept-new
CONFIG
}

name_the_nodes() {
    sed -i '/# mininova lab$/d' /etc/hosts
    local name
    for name in $LAB_NODES; do
        echo "${name#*=} ${name%%=*} # mininova lab" >>/etc/hosts
    done
}

wait_for_controller() {
    local deadline=$((SECONDS + ${LAB_CONTROLLER_WAIT:-3600}))
    echo "==> Waiting for the controller ($controller) to write its bootstrap file"
    until ssh -i "$KEY" -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=5 \
            "root@$controller" test -s /etc/mininova/compute-bootstrap.conf 2>/dev/null; do
        ((SECONDS < deadline)) || { echo "ERROR: the controller is not ready" >&2; exit 1; }
        sleep 10
    done
}

install_lab_key
name_the_nodes
case $role in
    controller)
        "$REPO/bin/mininova-quickstart" --role controller --address "$address" ;;
    compute)
        wait_for_controller
        "$REPO/bin/mininova-quickstart" --role compute --controller "$controller" \
            --address "$address" --host "$(hostname -s)" ;;
    *) echo "ERROR: role must be controller or compute" >&2; exit 2 ;;
esac
