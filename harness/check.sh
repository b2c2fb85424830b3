#!/bin/bash
# The whole test suite, from a fresh machine: install what is missing, build,
# lint, prove the Kbuild files in a kernel tree, install the modules the ways
# users do (harness/pkg-check.sh), run every VM test, then run them again on
# the distro's modules and compare (harness/differential).
#
# Usage: harness/check.sh            (what `make check` and CI run)
#        SKIP_INTREE=1 harness/check.sh   skip the in-tree build (slow first run)
#
# Each stage prints a line "stage NAME: ok|FAILED (Ns)"; the VM test runner
# ends with "N passed, M failed, K skipped".  Exit status is non-zero if any
# stage failed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 2
failed=()

stage() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	echo "=== stage $name: $*"
	"$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "stage $name: ok ($(($(date +%s) - t0))s)"
	else
		echo "stage $name: FAILED, status $rc ($(($(date +%s) - t0))s)"
		failed+=("$name")
	fi
	return "$rc"
}

stage setup harness/setup.sh || exit 1
stage build make -s modroot tools || exit 1
stage selftests-build make -s selftests test-modules || exit 1
export VFIO_PCI_ID_SPOOF_KO=$repo/build/test-modules/pci-id-spoof/pci_id_spoof.ko
export VFIO_IGD_FIXTURE_KO=$repo/build/test-modules/igd-fixture/igd_fixture.ko
export VFIO_VARIANT_FIXTURE_KO=$repo/build/test-modules/variant-fixture/vfio_pci_variant_fixture.ko
export VFIO_BIND_FIXTURE_DIR=$repo/build/test-modules/bind-fixture
export VFIO_PCI_BIND=$repo/build/tools/vfio-pci-bind/vfio-pci-bind
export VFIO_INTX_INJECT_KO=$repo/build/test-modules/intx-inject/intx_inject.ko
export VFIO_MLX5_MODEL_KO=$repo/build/test-modules/mlx5-core-model/mlx5_core.ko
# The Debian 13 root (QEMU 10, libvirt 11) for the tests that need a newer
# QEMU or libvirt than the host's; built once and cached.  Without it those tests fail, the
# others run.
trixie_root() {
	VFIO_TRIXIE_ROOT=$(harness/trixie-root.sh) && export VFIO_TRIXIE_ROOT
}
stage trixie-root trixie_root
# The nested guest of the real-client tests (88, 89): Debian's kernel and
# a busybox initramfs with their drivers; built once and cached.
guest_image() {
	VFIO_GUEST_DIR=$(harness/guest-initramfs.sh) && export VFIO_GUEST_DIR
}
stage guest-image guest_image
stage lint harness/lint.sh
if [ -z "${SKIP_INTREE:-}" ]; then
	stage intree harness/intree-check.sh
fi
# Installs our modules on this host (make install, DKMS, the Debian
# package) and boots VMs on the host's module tree, which the distro lane
# boots on too: a stage of its own, never beside other VMs, and it gives
# the host back as it found it.
stage packaging harness/pkg-check.sh
stage vm-tests harness/run-vm-tests -v --rundir build/vm-runs/check-ours
# The same tests on the distro's modules, compared check by check.
stage differential harness/differential build/vm-runs/check-ours

if [ "${#failed[@]}" -ne 0 ]; then
	echo "check: FAILED stages: ${failed[*]}"
	exit 1
fi
echo "check: all stages passed"
