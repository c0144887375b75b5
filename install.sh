#!/usr/bin/env bash
# One-script install of ibc-kiosk.
#   ./install.sh dev        system packages + a virtualenv in ./.venv with every extra and test tools
#   ./install.sh server     (as root) the school server: /opt/ibc venv, /etc/ibc, /var/lib/ibc, systemd
#   ./install.sh terminal   (as root) a reading-room terminal: the same plus the kiosk session
# Idempotent: running it again upgrades in place. Supported: Debian 12, Ubuntu 22.04/24.04.
set -euo pipefail

role=${1:-dev}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf '\033[1m[ibc]\033[0m %s\n' "$*"; }
die() { printf '[ibc] error: %s\n' "$*" >&2; exit 1; }

# System packages each role needs (Debian names).
common_pkgs=(python3 python3-venv python3-dev build-essential libzbar0 fonts-dejavu-core)
media_pkgs=(libvlc5 vlc-plugin-base ffmpeg)
kiosk_pkgs=(libgl1 libegl1 libgles2 libmtdev1 libgl1-mesa-dri)
dev_pkgs=(postgresql cups-ipp-utils avahi-daemon dbus poppler-utils xvfb gettext)

check_system() {
  [ -r /etc/os-release ] || die "cannot tell the operating system (/etc/os-release missing)"
  . /etc/os-release
  case "${ID:-}:${VERSION_ID:-}" in
    debian:12|debian:13|ubuntu:22.04|ubuntu:24.04) ;;
    *) if ! command -v apt-get >/dev/null; then
         die "unsupported system ${PRETTY_NAME:-unknown}: needs apt-get (Debian 12 or Ubuntu 22.04/24.04)"
       fi
       say "warning: ${PRETTY_NAME:-this system} is not tested; trying the Debian package names" ;;
  esac
}

apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { say "system packages already installed"; return; }
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need root to install: ${missing[*]}"
    sudo="sudo"
  fi
  say "installing system packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

make_venv() {
  local venv=$1 extras=$2
  if [ ! -x "$venv/bin/python" ]; then
    say "creating virtualenv $venv"
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --upgrade pip
  say "installing ibc-kiosk[$extras] into $venv"
  if [ "$role" = dev ]; then
    "$venv/bin/python" -m pip install -q -e "$here[$extras]"
  else
    "$venv/bin/python" -m pip install -q "$here[$extras]"
  fi
}

case "$role" in
  dev)
    check_system
    apt_install "${common_pkgs[@]}" "${media_pkgs[@]}" "${kiosk_pkgs[@]}" "${dev_pkgs[@]}"
    make_venv "$here/.venv" dev
    say "done: $here/.venv/bin/ibc --help"
    ;;
  server|terminal)
    [ "$(id -u)" = 0 ] || die "run as root: sudo ./install.sh $role"
    check_system
    pkgs=("${common_pkgs[@]}" "${media_pkgs[@]}")
    [ "$role" = terminal ] && pkgs+=("${kiosk_pkgs[@]}")
    apt_install "${pkgs[@]}"
    id ibc >/dev/null 2>&1 || useradd --system --home-dir /var/lib/ibc --shell /usr/sbin/nologin ibc
    install -d -o ibc -g ibc -m 0750 /var/lib/ibc
    install -d -m 0755 /etc/ibc
    [ -f /etc/ibc/ibc.toml ] || install -m 0644 "$here/config/$role.toml" /etc/ibc/ibc.toml
    if [ "$role" = server ]; then extras=server,media,devices,postgres,reports; else extras=kiosk,camera,media,devices; fi
    make_venv /opt/ibc "$extras"
    ln -sf /opt/ibc/bin/ibc /usr/local/bin/ibc
    runuser -u ibc -- /opt/ibc/bin/ibc db upgrade
    say "installed the $role role; systemd units follow in systemd/"
    ;;
  *)
    die "usage: ./install.sh [dev|server|terminal]"
    ;;
esac
