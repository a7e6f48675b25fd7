# Shared set-up steps of bin/mininova-quickstart and bin/run-tests.
#
# Sourced, not run. Every step checks first and does nothing when the thing
# is already there, so both scripts are safe to run again and again. Works
# with and without systemd (containers and CI runners often have none).
#
# shellcheck shell=bash
# The package lists below are used by the scripts that source this file.
# shellcheck disable=SC2034

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO/.venv"

# What a virtualenv needs. Installed before the rest, so that Keystone's
# venv can be made in the background while the rest installs, and no later
# apt step changes the Python it is being built from.
PYTHON_PACKAGES=(python3 python3-venv python3-dev)
# What mininova needs on the host, as Debian/Ubuntu packages.
RUNTIME_PACKAGES=(
    "${PYTHON_PACKAGES[@]}" gcc pkg-config            # the venv, libvirt-python's build
    libvirt-dev libvirt-daemon-system libvirt-clients  # libvirtd and virsh
    qemu-system-x86 qemu-utils                         # the hypervisor, qemu-img,
                                                       # qemu-storage-daemon (NBD exports)
    rabbitmq-server                                    # the message broker
    busybox-static syslinux syslinux-common mtools fdisk cpio zstd xz-utils kmod gzip
                                                       # tools/build-tiny-image
    binutils                                           # readelf: the image's libraries
    genisoimage iproute2 procps curl                   # config drives, networking, checks
    dnsmasq-base dnsmasq-utils iptables                # mininova-network: DHCP (dhcp_release:
                                                       # a deleted port's lease), isolation
    openssh-client                                     # ssh into guests (tools/check-tiny-image)
)
# What the integration tests need on top: real PostgreSQL and MariaDB, and
# sshd for the simulated compute hosts' disk moves (in test_multihost.py the
# compute role starts one in each host's namespaces; installed here, so that
# the role finds it there and installs nothing from inside a host).
TEST_PACKAGES=(postgresql mariadb-server openssh-server)

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

need_root() {
    [[ $(id -u) -eq 0 ]] || die "run me as root (sudo $0): I install packages and start libvirtd"
}

have_systemd() { [[ -d /run/systemd/system ]]; }

install_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        say "Installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # Once per run, however many times we are called.
        if [[ -z ${APT_UPDATED:-} ]]; then
            apt-get update -q
            APT_UPDATED=1
        fi
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

# Debian's udev rule makes /dev/kvm root:kvm 0660, and libvirt's QEMU user is
# in group kvm. Where no udev ran (containers), /dev/kvm may be root-only:
# libvirtd then decides on every call that its cached QEMU capabilities are
# stale ("KVM was enabled when probing ... but it is not available now") and
# re-probes QEMU, which turns each domain start into many seconds.
fix_kvm_permissions() {
    if [[ -c /dev/kvm ]] && [[ $(stat -c %G /dev/kvm) != kvm ]] && getent group kvm >/dev/null; then
        say "Giving /dev/kvm Debian's usual owner (root:kvm 0660)"
        chgrp kvm /dev/kvm
        chmod 0660 /dev/kvm
    fi
}

# /tmp must be world-writable with the sticky bit (1777) on any Linux system.
# Some container images ship it 0755: then MariaDB (running as mysql) cannot
# create its temporary tables and apt's sandbox user cannot write either.
fix_tmp_permissions() {
    if [[ $(stat -c %a /tmp) != 1777 ]]; then
        say "Restoring the standard mode of /tmp (1777; it was $(stat -c %a /tmp))"
        chmod 1777 /tmp
    fi
}

# A daemon of this host runs when the pid file it wrote names a live
# process. Not pgrep: a process of that name may belong to another host
# sharing the PID namespace (a container's, or the simulated hosts of
# tests/integration/simulated_hosts.py, each with a /run of its own).
running_from_pid_file() {
    local pid
    [[ -r $1 ]] && pid=$(<"$1") && [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

start_libvirtd() {
    if virsh -c qemu:///system version >/dev/null 2>&1; then
        return
    fi
    say "Starting virtlogd and libvirtd"
    if have_systemd; then
        systemctl start virtlogd libvirtd
    else
        # Their default pid files (-d without -p).
        running_from_pid_file /run/virtlogd.pid || virtlogd -d
        running_from_pid_file /run/libvirtd.pid || libvirtd -d
    fi
    wait_for "libvirtd" 30 virsh -c qemu:///system version
}

# Not pgrep (see running_from_pid_file): rabbitmqctl asks the node that
# /etc/rabbitmq names (rabbit@<host>) through epmd at that host's address,
# in this host's own network namespace, so a broker of another host in a
# shared PID namespace (the simulated controller of test_multihost.py has
# a network namespace of its own; the machine's broker is beside it) is
# never taken for ours, and no pid file is needed.
start_rabbitmq() {
    if rabbitmqctl -q status >/dev/null 2>&1; then
        return
    fi
    say "Starting RabbitMQ"
    if have_systemd; then
        systemctl start rabbitmq-server
    else
        rabbitmq-server -detached
    fi
    wait_for "RabbitMQ" 120 rabbitmqctl -q await_startup
}

start_postgresql() {
    if pg_isready -q -h 127.0.0.1 2>/dev/null; then
        return
    fi
    say "Starting PostgreSQL"
    if have_systemd; then
        systemctl start postgresql
    else
        # shellcheck disable=SC2012  # the directories are version numbers
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    fi
    wait_for "PostgreSQL" 60 pg_isready -q -h 127.0.0.1
}

start_mariadb() {
    if mysqladmin -uroot -h127.0.0.1 ping >/dev/null 2>&1; then
        return
    fi
    say "Starting MariaDB"
    if have_systemd; then
        systemctl start mariadb
    else
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    fi
    wait_for "MariaDB" 60 mysqladmin -uroot -h127.0.0.1 ping
}

# The tests connect as postgres over TCP without a password, and as MariaDB's
# root without one: the defaults of a throw-away test machine. Where the
# server asks for passwords, MININOVA_TEST_POSTGRES_URL and
# MININOVA_TEST_MYSQL_URL name a server and user the tests may use instead.
check_test_databases() {
    [[ -n "${MININOVA_TEST_POSTGRES_URL:-}" ]] \
        || psql -h 127.0.0.1 -U postgres -Atc 'select 1' >/dev/null 2>&1 \
        || die "cannot connect to PostgreSQL as postgres@127.0.0.1 without a password; set MININOVA_TEST_POSTGRES_URL"
    [[ -n "${MININOVA_TEST_MYSQL_URL:-}" ]] \
        || mysql -uroot -h127.0.0.1 -e 'select 1' >/dev/null 2>&1 \
        || die "cannot connect to MariaDB as root@127.0.0.1 without a password; set MININOVA_TEST_MYSQL_URL"
}

wait_for() {
    local what=$1 seconds=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "$what did not come up within ${seconds}s"
        sleep 1
    done
}

setup_venv() {
    local extras=$1
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "Creating the Python environment in $VENV"
        python3 -m venv "$VENV"
    fi
    # Re-install only when setup.cfg changed since the last install.
    local stamp="$VENV/.installed-$extras"
    if ! venv_has_extras "$extras"; then
        say "Installing mininova and its Python dependencies"
        "$VENV/bin/pip" install -q --upgrade pip
        "$VENV/bin/pip" install -q -e "${REPO}${extras:+[$extras]}"
        touch "$stamp"
    fi
}

# An install newer than setup.cfg with at least these extras (comma
# separated; "" for none): a venv set up with "test" or "postgresql,mysql"
# serves a compute's "" as well, and "test" (which has both database
# drivers) a controller's "postgresql,mysql", so a role run on a machine
# where bin/run-tests or another role installed it re-installs nothing
# (nor pip-installs into the venv tests are running from).
venv_has_extras() {
    local wanted=$1 stamp have extra
    local -a extras
    IFS=, read -ra extras <<<"$wanted"
    for stamp in "$VENV"/.installed-*; do
        [[ -f $stamp && ! $REPO/setup.cfg -nt $stamp ]] || continue
        have=",${stamp##*/.installed-},"
        # setup.cfg's test extra lists both database drivers too.
        [[ $have == *,test,* ]] && have+="postgresql,mysql,"
        for extra in "${extras[@]}"; do
            [[ $have == *",$extra,"* ]] || continue 2
        done
        return 0
    done
    return 1
}

build_tiny_image() {
    say "Building the tiny test image (once; cached in build/)"
    "$REPO/tools/build-tiny-image"
}

# Keystone's steps (its venv, configuration, bootstrap): bin/lib/keystone.sh.
# shellcheck source=bin/lib/keystone.sh
source "$REPO/bin/lib/keystone.sh"
