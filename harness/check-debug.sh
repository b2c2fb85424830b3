#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/check-debug.sh - `make check-debug`: the whole VM suite on the
# debug kernel (KASAN, lockdep, kmemleak, UBSAN; harness/debug-kernel.sh),
# with our modules built against it and profiled for gcov, then a line
# coverage report of our sources (harness/coverage.sh).
#
# Usage: harness/check-debug.sh [TEST...]     (default: every test)
#        harness/check-debug.sh --ci          the subset CI runs, below
# Env:   DEBUG_BUILD   build directory (default build/debug); ours go to
#                      DEBUG_BUILD/oot, the module tree to DEBUG_BUILD/modroot
#        VFIO_*        handed on to the tests as by harness/run-vm-tests
#
# What only this kernel runs: the cdev/iommufd test (76-cdev-iommufd), the
# KUnit suites (77-kunit), the injected allocation failures
# (78-fault-inject), mlx5-vfio-pci's DMA logging (84-mlx5-dirty-tracking,
# and QEMU using it in 83-mlx5-live-migration), and every test's leak
# check (harness/vm scans with kmemleak after the command and fails the
# run on a suspected leak).
#
# CI (.ci/run) runs --ci after make check: the tests that exercise what
# the debug kernel checks best (locking, lifetimes, error paths), the
# four only it can run, and the one live migration where QEMU uses the
# VF's DMA logging (83: only this kernel has it).  The
# others (config space, regions, nested QEMU, the fuzzer) are left to a
# full make check-debug: under KASAN they take the most time and lockdep
# and kmemleak see little there that the subset does not exercise.
ci_tests=(
	30-irqs			# INTx/MSI/MSI-X locking, storms
	50-reset 51-hot-reset	# memory_lock against resets, device sets
	53-reset-hooks		# the variant's reset handlers
	54-intx-command		# COMMAND updates under irqlock
	60-power		# runtime PM and memory_lock
	63-variant		# the core under a variant driver
	72-unbind-held		# unbind and kill with users and interrupts
	73-reset-fault-race	# resets racing mmap faults
	76-cdev-iommufd		# iommufd: this kernel only
	77-kunit		# KUnit: this kernel only
	78-fault-inject		# fault injection: this kernel only
	81-mlx5-migration	# mlx5 migration: deferred reset, async saves
	83-mlx5-live-migration	# QEMU 10 migrating with the VF's DMA logging
	84-mlx5-dirty-tracking	# mlx5 DMA logging: this kernel only (IOMMUFD_DRIVER)
)

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
if [ "${1:-}" = --ci ]; then
	set -- "${ci_tests[@]}"
fi
build=${DEBUG_BUILD:-$repo/build/debug}
mkdir -p "$build"
build=$(cd "$build" && pwd)

dk=$("$here/debug-kernel.sh")
kver=$(cat "$dk/kver")
echo "check-debug: kernel $kver from $dk (built in $(cat "$dk/build-seconds")s)"

# Objects without their gcov notes (built before, or the notes lost)
# would give no coverage: rebuild them.
for o in "$build"/oot/drivers/vfio/pci/*.o; do
	[ -e "$o" ] || continue
	case ${o##*/} in *.mod.o|*-*) continue ;; esac	# linked modules
	[ -e "${o%.o}.gcno" ] || rm -f "$o"
done
# GCOV_PROFILE=y reaches kbuild through MAKEFLAGS: only our objects are
# instrumented (the kernel itself has GCOV_PROFILE_ALL off).
make -s -C "$repo" BUILD="$build" KDIR="$dk/obj" KVER="$kver" GCOV_PROFILE=y modules
# The test-only modules too: the tests would otherwise build them in the
# guest, which has no build tree for this kernel.
make -s -C "$repo" BUILD="$build" KDIR="$dk/obj" KVER="$kver" test-modules
make -s -C "$repo" BUILD="$build" tools
# The debug kernel has no mlx5_core: mlx5-vfio-pci links against the
# symbols of the test model of it, built with the test modules.
model_symvers=$build/test-modules/mlx5-core-model/Module.symvers
if ! grep -qs '	mlx5_cmd_exec	.*mlx5_core	' "$dk/obj/Module.symvers"; then
	make -s -C "$repo" BUILD="$build" KDIR="$dk/obj" KVER="$kver" \
		GCOV_PROFILE=y MLX5_CORE_SYMVERS="$model_symvers" modules
fi
export VFIO_PCI_ID_SPOOF_KO=$build/test-modules/pci-id-spoof/pci_id_spoof.ko
export VFIO_IGD_FIXTURE_KO=$build/test-modules/igd-fixture/igd_fixture.ko
export VFIO_VARIANT_FIXTURE_KO=$build/test-modules/variant-fixture/vfio_pci_variant_fixture.ko
export VFIO_INTX_INJECT_KO=$build/test-modules/intx-inject/intx_inject.ko
export VFIO_BIND_FIXTURE_DIR=$build/test-modules/bind-fixture
export VFIO_PCI_BIND=$build/tools/vfio-pci-bind/vfio-pci-bind
export VFIO_MLX5_MODEL_KO=$build/test-modules/mlx5-core-model/mlx5_core.ko
# The Debian 13 root (QEMU 10) of the tests that need it (83); they fail
# without it, the others run.
if root=$("$here/trixie-root.sh"); then
	export VFIO_TRIXIE_ROOT=$root
else
	echo "check-debug: no Debian 13 root (harness/trixie-root.sh failed)" >&2
fi
# The nested guest of the real-client tests (88, 89): Debian's kernel,
# whatever kernel the VM itself boots.
if guest=$("$here/guest-initramfs.sh"); then
	export VFIO_GUEST_DIR=$guest
else
	echo "check-debug: no guest image (harness/guest-initramfs.sh failed)" >&2
fi
MKMODROOT_SRC=$dk/lib/modules/$kver \
	"$here/mkmodroot.sh" "$kver" "$build/modroot" "$build/oot/drivers/vfio/pci"
"$here/build-selftests.sh" "$build/selftests" >/dev/null

before=$(ls -d "$repo"/build/vm-runs/tests-* 2>/dev/null || :)
rc=0
# Tests run several times slower under KASAN and lockdep, and a kmemleak
# scan follows each: triple every VM's time limit.
VM_TIMEOUT_SCALE=3 VFIO_VM_KERNEL=$dk VFIO_VM_GCOV=1 \
	VFIO_SELFTESTS_DIR=$build/selftests \
	"$here/run-vm-tests" -v --modroot "$build/modroot" "$@" || rc=$?
run=
# The new run directory that is ours: others may start runs meanwhile, so
# look for our module tree on its VMs' QEMU command lines.
for d in "$repo"/build/vm-runs/tests-*; do
	[ -d "$d" ] || continue
	case " $before " in *" $d "*) continue ;; esac
	grep -qs -- "path=$build/modroot/" "$d"/*/qemu.cmdline && run=$d
done
if [ -n "$run" ]; then
	echo "$build" >"$run/.debug-build"
	"$here/coverage.sh" "$run" "$build/oot/drivers/vfio/pci" || :
fi
exit "$rc"
