#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/mlx5-model-symvers.sh - check that the mlx5_core model
# (tools/testing/selftests/vfio/mlx5_core_model) exports mlx5_core's
# symbols with the CRCs and export types of the kernel it was built for.
# mlx5-vfio-pci, built against that kernel's Module.symvers, would
# otherwise refuse to load on the model ("disagrees about version of
# symbol"), and a GPL-only export where the kernel's is not would refuse
# modules the real mlx5_core takes.
#
# Usage: harness/mlx5-model-symvers.sh KERNEL-SYMVERS MODEL-SYMVERS
#
# A kernel whose Module.symvers has no mlx5_core symbols (the debug kernel
# of harness/debug-kernel.sh, built without MLX5_CORE) has nothing to
# compare with: the check says so and passes; there the model's own
# Module.symvers is what the variant links against.
#
# Exit status: 0 all equal (or nothing to compare), 1 a CRC differs or a
# symbol is missing, 2 usage.

set -euo pipefail

[ $# -eq 2 ] || { sed -n '/^# Usage:/s/^# //p' "$0" >&2; exit 2; }
kernel=$1
model=$2

syms=(mlx5_vf_get_core_dev mlx5_vf_put_core_dev
	mlx5_sriov_blocking_notifier_register
	mlx5_sriov_blocking_notifier_unregister
	mlx5_cmd_exec mlx5_cmd_exec_cb mlx5_cmd_init_async_ctx
	mlx5_cmd_cleanup_async_ctx mlx5_core_alloc_pd mlx5_core_dealloc_pd
	mlx5_core_create_mkey mlx5_core_destroy_mkey
	mlx5_vport_get_other_func_cap
	mlx5_core_create_cq mlx5_core_destroy_cq
	mlx5_frag_buf_alloc_node mlx5_frag_buf_free mlx5_fill_page_frag_array
	mlx5_db_alloc_node mlx5_db_free
	mlx5_get_uars_page mlx5_put_uars_page
	mlx5_eq_notifier_register mlx5_eq_notifier_unregister
	mlx5_comp_eqn_get mlx5_comp_vector_get_cpu)

# crc_of FILE SYMBOL: "CRC/EXPORT_TYPE" as Module.symvers FILE records
# SYMBOL of a module called mlx5_core.
crc_of() {
	awk -v s="$2" '$2 == s && $3 ~ /(^|\/)mlx5_core$/ { print $1 "/" $4 }' "$1"
}

if ! grep -qE '[[:space:]](drivers/net/ethernet/mellanox/mlx5/core/)?mlx5_core[[:space:]]' "$kernel"; then
	echo "mlx5-model-symvers: $kernel has no mlx5_core symbols: CRC comparison skipped"
	exit 0
fi
bad=0
for s in "${syms[@]}"; do
	want=$(crc_of "$kernel" "$s")
	got=$(crc_of "$model" "$s")
	if [ -z "$want" ] || [ "$want" != "$got" ]; then
		echo "mlx5-model-symvers: $s: kernel ${want:-missing}, model ${got:-missing}" >&2
		bad=1
	fi
done
[ "$bad" -eq 0 ] &&
	echo "mlx5-model-symvers: ${#syms[@]} CRCs and export types equal to the kernel's"
exit "$bad"
