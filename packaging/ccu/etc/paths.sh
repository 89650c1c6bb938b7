# Paths of the CloudConnector add-on on a CCU, sourced by update_script and rc.d.
# Every path can be overridden through the environment (the package tests install into a
# scratch folder laid out like a CCU by setting CCU_ROOT). Plain POSIX sh: BusyBox ash on
# CCU3/RaspberryMatic, dash on debmatic/piVCCU.

ADDON_ID=cloudconnector
CCU_ROOT=${CCU_ROOT:-}
ADDONS_DIR=${CCU_ADDONS_DIR:-$CCU_ROOT/usr/local/addons}
ADDON_DIR=$ADDONS_DIR/$ADDON_ID
CONFIG_DIR=${CCU_CONFIG_DIR:-$CCU_ROOT/usr/local/etc/config}
RCD_DIR=$CONFIG_DIR/rc.d
STATE_DIR=$CONFIG_DIR/addons/$ADDON_ID
HM_ADDONS_CFG=$CONFIG_DIR/hm_addons.cfg
LIGHTTPD_DIR=${CCU_LIGHTTPD_DIR:-$CONFIG_DIR/lighttpd}
MONIT_DIR=${CCU_MONIT_DIR:-$CCU_ROOT/usr/local/etc}
RUN_DIR=${CCU_RUN_DIR:-$CCU_ROOT/var/run}
LOG_DIR=${CCU_LOG_DIR:-$CCU_ROOT/var/log}
SYSTEMD_DIR=${CCU_SYSTEMD_DIR:-$CCU_ROOT/etc/systemd/system}
LIGHTTPD_INIT=${CCU_LIGHTTPD_INIT:-$CCU_ROOT/etc/init.d/S50lighttpd}
MONIT=${CCU_MONIT:-$CCU_ROOT/usr/bin/monit}
LISTEN_PORT=${CCU_ADDON_LISTEN_PORT:-8181}

CONFIG_FILE=$STATE_DIR/addon.toml
PID_FILE=$RUN_DIR/$ADDON_ID.pid
LOG_FILE=$LOG_DIR/$ADDON_ID.log
LIGHTTPD_CONF=$LIGHTTPD_DIR/$ADDON_ID.conf
MONIT_CONF=$MONIT_DIR/monit-$ADDON_ID.cfg
SYSTEMD_UNIT=$SYSTEMD_DIR/$ADDON_ID.service

# What the add-on imports: h11 and wsproto always (its HTTP and the tunnel's WebSocket);
# cryptography (key pair, CSR) only while it enrols, which a new hub does first. The enrolled
# daemon does not load it.
PYTHON_IMPORTS="h11, wsproto, cryptography"
PYTHON_PACKAGES="python3-h11 python3-wsproto python3-cryptography"

# The interpreter: CCU_ADDON_PYTHON if set, else the newest python3.x >= 3.11 on PATH that
# can import what the add-on needs. Prints its path; fails when there is none.
find_python() {
    if [ -n "${CCU_ADDON_PYTHON:-}" ]; then
        candidates=$CCU_ADDON_PYTHON
    else
        candidates="python3.14 python3.13 python3.12 python3.11 python3"
    fi
    for candidate in $candidates; do
        path=$(command -v "$candidate" 2>/dev/null) || continue
        if "$path" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
            2>/dev/null && "$path" -c "import $PYTHON_IMPORTS" 2>/dev/null; then
            echo "$path"
            return 0
        fi
    done
    return 1
}

# True when this is a real systemd host (debmatic, piVCCU on Debian), not a test scratch root.
under_systemd() {
    [ -z "$CCU_ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

say() { echo "cloudconnector: $*"; }

# Whether the bundled runtime of architecture $1 (armhf, x86-64, aarch64) fits this hub's
# processor; says why not. ARMv6 (Raspberry Pi Zero/1) cannot run Debian's armhf programs.
check_runtime_arch() {
    machine=$(uname -m)
    case "$machine" in
        armv5* | armv6*)
            say "this hub has an ARMv6 processor ($machine: Raspberry Pi Zero or 1). The"
            say "add-on's Python needs ARMv7 or newer (Raspberry Pi 2 and later, CCU3); not supported."
            return 1
            ;;
    esac
    case "$1:$machine" in
        armhf:armv7* | armhf:armv8* | armhf:aarch64 | x86-64:x86_64 | aarch64:aarch64) return 0 ;;
    esac
    case "$machine" in
        x86_64) fits=x86-64 ;;
        aarch64) fits="armhf (or aarch64)" ;;
        armv7* | armv8*) fits=armhf ;;
        *) fits="none of ours" ;;
    esac
    say "this archive is for $1 hubs; this hub's processor is $machine."
    say "Install the archive for $fits instead (cloudconnector-<version>-<arch>-....tar.gz)."
    return 1
}

# The bundled runtime of architecture $1 does not start here ($2: what it said).
runtime_refused() {
    if [ "$1" = armhf ] && [ "$(uname -m)" = aarch64 ]; then
        say "this hub's 64-bit ARM system cannot run 32-bit ARM programs; install the archive"
        say "for aarch64 instead (cloudconnector-<version>-aarch64-....tar.gz)."
    else
        say "the add-on's own Python does not start on this hub ($(uname -m)): $2"
    fi
    say "Nothing was changed."
}
