#!/usr/bin/env bash
# One-script install of ibc-kiosk.
#   ./install.sh dev        system packages + a virtualenv in ./.venv with every extra and test tools
#   ./install.sh server     (as root) the school server: /opt/ibc venv, /etc/ibc, /var/lib/ibc, systemd
#   ./install.sh terminal   (as root) a reading-room terminal: the same plus the kiosk session
#   ./install.sh --uninstall [--purge]   remove the software; the data and config stay unless --purge
# Options: --no-start (enable the units but never start or restart them; implied without systemd);
#   --z3950 (server: also Debian's Zebra/YAZ and the Z39.50 units, docs/Z3950.md).
# Idempotent: running it again upgrades in place (a backup first, then `ibc db upgrade`).
# Supported: Debian 12, Ubuntu 22.04/24.04.
set -euo pipefail

role=dev
action=install
purge=no
no_start=${IBC_NO_START:-no}
z3950=no
for arg in "$@"; do
  case "$arg" in
    dev|server|terminal) role=$arg ;;
    --uninstall) action=uninstall ;;
    --purge) purge=yes ;;
    --no-start) no_start=yes ;;
    --z3950) z3950=yes ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) printf '[ibc] error: unknown argument %s\nusage: ./install.sh [dev|server|terminal] [--no-start] [--z3950] | --uninstall [--purge]\n' "$arg" >&2; exit 2 ;;
  esac
done
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

PREFIX=/opt/ibc
ETC=/etc/ibc
DATA=/var/lib/ibc
UNIT_DIR=/etc/systemd/system
UNITS=(ibc-server.service ibc-display.service ibc-kiosk.service ibc-kiosk-x11.service ibc-backup.service ibc-backup.timer
       ibc-z3950.service ibc-z3950-build.service ibc-z3950-build.timer
       ibc-holds-expire.service ibc-holds-expire.timer ibc-irbis-push.service ibc-irbis-push.timer
       ibc-irbis-sync.service ibc-irbis-sync.timer)

say() { printf '\033[1m[ibc]\033[0m %s\n' "$*"; }
die() { printf '[ibc] error: %s\n' "$*" >&2; exit 1; }

# System packages each role needs (Debian names).
common_pkgs=(python3 python3-venv python3-dev build-essential libzbar0 fonts-dejavu-core)
# VLC's video outputs (X11/XVideo) are in vlc-plugin-video-output: without it a film is a black
# screen with sound. Sound: PulseAudio in the kiosk's session (HDMI and speakers, shared with the
# kiosk's own sounds); ALSA directly where no session runs it.
media_pkgs=(libvlc5 vlc-plugin-base vlc-plugin-video-output ffmpeg pulseaudio pulseaudio-utils alsa-utils)
kiosk_pkgs=(libgl1 libegl1 libgles2 libmtdev1 libgl1-mesa-dri libxi6 libxcursor1 libxss1)
# chromium + chromium-driver: the librarian's desk is tested in a real browser (Selenium).
# idzebra-2.0 yaz: the Z39.50 tests run Zebra and search it with yaz-client.
dev_pkgs=(postgresql cups-ipp-utils avahi-daemon dbus poppler-utils xvfb gettext systemd debootstrap shellcheck cage xwayland grim matchbox-window-manager x11-xserver-utils xinit chromium chromium-driver idzebra-2.0 yaz)
# The server is also the media station: an X server for films on the projector (ibc-display).
server_pkgs=(systemd postgresql-client ca-certificates xserver-xorg-core xauth)
# The Z39.50 front (server --z3950): zebraidx, zebrasrv and their filters without the docs and
# headers of the idzebra-2.0 metapackage; yaz for yaz-client (checking the server by hand).
z3950_pkgs=(idzebra-2.0-utils idzebra-2.0-common libidzebra-2.0-modules yaz)
terminal_pkgs=(systemd udev ca-certificates dbus libpam-systemd cups-client ipp-usb avahi-daemon)
cage_pkgs=(cage xwayland)
x11_pkgs=(xserver-xorg-core xserver-xorg-legacy xserver-xorg-input-libinput xinit x11-xserver-utils matchbox-window-manager)

check_system() {
  [ -r /etc/os-release ] || die "cannot tell the operating system (/etc/os-release missing)"
  # shellcheck disable=SC1091
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

# True when the package exists in the apt lists (refreshing them once if needed).
apt_has() {
  apt-cache show "$1" >/dev/null 2>&1 && return 0
  [ -n "${apt_refreshed:-}" ] && return 1
  apt_refreshed=1
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  apt-cache show "$1" >/dev/null 2>&1
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
    "$venv/bin/python" -m pip install -q -e "${here}[$extras]"
  else
    "$venv/bin/python" -m pip install -q --upgrade "${here}[$extras]"
  fi
}

# systemd is PID 1 here (not a chroot, a container build or an image being prepared).
systemd_running() {
  [ -d /run/systemd/system ] || return 1
  if command -v systemd-detect-virt >/dev/null && systemd-detect-virt -q --chroot; then return 1; fi
  return 0
}

may_start() { [ "$no_start" != yes ] && systemd_running; }

# Run a command as user ibc from / (the clone may be in a home directory ibc cannot enter).
as_ibc() { (cd / && runuser -u ibc -- "$@"); }

unit_active() { may_start && systemctl -q is-active "$1" 2>/dev/null; }

install_units() {
  local enable=("$@") u
  for u in "${UNITS[@]}"; do install -m 0644 "$here/systemd/$u" "$UNIT_DIR/$u"; done
  install -D -m 0644 "$here/docs/INSTALL.md" /usr/share/doc/ibc-kiosk/INSTALL.md
  install -D -m 0644 "$here/docs/HOLDS.md" /usr/share/doc/ibc-kiosk/HOLDS.md
  install -D -m 0644 "$here/docs/IRBIS.md" /usr/share/doc/ibc-kiosk/IRBIS.md
  install -D -m 0644 "$here/docs/Z3950.md" /usr/share/doc/ibc-kiosk/Z3950.md
  if systemd_running; then systemctl daemon-reload; fi
  # `systemctl enable` only creates symlinks: it works offline (chroot, image) too.
  systemctl enable -q "${enable[@]}"
  say "enabled: ${enable[*]}"
}

setup_terminal() {
  local g session
  for g in video render input lp audio; do  # udev makes these at boot; a fresh image may lack some
    getent group "$g" >/dev/null || groupadd --system "$g"
    usermod -a -G "$g" ibc
  done
  install -m 0644 "$here/systemd/ibc-kiosk.pam" /etc/pam.d/ibc-kiosk
  install -m 0755 "$here/systemd/ibc-kiosk-x11-session" "$PREFIX/bin/ibc-kiosk-x11-session"
  install -d -o ibc -g ibc -m 0750 "$DATA/kivy"
  if dpkg-query -W -f='${Status}' cage 2>/dev/null | grep -q "install ok installed"; then
    session=ibc-kiosk.service
  else
    session=ibc-kiosk-x11.service
    install -d -m 0755 /etc/X11
    printf 'allowed_users=anybody\nneeds_root_rights=yes\n' > /etc/X11/Xwrapper.config
  fi
  systemctl disable -q ibc-kiosk.service ibc-kiosk-x11.service 2>/dev/null || true
  install_units "$session" ibc-backup.timer
  systemctl set-default -q graphical.target
  kiosk_unit=$session
}

install_role() {
  [ "$(id -u)" = 0 ] || die "run as root: sudo ./install.sh $role"
  check_system
  local pkgs=("${common_pkgs[@]}" "${media_pkgs[@]}") extras main_unit
  if [ "$role" = server ]; then
    pkgs+=("${server_pkgs[@]}")
    if [ "$z3950" = yes ]; then pkgs+=("${z3950_pkgs[@]}"); fi
    extras=server,media,devices,postgres,reports
  else
    pkgs+=("${kiosk_pkgs[@]}" "${terminal_pkgs[@]}")
    if apt_has cage; then pkgs+=("${cage_pkgs[@]}"); else
      say "cage is not available here: the kiosk runs in Xorg with matchbox instead"
      pkgs+=("${x11_pkgs[@]}")
    fi
    extras=kiosk,camera,media,devices
  fi
  apt_install "${pkgs[@]}"

  id ibc >/dev/null 2>&1 || useradd --system --user-group --home-dir "$DATA" --shell /usr/sbin/nologin ibc
  install -d -o ibc -g ibc -m 0750 "$DATA" "$DATA/backups"
  install -d -m 0755 "$ETC"
  if [ -f "$ETC/ibc.toml" ]; then
    if ! cmp -s "$here/config/$role.toml" "$ETC/ibc.toml"; then
      install -m 0644 "$here/config/$role.toml" "$ETC/ibc.toml.dist"
      say "kept your $ETC/ibc.toml; the shipped example is $ETC/ibc.toml.dist"
    fi
  else
    install -m 0640 -g ibc "$here/config/$role.toml" "$ETC/ibc.toml"
    say "wrote $ETC/ibc.toml (edit it, then run this script again or restart the service)"
  fi

  if [ -x "$PREFIX/bin/ibc" ]; then
    say "upgrading: backing up the library first"
    as_ibc "$PREFIX/bin/ibc" backup --keep 14 || die "backup before the upgrade failed; nothing changed"
  fi
  make_venv "$PREFIX" "$extras"
  ln -sf "$PREFIX/bin/ibc" /usr/local/bin/ibc

  main_unit=ibc-server.service
  if [ "$role" = server ]; then
    for g in audio video render; do  # the media station: sound cards and the projector's screen
      getent group "$g" >/dev/null || groupadd --system "$g"
      usermod -a -G "$g" ibc
    done
    install_units ibc-server.service ibc-display.service ibc-backup.timer ibc-holds-expire.timer \
                  ibc-irbis-sync.timer ibc-irbis-push.timer  # ИРБИС64 sync (nothing while [irbis]
                  # host is "") and loans waiting for ИРБИС (nothing unless backend = "irbis")
    if [ "$z3950" = yes ]; then  # Z39.50 on Zebra: nothing until [z3950] enabled = true
      install -d -o ibc -g ibc -m 0750 "$DATA/z3950"
      install_units ibc-z3950.service ibc-z3950-build.timer
    fi
  else
    setup_terminal
    main_unit=$kiosk_unit
  fi
  local was_active=no
  if unit_active "$main_unit"; then was_active=yes; systemctl stop "$main_unit"; fi
  as_ibc "$PREFIX/bin/ibc" db upgrade
  if [ "$role" = server ]; then
    # HTTPS for the terminals: a self-signed certificate made once as the service user
    # ($DATA/tls/server.crt, key server.key mode 0600 owned by ibc); kept on upgrades.
    install -d -o ibc -g ibc -m 0750 "$DATA/tls"
    as_ibc "$PREFIX/bin/ibc" tls create
  fi
  if may_start; then
    systemctl start ibc-backup.timer
    if [ "$role" = server ]; then
      systemctl start ibc-display.service  # skipped without a GPU
      systemctl start ibc-holds-expire.timer
      systemctl start ibc-irbis-sync.timer
      systemctl start ibc-irbis-push.timer
      if [ "$z3950" = yes ]; then
        systemctl start ibc-z3950-build.timer
        systemctl restart ibc-z3950.service
      fi
    fi
    if [ "$role" = server ] || [ "$was_active" = yes ]; then systemctl restart "$main_unit"; fi
    say "started $main_unit"
  else
    say "systemd is not running here (or --no-start): units enabled, not started"
  fi
  say "installed the $role role: $("$PREFIX/bin/ibc" --version); check it with: ibc doctor"
}

uninstall() {
  [ "$(id -u)" = 0 ] || die "run as root: sudo ./install.sh --uninstall"
  local u present=()
  for u in "${UNITS[@]}"; do [ -f "$UNIT_DIR/$u" ] && present+=("$u"); done
  if [ ${#present[@]} -gt 0 ]; then
    if systemd_running; then systemctl disable -q --now "${present[@]}" || true; else systemctl disable -q "${present[@]}" || true; fi
    for u in "${present[@]}"; do rm -f "$UNIT_DIR/$u"; done
    if systemd_running; then systemctl daemon-reload; fi
  fi
  rm -f /etc/pam.d/ibc-kiosk /usr/local/bin/ibc
  rm -rf "$PREFIX" /usr/share/doc/ibc-kiosk
  if [ "$purge" = yes ]; then
    rm -rf "$DATA" "$ETC"
    id ibc >/dev/null 2>&1 && userdel ibc
    say "removed ibc-kiosk with its data ($DATA), settings ($ETC) and user ibc"
  else
    say "removed ibc-kiosk; kept the data in $DATA and the settings in $ETC (--purge removes them)"
  fi
}

if [ "$action" = uninstall ]; then uninstall; exit 0; fi
case "$role" in
  dev)
    check_system
    apt_install "${common_pkgs[@]}" "${media_pkgs[@]}" "${kiosk_pkgs[@]}" "${dev_pkgs[@]}"
    make_venv "$here/.venv" dev
    say "done: $here/.venv/bin/ibc --help"
    ;;
  server|terminal)
    install_role
    ;;
esac
