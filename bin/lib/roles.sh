# The steps of bin/mininova-quickstart that only the controller and compute
# roles take (--role controller, --role compute): RabbitMQ opened to the
# computes, the bootstrap file a compute gets from its controller, and the
# compute host's own set-up. docs/multinode.md tells the whole story.
#
# Sourced, not run (after common.sh). Each step checks before it acts, so a
# role can be run again.
#
# shellcheck shell=bash
# shellcheck disable=SC2034  # the lists are used by bin/mininova-quickstart

# The RabbitMQ user of the computes (and of the controller's own services):
# guest only logs in from localhost (RabbitMQ's loopback_users).
RABBIT_USER=mininova
COMPUTE_BOOTSTRAP_NAME=compute-bootstrap.conf
COMPUTE_BOOTSTRAP_HELPER="$REPO/bin/lib/compute_bootstrap.py"
# The key the Vagrant lab installs on every node (vagrant/Vagrantfile): the
# compute fetches its bootstrap with it, and the computes reach each other.
LAB_SSH_KEY=/root/.ssh/mininova_lab

# What a compute host needs: no RabbitMQ, database, dnsmasq or image tools.
COMPUTE_PACKAGES=(
    "${PYTHON_PACKAGES[@]}" gcc pkg-config            # the venv, libvirt-python's build
    libvirt-dev libvirt-daemon-system libvirt-clients  # libvirtd and virsh
    qemu-system-x86 qemu-utils                         # the hypervisor, qemu-img
    genisoimage iproute2 procps curl iptables          # config drives, the bridges
    openssh-client openssh-server                      # the bootstrap, disk copies
)

# --- the controller ------------------------------------------------------------------

# Generated once, root only, like Keystone's passwords (hex: no quoting).
rabbit_password() {
    local file="$CONF_DIR/rabbitmq-password"
    if [[ ! -s $file ]]; then
        mkdir -p "$CONF_DIR"
        (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$file")
    fi
    cat "$file"
}

# Where RabbitMQ listens is its own configuration: a stock Debian RabbitMQ
# listens on every address already, and then nothing changes. Where it was
# told to listen on loopback only, ADDRESS is added (and 127.0.0.1 kept),
# which needs a restart. A controller on 127.0.0.1 (tests) changes nothing.
open_rabbitmq_listener() {
    if [[ $ADDRESS == 127.0.0.1 ]] || rabbitmq_listens_on "$ADDRESS"; then
        return
    fi
    local conf=/etc/rabbitmq/rabbitmq.conf
    say "RabbitMQ: listening on $ADDRESS:5672 too ($conf), then restarted"
    # Loopback kept: one listener there, the configuration's own if it has
    # one (two on the same address and port: the second cannot bind).
    grep -qE '^listeners\.tcp\.[^ =]+ *= *127\.0\.0\.1:5672 *$' "$conf" 2>/dev/null \
        || echo "listeners.tcp.mininova_loopback = 127.0.0.1:5672" >>"$conf"
    sed -i '/^listeners.tcp.mininova_controller/d' "$conf"
    echo "listeners.tcp.mininova_controller = $ADDRESS:5672" >>"$conf"
    if have_systemd; then
        systemctl restart rabbitmq-server
    else
        # shutdown, not stop: it returns once the Erlang VM has exited, so
        # the new node does not find the old one's name still taken.
        rabbitmqctl -q shutdown || true
        rabbitmq-server -detached
    fi
    wait_for "RabbitMQ" 120 rabbitmqctl -q await_startup
    rabbitmq_listens_on "$ADDRESS" || die "RabbitMQ does not listen on $ADDRESS:5672; see $conf"
}

rabbitmq_listens_on() {
    ss -Hltn "sport = :5672" | awk '{print $4}' | grep -qE "^(0\.0\.0\.0|\[::\]|\*|$1):5672$"
}

# The computes' user, with every right on the default vhost (as devstack's
# stackrabbit user); its password follows the file if someone changed it.
add_rabbit_user() {
    local password
    password=$(rabbit_password)
    if rabbitmqctl -q list_users | awk '{print $1}' | grep -qx "$RABBIT_USER"; then
        rabbitmqctl -q change_password "$RABBIT_USER" "$password" >/dev/null
    else
        say "RabbitMQ: adding the user $RABBIT_USER for the computes"
        rabbitmqctl -q add_user "$RABBIT_USER" "$password" >/dev/null
    fi
    rabbitmqctl -q set_permissions -p / "$RABBIT_USER" '.*' '.*' '.*'
}

# What a compute needs from this controller: the broker URL (with the
# password of $RABBIT_USER), Keystone's URL and the service user. Never
# the database's credentials.
write_compute_bootstrap() {
    say "Writing $CONF_DIR/$COMPUTE_BOOTSTRAP_NAME for the compute hosts"
    python3 "$COMPUTE_BOOTSTRAP_HELPER" controller-bootstrap \
        --file "$CONF_DIR/$COMPUTE_BOOTSTRAP_NAME" --transport-url "$(transport_url)" \
        --auth-url "$KEYSTONE_URL" --passwords "$CONF_DIR/passwords"
}

# --- a compute host -----------------------------------------------------------------

# The bootstrap file: given (--bootstrap FILE), or copied over SSH from the
# controller, as root, with the lab's key. BatchMode: never a password prompt.
fetch_compute_bootstrap() {
    local target="$CONF_DIR/$COMPUTE_BOOTSTRAP_NAME"
    mkdir -p "$CONF_DIR"
    if [[ -n $BOOTSTRAP ]]; then
        [[ -r $BOOTSTRAP ]] || die "cannot read the bootstrap file $BOOTSTRAP"
        if [[ $(realpath "$BOOTSTRAP") != $(realpath -m "$target") ]]; then
            install -m 600 "$BOOTSTRAP" "$target"
        fi
        return
    fi
    local key=${SSH_KEY:-}
    if [[ -z $key && -f $LAB_SSH_KEY ]]; then
        key=$LAB_SSH_KEY
    fi
    local ssh_options=(-o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10)
    if [[ -n $key ]]; then
        ssh_options+=(-i "$key")
    fi
    say "Fetching $COMPUTE_BOOTSTRAP_NAME from root@$CONTROLLER over SSH"
    # The controller's CONF_DIR is this one too (/etc/mininova): expanded here on purpose.
    # shellcheck disable=SC2029
    (umask 077; ssh "${ssh_options[@]}" "root@$CONTROLLER" cat "$CONF_DIR/$COMPUTE_BOOTSTRAP_NAME" \
        >"$target.new") \
        || die "could not fetch $CONF_DIR/$COMPUTE_BOOTSTRAP_NAME from root@$CONTROLLER (run --role controller there first; or copy it and give --bootstrap FILE)"
    mv "$target.new" "$target"
}

# mininova-compute.conf from the bootstrap and Keystone's catalog, and the
# service user's openrc for the mininova command on this host.
write_compute_config() {
    say "Writing $CONF_DIR/mininova-compute.conf (the controller's catalog)"
    local identity=()
    if [[ -n ${SSH_KEY:-} ]]; then
        identity=(--ssh-identity-file "$SSH_KEY")
    elif [[ -f $LAB_SSH_KEY ]]; then
        identity=(--ssh-identity-file "$LAB_SSH_KEY")
    fi
    "$VENV/bin/python" "$COMPUTE_BOOTSTRAP_HELPER" compute-config \
        --bootstrap "$CONF_DIR/$COMPUTE_BOOTSTRAP_NAME" --output "$CONF_DIR/mininova-compute.conf" \
        --openrc "$CONF_DIR/openrc-compute" --host "$COMPUTE_HOST" --my-ip "$ADDRESS" \
        "${identity[@]}" --state-path "$STATE_PATH" --log-dir "$LOG_DIR"
}

# Other computes copy a resized or migrated server's disk here with scp,
# which needs sshd's SFTP subsystem (Debian's sshd_config has it).
start_sshd() {
    # Debian's PidFile; this host's own sshd, whatever other sshd the PID
    # namespace shows (see running_from_pid_file).
    if running_from_pid_file /run/sshd.pid; then
        return
    fi
    say "Starting sshd (disk copies between computes)"
    if have_systemd; then
        systemctl start ssh
    else
        mkdir -p /run/sshd "$LOG_DIR"
        # No systemd, and often no syslog daemon either (containers): its
        # log (the logins of the other computes' disk copies) goes beside ours.
        /usr/sbin/sshd -E "$LOG_DIR/sshd.log"
    fi
}

# Up means: the conductor wrote this host's heartbeat and the API reports
# the service up (the same check as Nova's servicegroup).
wait_for_compute_service() {
    say "Waiting for mininova service-list to show mininova-compute on $COMPUTE_HOST up"
    # shellcheck source=/dev/null
    source "$CONF_DIR/openrc-compute"
    wait_for "mininova-compute on $COMPUTE_HOST" 120 \
        bash -c "mininova service-list | grep -E '\| *[a-z-]*compute *\| *$COMPUTE_HOST *\|.*\| *up *\|'"
    mininova service-list
}

# bin/mininova-services reads it to know which daemons this host runs.
record_role() {
    mkdir -p "$CONF_DIR"
    echo "$ROLE" >"$CONF_DIR/role"
}
