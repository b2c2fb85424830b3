#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: nvme-sriov
# vm-distro: no (it tests the test-only mlx5_core model, not vfio-pci)
#
# The test-only mlx5_core model (tools/testing/selftests/vfio/mlx5_core_model)
# that mlx5-vfio-pci's migration tests run against, on QEMU's nvme PF:
#   - it loads as mlx5_core and binds the PF through driver_override;
#   - sriov_numvfs=2 creates VFs that report 15b3:101e (ConnectX VF) and
#     that nothing binds, the model included;
#   - its debugfs shows each VF's VHCA running, tracking off, and a state
#     digest that differs between the VFs and changes while they run;
#     with dirtying off the digest holds still until a page is written;
#   - a VF's FLR (sysfs "reset") reaches the model (its flr counter);
#   - inject takes and shows a fault, and refuses a malformed one;
#   - page tracking's side of it, as far as userspace sees it without
#     the driver: the capability parameters, an idle "resources" (no CQ,
#     QP, tracker, frag buffer, doorbell, UAR or notifier), an empty
#     vfN/tracker, vfN/dma_write taking "IOVA LEN", refusing junk, and
#     refusing to write bytes ("IOVA LEN BYTE") into a VF's memory that
#     no user mapped (a VF nothing binds has the kernel's DMA domain),
#     inject's track_fail_after (armed, shown, cleared) and track_error
#     (done at once, never shown);
#   - sriov_numvfs=0 removes the VFs and their debugfs, unbinding the PF
#     with VFs removes them too, and the module unloads.
# harness/vm fails the run on any warning the model provokes.
# VFIO_MLX5_MODEL_KO names the model (make test-modules).

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"
# shellcheck source=lib/mlx5-model-lib.sh
. "$harness/tests/lib/mlx5-model-lib.sh"

require_vm

drv=mlx5_core_model
params=/sys/module/mlx5_core/parameters
mlx5_model_start

# vf_is_cx_unbound BDF: the VF reports the ConnectX VF ID and has no driver.
vf_is_cx_unbound() {
	local v d
	read -r v <"$sys/$1/vendor"
	read -r d <"$sys/$1/device"
	[ "$v:$d" = 0x15b3:0x101e ] && [ -z "$(driver_of "$1")" ] && return 0
	echo "# VF $1: $v:$d, driver '$(driver_of "$1")'"
	return 1
}

# mig_has N LINE: vf<N>/migration has LINE.
mig_has() {
	grep -qx "$2" "$dbg/vf$1/migration" && return 0
	echo "# vf$1/migration:"
	sed 's/^/#   /' "$dbg/vf$1/migration"
	return 1
}

digest() { read -r d <"$dbg/vf$1/state" && echo "$d"; }

differs() { [ "$1" != "$2" ] || { echo "# both '$1'"; return 1; }; }

inject_is() {
	local got
	got=$(cat "$dbg/inject")
	[ "$got" = "$1" ] && return 0
	echo "# inject reads '$got', wanted '$1'"
	return 1
}

no_vfs() { [ ! -e "$sys/$pf/virtfn0" ] && [ ! -e "$dbg/vf0" ]; }

# res_idle: every page tracking object count in "resources" is 0.
res_idle() {
	local name
	for name in cqs qps trackers frag_bufs dbs uars eq_notifiers; do
		grep -qx "$name 0" "$dbg/resources" && continue
		echo "# resources has no '$name 0':"
		sed 's/^/#   /' "$dbg/resources"
		return 1
	done
}

# dma_write_refused LINE [ERROR]: vf0/dma_write refuses LINE with ERROR
# (strerror's words; default EINVAL's).
dma_write_refused() {
	local err want=${2:-Invalid argument}
	err=$(printf '%s' "$1" 2>&1 >"$dbg/vf0/dma_write") && {
		echo "# '$1' was taken"
		return 1
	}
	case $err in *"$want"*) return 0 ;; esac
	echo "# '$1': $err"
	return 1
}

check "insmod the model" insmod "$ko"
check "it is mlx5_core" test -d /sys/module/mlx5_core
check "PF binds to $drv" bind_vfio "$pf" "$drv"
check "debugfs has the PF" test -d "$dbg"
check "sriov_numvfs=2" sh -c "echo 2 >$sys/$pf/sriov_numvfs"

vf0=$(vf_of 0) && vf1=$(vf_of 1)
if check "two VFs exist" test -n "$vf0" -a -n "$vf1"; then
	for vf in "$vf0" "$vf1"; do
		check "VF $vf is 15b3:101e and unbound" vf_is_cx_unbound "$vf"
	done
	echo "# VF reset methods: $(cat "$sys/$vf0/reset_method" 2>&1)"
	for n in 0 1; do
		check "vf$n VHCA running" mig_has "$n" "state running"
		check "vf$n tracking off" mig_has "$n" "tracking off"
	done
	s0=$(digest 0)
	check "VFs start with different states" differs "$s0" "$(digest 1)"
	sleep 1
	check "vf0's state changes while running" differs "$s0" "$(digest 0)"

	echo 0 >"$params/dirty_interval_ms"
	sleep 0.5
	s0=$(digest 0)
	sleep 0.5
	check "with dirtying off, vf0's state holds" test "$s0" = "$(digest 0)"
	echo 3 >"$dbg/vf0/state"
	check "writing page 3 changes it" differs "$s0" "$(digest 0)"
	check "a page beyond the state is refused" \
		sh -c "! echo 1000000 >$dbg/vf0/state 2>/dev/null"
	echo 10 >"$params/dirty_interval_ms"

	if grep -qw flr "$sys/$vf0/reset_method"; then
		check "FLR of $vf0" sh -c "echo 1 >$sys/$vf0/reset"
		check "the model saw vf0's FLR" mig_has 0 "flr 1"
		check "vf1 saw none" mig_has 1 "flr 0"
	else
		fail "VF $vf0 offers FLR"
	fi

	check "inject starts empty" inject_is ""
	echo "fail 0x118 0x4" >"$dbg/inject"
	echo corrupt >"$dbg/inject"
	check "inject shows the faults armed" inject_is "fail 0x118 0x4
corrupt"
	echo clear >"$dbg/inject"
	check "clear disarms them" inject_is ""
	check "a malformed fault is refused" \
		sh -c "! echo 'fail 0x118' >$dbg/inject 2>/dev/null"

	check "track_max_ranges defaults to 4" \
		test "$(cat "$params/track_max_ranges")" = 4
	check "tracking_caps defaults to on" \
		test "$(cat "$params/tracking_caps")" = Y
	check "resources: no page tracking object" res_idle
	check "vf0 has no tracker" test -z "$(cat "$dbg/vf0/tracker")"
	check "dma_write takes 'IOVA LEN'" \
		sh -c "echo '0x1000 0x2000' >$dbg/vf0/dma_write"
	check "dma_write takes decimal" \
		sh -c "echo '4096 1' >$dbg/vf1/dma_write"
	for bad in "junk" "0x1000" "0x1000 0" "0x1000 0x100000001" \
		"0x1000 0x1000 256" "0x1000 0x1000 7 8" "-1 1" \
		"0xffffffffffffffff 2"; do
		check "dma_write refuses '$bad'" dma_write_refused "$bad"
	done
	check "dma_write refuses bytes into memory no user mapped (EPERM)" \
		dma_write_refused "0x1000 0x1000 7" "Operation not permitted"
	echo "track_fail_after 3" >"$dbg/inject"
	check "inject shows track_fail_after" inject_is "track_fail_after 3"
	echo clear >"$dbg/inject"
	check "clear disarms it" inject_is ""
	check "track_error is taken" sh -c "echo track_error >$dbg/inject"
	check "track_error arms nothing" inject_is ""
	check "track_fail_after without N is refused" \
		sh -c "! echo track_fail_after >$dbg/inject 2>/dev/null"
fi

check "sriov_numvfs=0" sh -c "echo 0 >$sys/$pf/sriov_numvfs"
check "VFs and their debugfs are gone" no_vfs
check "sriov_numvfs=2 again" sh -c "echo 2 >$sys/$pf/sriov_numvfs"
check "unbind the PF with its VFs" unbind "$pf"
check "VFs are gone" test ! -e "$sys/$pf/virtfn0"
check "tracking_caps can be turned off" \
	sh -c "echo N >$params/tracking_caps"
check "the PF binds without the capability" bind_vfio "$pf" "$drv"
check "and unbinds" unbind "$pf"
echo >"$sys/$pf/driver_override"
check "rmmod the model" rmmod mlx5_core
finish
