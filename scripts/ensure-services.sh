#!/usr/bin/env bash
# Make sure the services the test suite talks to answer on loopback:
# PostgreSQL on 127.0.0.1:5432, Mosquitto on 127.0.0.1:1883, Debian's haproxy (binary only, for
# the gateway-cluster tests), and Debian's chromium for
# browser tests, and qemu-user-static registered with binfmt_misc (the add-on's armhf archive
# runs in a bare hub root under emulation; without it those tests skip and say why). Uses them when running, starts them when installed but stopped, and installs
# them with apt-get when missing (needs root). Idempotent; prints what it did.
set -euo pipefail

say() { printf 'ensure-services: %s\n' "$*"; }

port_open() {  # host port
  python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
PY
}

wait_port() {  # host port what
  for _ in $(seq 1 60); do
    port_open "$1" "$2" && return 0
    sleep 0.5
  done
  say "$3 did not come up on $1:$2"; return 1
}

APT_UPDATED=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "need to install $* but not root: install them, or run 'make test' as root"; exit 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq; APT_UPDATED=1
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_postgres() {
  if port_open 127.0.0.1 5432; then say "PostgreSQL answers"; return; fi
  local fresh=0
  if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fresh=1; fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ "$fresh" = 1 ]; then
    # A test machine only: let the local test suite in as postgres over loopback.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  fi
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 127.0.0.1 5432 PostgreSQL
}

ensure_mosquitto() {
  if port_open 127.0.0.1 1883; then say "Mosquitto answers"; return; fi
  command -v mosquitto >/dev/null || apt_install mosquitto
  say "starting Mosquitto"
  if [ -f /etc/mosquitto/mosquitto.conf ]; then
    mkdir -p /run/mosquitto /var/lib/mosquitto /var/log/mosquitto
    chown mosquitto: /run/mosquitto /var/lib/mosquitto /var/log/mosquitto 2>/dev/null || true
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
  else
    mosquitto -d -p 1883
  fi
  wait_port 127.0.0.1 1883 Mosquitto
}

ensure_chromium() {
  if command -v chromium >/dev/null; then say "chromium present"; return; fi
  apt_install chromium
}

ensure_qemu() {
  local binfmt=/proc/sys/fs/binfmt_misc
  if [ -f "$binfmt/qemu-arm" ]; then say "qemu-arm registered with binfmt_misc"; return; fi
  if ! command -v qemu-arm-static >/dev/null || ! command -v update-binfmts >/dev/null; then
    apt_install qemu-user-static binfmt-support
  fi
  [ -f "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || true
  update-binfmts --enable qemu-arm >/dev/null 2>&1 || true
  if [ -f "$binfmt/qemu-arm" ]; then say "qemu-arm registered with binfmt_misc"
  else say "binfmt_misc unavailable here: the armhf hub-root tests will skip"; fi
}

ensure_haproxy() {
  # Only the binary: the cluster test and `make cluster` start their own HAProxy on loopback.
  if command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ]; then say "haproxy present"; return; fi
  apt_install haproxy
}

ensure_postgres
ensure_mosquitto
ensure_chromium
ensure_qemu
ensure_haproxy
