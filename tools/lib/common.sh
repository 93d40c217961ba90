# Shared by the tools/ scripts: paths, messages, the package list and the build.
# shellcheck shell=bash

SLUICE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SLUICE_BUILD=${SLUICE_BUILD:-$SLUICE_ROOT/build}

# Debian 12 packages sluice needs to build, test and run its lab.
SLUICE_PACKAGES=(
	gcc meson ninja-build pkg-config git
	libdpdk-dev dpdk libmsgpack-dev libcriterion-dev libjansson-dev libhttp-parser-dev
	python3 python3-scapy python3-msgpack
	iproute2 ethtool nftables iputils-ping arping procps psmisc curl tcpreplay wrk
	clang libclang-rt-14-dev valgrind cppcheck clang-tidy clang-format
	haproxy nginx
)

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

say() {
	echo "==> $*"
}

need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces and runs DPDK)"
}

# Install what is missing, without asking (CI has no standard input).
install_deps() {
	local missing=() p
	for p in "${SLUICE_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	need_root
	say "installing: ${missing[*]}"
	if [ ! -f /var/lib/apt/lists/lock ] || [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v lock)" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; } ||
		die "apt-get install failed"
	[[ " ${missing[*]} " =~ \ (haproxy|nginx)\  ]] && quiet_services
	return 0
}

# haproxy and nginx are only peers for tools/bench/http, which runs its own instances in the
# lab: the system services that their packages may start on install (where an init system lets
# them; Debian's policy-rc.d in containers does not) are stopped and disabled, so they take no
# CPU and no port. Called after installing them (install_deps, .ci/run).
quiet_services() {
	local s pid
	for s in haproxy nginx; do
		if [ -d /run/systemd/system ]; then
			systemctl disable --now "$s" >/dev/null 2>&1 || true
		elif pid=$(cat "/run/$s.pid" 2>/dev/null) && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$s" ]; then
			kill "$pid" 2>/dev/null || true
			command -v update-rc.d >/dev/null && update-rc.d "$s" disable >/dev/null 2>&1 || true
		fi
	done
}

# Configure (once) and build the release tree in $SLUICE_BUILD.
build_sluice() {
	if [ ! -f "$SLUICE_BUILD/build.ninja" ]; then
		meson setup "$SLUICE_BUILD" "$SLUICE_ROOT" >/dev/null || die "meson setup failed"
	fi
	ninja -C "$SLUICE_BUILD" >/dev/null || { ninja -C "$SLUICE_BUILD" | tail -40; die "build failed"; }
}
