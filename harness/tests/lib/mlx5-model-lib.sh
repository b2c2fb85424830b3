# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The variables set here (sys, ko, pf, dbg) are the interface:
# shellcheck disable=SC2034
#
# Start of the tests that run on the test-only mlx5_core model
# (tools/testing/selftests/vfio/mlx5_core_model) over QEMU's nvme SR-IOV
# PF.  Source it after selftest-lib.sh.
#
#   mlx5_model_start     set $sys, $ko (the model: $VFIO_MLX5_MODEL_KO, by
#                        default the one make test-modules builds), $pf
#                        (the nvme PF) and $dbg (the PF's directory in the
#                        model's debugfs, mounting debugfs if need be);
#                        fail and finish the test if the model or the PF
#                        is missing
#   vf_of N              the address of the PF's VF N

mlx5_model_start() {
	sys=/sys/bus/pci/devices
	ko=${VFIO_MLX5_MODEL_KO:-$(dirname "$harness")/build/test-modules/mlx5-core-model/mlx5_core.ko}
	if [ ! -f "$ko" ]; then
		fail "VFIO_MLX5_MODEL_KO names the model ($ko: make test-modules)"
		finish
	fi
	pf=$(find_dev 1b36:0010) || { fail "nvme-sriov is present"; finish; }
	echo "# nvme PF at $pf"
	[ -d /sys/kernel/debug/block ] || mount -t debugfs none /sys/kernel/debug
	dbg=/sys/kernel/debug/mlx5_core_model/$pf
}

vf_of() {
	gl_link_name "$sys/$pf/virtfn$1"
}
