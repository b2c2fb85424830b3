# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The variables set here (sys, ko, pf, dbg, vf0, vf1, mkeys0) are the
# interface:
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
#   mlx5_model_up NVFS [MODEL-PARAM...]
#                        load the model with the parameters, bind the PF
#                        to it, enable NVFS (1 or 2) VFs and bind them to
#                        mlx5_vfio_pci, checked to run on our
#                        vfio-pci-core; set $vf0 (and $vf1) and $mkeys0,
#                        the PF's memory keys then; finish the test if
#                        the VFs do not appear

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

mlx5_model_up() {
	local n=$1 vf
	shift
	check "insmod the mlx5_core model $*" insmod "$ko" "$@"
	check "PF bound to the model" bind_vfio "$pf" mlx5_core_model
	check "sriov_numvfs=$n" sh -c "echo $n >$sys/$pf/sriov_numvfs"
	vf1=
	if ! vf0=$(vf_of 0) || { [ "$n" -gt 1 ] && ! vf1=$(vf_of 1); }; then
		fail "$n VFs exist"
		finish
	fi
	echo "# VF0 $vf0${vf1:+, VF1 $vf1}"
	check "modprobe mlx5_vfio_pci (the model stands for mlx5_core)" \
		modprobe mlx5_vfio_pci
	check "vfio-pci-core under it is our build" \
		sh -c "grep -q O /sys/module/vfio_pci_core/taint"
	for vf in $vf0 $vf1; do
		check "VF $vf bound to mlx5_vfio_pci" bind_vfio "$vf" mlx5_vfio_pci
	done
	mkeys0=$(sed -n 's/^mkeys //p' "$dbg/resources")
	echo "# the PF holds $mkeys0 mkeys"
}
