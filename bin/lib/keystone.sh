# The real OpenStack Keystone for mininova: the steps of bin/mininova-quickstart,
# bin/run-tests and bin/mininova-services that concern it.
#
# Sourced, not run (common.sh sources it). The work itself is done by
# keystone_setup.py beside this file, run with the Python of Keystone's own
# virtualenv; the integration tests' throw-away Keystone runs the same
# commands (tests/integration/keystone.py), so there is one bootstrap.
#
# Where things are:
#   $REPO/.venv-keystone        keystone, gunicorn, the openstack command
#   $CONF_DIR/keystone.conf     written once; fernet and credential keys in $CONF_DIR/keystone/
#   $CONF_DIR/passwords         generated once, root only
#   $CONF_DIR/openrc, clouds.yaml   for the OpenStack clients
#   $STATE_PATH/keystone.sqlite     unless mininova.conf names PostgreSQL or MariaDB
#   $LOG_DIR/keystone.log
#
# shellcheck shell=bash

: "${REPO:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# In the repository, beside .venv, not in /opt: every clone (CI's fresh one,
# each developer's worktree) gets its own, so two never pip-install into one
# venv at the same time, and deleting the clone removes it.
KEYSTONE_VENV="$REPO/.venv-keystone"
KEYSTONE_REQUIREMENTS="$REPO/bin/lib/keystone-requirements.txt"
KEYSTONE_SETUP="$REPO/bin/lib/keystone_setup.py"
# Keystone's usual port; it listens on every address, as mininova-api does.
KEYSTONE_PORT=${KEYSTONE_PORT:-5000}
# shellcheck disable=SC2034  # used by bin/mininova-services
KEYSTONE_LISTEN=0.0.0.0
# The host that the catalog, openrc and clouds.yaml name. 127.0.0.1 suits
# clients on this machine (CI); set SERVICE_HOST to this machine's address
# for clients elsewhere (each run moves the endpoints to the current value).
SERVICE_HOST=${SERVICE_HOST:-127.0.0.1}
KEYSTONE_URL="http://$SERVICE_HOST:$KEYSTONE_PORT/v3"

keystone_setup() {
    "$KEYSTONE_VENV/bin/python" "$KEYSTONE_SETUP" "$@"
}

# Install (again) only when the requirements changed since the last install.
setup_keystone_venv() {
    local stamp="$KEYSTONE_VENV/.installed"
    if [[ -f $stamp && ! $KEYSTONE_REQUIREMENTS -nt $stamp ]]; then
        echo "$KEYSTONE_VENV is up to date"
        return
    fi
    say "Installing Keystone, gunicorn and the openstack command in $KEYSTONE_VENV"
    [[ -x $KEYSTONE_VENV/bin/python ]] || python3 -m venv "$KEYSTONE_VENV"
    "$KEYSTONE_VENV/bin/pip" install -q -r "$KEYSTONE_REQUIREMENTS"
    touch "$stamp"
}

# Installing Keystone takes ~30 s of downloads and unpacking that nothing
# else waits for until Keystone starts: run it beside the rest. Its output
# goes to a log; wait_for_keystone_job shows it if the job failed.
keystone_in_background() {
    KEYSTONE_JOB_LOG=$1
    shift
    mkdir -p "$(dirname "$KEYSTONE_JOB_LOG")"
    say "In the background: $* (log: $KEYSTONE_JOB_LOG)"
    KEYSTONE_JOB_START=$SECONDS
    # Job control on for this one job: it gets a process group of its own,
    # so that the trap can stop pip and all if this script ends first.
    set -m
    ("$@") >"$KEYSTONE_JOB_LOG" 2>&1 </dev/null &
    KEYSTONE_JOB_PID=$!
    set +m
    trap 'kill -- -"$KEYSTONE_JOB_PID" 2>/dev/null || true' EXIT
}

wait_for_keystone_job() {
    if ! wait "$KEYSTONE_JOB_PID"; then
        trap - EXIT
        tail -n 30 "$KEYSTONE_JOB_LOG" >&2
        die "the Keystone set-up failed; its whole log: $KEYSTONE_JOB_LOG"
    fi
    trap - EXIT
    say "Keystone set-up finished ($((SECONDS - KEYSTONE_JOB_START)) s, in the background)"
}

# Everything Keystone needs before it can run: its venv, the passwords,
# keystone.conf (its database beside mininova's, as mininova.conf names it),
# the schema, the fernet and credential keys, and keystone-manage bootstrap
# (admin, the roles, RegionOne, the identity endpoint). Needs no server.
prepare_keystone() {
    setup_keystone_venv
    keystone_setup passwords "$CONF_DIR/passwords"
    keystone_setup configure --conf "$CONF_DIR/keystone.conf" --state-dir "$STATE_PATH" \
        --log-dir "$LOG_DIR" --mininova-conf "$CONF_DIR/mininova.conf"
    keystone_setup init --conf "$CONF_DIR/keystone.conf" --passwords "$CONF_DIR/passwords" \
        --public-url "$KEYSTONE_URL"
}

# What the quickstart runs in the background: all of the above, then
# Keystone (re)started and bootstrapped. Nothing of mininova's needs
# Keystone yet, so all of it overlaps with the rest of the quickstart.
setup_and_start_keystone() {
    prepare_keystone
    MININOVA_CONF_DIR="$CONF_DIR" MININOVA_LOG_DIR="$LOG_DIR" \
        "$REPO/bin/mininova-services" restart keystone
    bootstrap_keystone
}

# With Keystone running: demo, the service project and users, the catalog
# (compute, image), then openrc and clouds.yaml, and the openstack command.
bootstrap_keystone() {
    say "Bootstrapping Keystone: users, projects, roles, the catalog"
    keystone_setup bootstrap --auth-url "$KEYSTONE_URL" --passwords "$CONF_DIR/passwords" \
        --host "$SERVICE_HOST"
    keystone_setup client-config --dir "$CONF_DIR" --auth-url "$KEYSTONE_URL" \
        --passwords "$CONF_DIR/passwords"
    link_clouds_yaml
    link_openstack_command
}

# The one call a new service needs to be in the catalog, with its service
# user: keystone_add_service network; keystone_add_service block-storage
# (also volumev3); an optional URL after the type replaces the usual one.
keystone_add_service() {
    keystone_setup add-service --auth-url "$KEYSTONE_URL" --passwords "$CONF_DIR/passwords" \
        --host "$SERVICE_HOST" "$@"
}

# Where every OpenStack client looks for clouds.yaml without being told
# (openstack --os-cloud mininova-admin, openstacksdk, gophercloud); never
# replacing one that is not ours.
link_clouds_yaml() {
    local link=/etc/openstack/clouds.yaml
    mkdir -p /etc/openstack
    if [[ -e $link || -L $link ]] && [[ $(readlink "$link") != "$CONF_DIR/clouds.yaml" ]]; then
        echo "keeping $link (not ours); ours is $CONF_DIR/clouds.yaml"
    else
        ln -sf "$CONF_DIR/clouds.yaml" "$link"
    fi
}

# Never replace an openstack command that is not ours.
link_openstack_command() {
    local link=/usr/local/bin/openstack
    if [[ -e $link || -L $link ]] && [[ $(readlink "$link") != "$KEYSTONE_VENV"/* ]]; then
        echo "keeping $link (not ours); ours is $KEYSTONE_VENV/bin/openstack"
    else
        ln -sf "$KEYSTONE_VENV/bin/openstack" "$link"
    fi
}
