#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/bench.sh - `make bench`: micro-benchmarks of our vfio-pci against
# the distro's in-tree one, in one VM so that both see the same machine.
# Run on the host, it boots harness/vm with the devices the benchmarks use
# and runs itself inside; the guest part alternates the drivers for
# $BENCH_ROUNDS rounds (default 4): alternating evens out a host whose load
# changes meanwhile, and which driver goes first swaps every round, so an
# even count gives each the first place as often.  Each benchmark runs
# about $BENCH_SECS seconds (default 1) per figure, with
# tools/testing/selftests/vfio/vfio_pci_bench.  The host then prints one
# row per figure: the median of the rounds under each driver and their
# ratio, ours/distro.
#
# Measurements, not tests: nothing is judged.  The exit status is non-zero
# only when some figure is missing for a driver (a benchmark could not run
# at all); the VM's own verdict (kernel log, timeout) is reported as well.
#
# A second VM measures what only we have: mlx5-vfio-pci saving and resuming
# the state of a function of the test-only mlx5_core model
# (tools/testing/selftests/vfio/mlx5_core_model, VFs of QEMU's nvme SR-IOV
# PF) at several state sizes.  Debian's kernel has no mlx5-vfio-pci, so
# those rows have no distro figure and no ratio.
#
# Usage: harness/bench.sh            (host; results in build/vm-runs/bench-*)
# Env:   BENCH_SECS, BENCH_ROUNDS    as above
#        BENCH_ICOUNT                a shift: both VMs count time in
#                                    instructions (harness/vm --icount), so
#                                    each figure is the guest's work per
#                                    operation, the same on a busy host as
#                                    on an idle one; a "s" is then 10^9 /
#                                    2^SHIFT guest instructions
#        BENCH_TIMEOUT               VM timeout in seconds (default 1800)
#        BENCH_MIG_SIZES             model state sizes in MiB (default
#                                    "1 16 64"); empty skips the mlx5 VM
#        VFIO_MLX5_MODEL_KO          the model (default: make test-modules')

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")" && pwd)}

# Rows in the order first seen; the guest writes "DRIVER NAME UNIT VALUE
# SUBCOMMAND" lines.
table() { # RAW
	awk '
	function median(list,   n, a, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		if (n % 2)
			return a[(n + 1) / 2]
		return (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function fmt(v) {
		if (v == "")
			return "-"
		return v >= 100 ? sprintf("%.0f", v) : sprintf("%.3g", v)
	}
	{
		key = $2 " " $3
		if (!(key in seen)) {
			seen[key] = 1
			order[++rows] = key
		}
		vals[$1, key] = vals[$1, key] " " $4
	}
	END {
		printf "| %-34s | %-9s | %6s | %12s | %12s | %11s |\n", \
			"benchmark", "unit", "better", "ours", "distro", "ours/distro"
		printf "|%s|%s|%s|%s|%s|%s|\n", "------------------------------------", \
			"-----------", "--------", "--------------", \
			"--------------", "-------------"
		for (r = 1; r <= rows; r++) {
			key = order[r]
			split(key, k, " ")
			o = (("ours", key) in vals) ? median(vals["ours", key]) : ""
			d = (("distro", key) in vals) ? median(vals["distro", key]) : ""
			# Rows of drivers the distro does not have.
			only = index(k[1], "mlx5-model") == 1
			# A cost of 0 under the distro has no ratio, but was
			# measured all the same.
			ratio = (o != "" && d != "" && d + 0 != 0) ? \
				sprintf("%.2f", o / d) : "-"
			better = k[2] ~ /\/s$/ ? "higher" : "lower"
			printf "| %-34s | %-9s | %6s | %12s | %12s | %11s |\n", \
				k[1], k[2], better, fmt(o), fmt(d), ratio
			if (o == "" || (d == "" && !only))
				missing++
		}
		exit missing ? 1 : 0
	}' "$1"
}

# ---- host: boot the VM, print the table ---------------------------------
if [ -z "${VM_OUT:-}" ]; then
	repo=$(dirname "$harness")
	mkdir -p "$repo/build/vm-runs"
	out=$(mktemp -d "$repo/build/vm-runs/bench-$(date +%Y%m%d-%H%M%S)-XXXXXX")
	vmrc=0
	icount=()
	[ -z "${BENCH_ICOUNT:-}" ] || icount=(--icount "$BENCH_ICOUNT")
	"$harness/vm" --devices edu,ivshmem,nvme,pci-testdev-pair \
		--timeout "${BENCH_TIMEOUT:-1800}" --out "$out" "${icount[@]}" \
		-- env BENCH_SECS="${BENCH_SECS:-1}" \
		BENCH_ROUNDS="${BENCH_ROUNDS:-4}" "$harness/bench.sh" || vmrc=$?
	mig_sizes=${BENCH_MIG_SIZES-1 16 64}
	if [ -n "$mig_sizes" ]; then
		mkdir -p "$out/mig"
		"$harness/vm" --devices nvme-sriov --mem 2048 \
			--timeout "${BENCH_TIMEOUT:-1800}" --out "$out/mig" "${icount[@]}" \
			-- env BENCH_PART=mig BENCH_MIG_SIZES="$mig_sizes" \
			BENCH_ROUNDS="${BENCH_ROUNDS:-4}" \
			VFIO_MLX5_MODEL_KO="${VFIO_MLX5_MODEL_KO:-$repo/build/test-modules/mlx5-core-model/mlx5_core.ko}" \
			"$harness/bench.sh" || vmrc=$?
		cat "$out/mig/bench.raw" >>"$out/bench.raw" 2>/dev/null
		cat "$out/mig/bench.failed" >>"$out/bench.failed" 2>/dev/null
	fi
	echo
	if [ ! -s "$out/bench.raw" ]; then
		echo "bench: no figures at all (see $out/output.log)" >&2
		exit 1
	fi
	rc=0
	table "$out/bench.raw" | tee "$out/bench.table" || rc=1
	echo "(medians of ${BENCH_ROUNDS:-4} rounds; ratio > 1 means ours has" \
		"the larger figure: better for \"higher\" rows, worse for \"lower\")"
	[ -z "${BENCH_ICOUNT:-}" ] ||
		echo "(time counted in guest instructions, 2^$BENCH_ICOUNT ns each)"
	[ "$rc" = 0 ] || echo "bench: some figure is missing for a driver" \
		"(rows with '-'; see $out/output.log)" >&2
	# A benchmark that failed in every round under a driver left no
	# row at all to show a '-' in.
	while read -r drv prefix cmd; do
		awk -v d="$drv" -v p="$prefix:" -v c="$cmd" \
			'$1 == d && index($2, p) == 1 && $5 == c { found = 1 }
			END { exit !found }' "$out/bench.raw" && continue
		echo "bench: $prefix $cmd never ran under $drv" \
			"(see $out/output.log)" >&2
		rc=1
	done < <(sort -u "$out/bench.failed" 2>/dev/null)
	[ "$vmrc" = 0 ] || echo "bench: the VM run reported status $vmrc" \
		"(see above and $out/console.log); figures printed anyway" >&2
	exit "$rc"
fi

# ---- guest: run every benchmark under each driver in turn ---------------
# shellcheck source=harness/tests/lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

need_selftests vfio_pci_bench
# The slab benchmark records kmem trace events in an instance of its own.
if [ ! -d /sys/kernel/tracing/instances ]; then
	mount -t tracefs nodev /sys/kernel/tracing ||
		echo "# cannot mount tracefs: no kmalloc-kept figures"
fi
secs=${BENCH_SECS:-1}
rounds=${BENCH_ROUNDS:-4}
raw=$VM_OUT/bench.raw
: >"$raw"
: >"$VM_OUT/bench.failed"

# QEMU's nvme has 65 MSI-X vectors (msix_qsize defaults to max_ioqpairs + 1).
declare -A ids=([edu]=1234:11e8 [ivshmem]=1af4:1110 [nvme]=1b36:0010)
declare -A bdf_of=()

# run DRIVER PREFIX BDF ARGS...: one vfio_pci_bench subcommand on BDF; its
# figures go to $raw as PREFIX:NAME, anything else to the output.
run() {
	local drv=$1 prefix=$2 bdf=$3 figures rc=0 tag name unit value
	shift 3
	figures=$(VFIO_SELFTESTS_BDF=$bdf timeout 600 \
		"$bins/vfio_pci_bench" "$@" 2>"$VM_OUT/bench.err") || rc=$?
	while read -r tag name unit value; do
		[ "$tag" = bench ] || continue
		echo "$drv $prefix:$name $unit $value $1" >>"$raw"
		echo "# $drv $prefix:$name $value $unit"
	done <<<"$figures"
	if [ "$rc" != 0 ]; then
		echo "$drv $prefix $1" >>"$VM_OUT/bench.failed"
		echo "# $drv $prefix: vfio_pci_bench $* failed ($rc):" \
			"$(head -c 300 "$VM_OUT/bench.err")"
	fi
}

# ---- guest, second VM: mlx5-vfio-pci migration on the model -----------
if [ "${BENCH_PART:-}" = mig ]; then
	# shellcheck source=harness/tests/lib/mlx5-model-lib.sh
	. "$harness/tests/lib/mlx5-model-lib.sh"
	mlx5_model_start
	first=1
	for mib in $BENCH_MIG_SIZES; do
		bytes=$((mib << 20))
		if [ -n "$first" ]; then
			mlx5_model_up 2 state_size="$bytes"
			first=
		else
			# The model sizes a VF's state when the VF is made.
			unbind "$vf0"
			unbind "$vf1"
			check "sriov_numvfs=0" \
				sh -c "echo 0 >$sys/$pf/sriov_numvfs"
			echo "$bytes" >/sys/module/mlx5_core/parameters/state_size
			check "sriov_numvfs=2" \
				sh -c "echo 2 >$sys/$pf/sriov_numvfs"
			vf0=$(vf_of 0) && vf1=$(vf_of 1) &&
				bind_vfio "$vf0" mlx5_vfio_pci &&
				bind_vfio "$vf1" mlx5_vfio_pci ||
				{ fail "VFs of $mib MiB bound"; continue; }
		fi
		run ours "mlx5-model-${mib}M" "$vf0" mig "$vf1" "$rounds"
	done
	unbind "$vf0"
	unbind "$vf1"
	check "sriov_numvfs=0" sh -c "echo 0 >$sys/$pf/sriov_numvfs"
	unbind "$pf"
	# Not modprobe -r: it would take the model along as an unused
	# dependency.
	check "rmmod mlx5_vfio_pci" rmmod mlx5_vfio_pci
	check "rmmod the model" rmmod mlx5_core
	finish
fi

# measure DRIVER: every benchmark, with whichever vfio-pci is loaded.
measure() {
	local drv=$1 tp0 tp1
	local -A bdf_of=()
	bind_devices edu ivshmem nvme
	tp0=$(find_dev 1b36:0005 1) && tp1=$(find_dev 1b36:0005 2) &&
		bind_vfio "$tp0" && bind_vfio "$tp1" || tp0=
	if [ -n "${bdf_of[nvme]:-}" ]; then
		run "$drv" nvme "${bdf_of[nvme]}" config "$secs"
	fi
	if [ -n "${bdf_of[edu]:-}" ]; then
		# Past edu's registers: writes there are ignored, reads give
		# a constant, so the figure is the access path alone.
		run "$drv" edu-bar0 "${bdf_of[edu]}" bar 0 0x1000 "$secs"
	fi
	if [ -n "${bdf_of[ivshmem]:-}" ]; then
		run "$drv" ivshmem-bar2 "${bdf_of[ivshmem]}" bar 2 0 "$secs"
		# How the cost of faulting a mapping in grows with its size.
		run "$drv" ivshmem-2M-mmap "${bdf_of[ivshmem]}" mmap 2 0x200000
		run "$drv" ivshmem-64M-mmap "${bdf_of[ivshmem]}" mmap 2 0x4000000
		run "$drv" ivshmem-1G-mmap "${bdf_of[ivshmem]}" mmap 2
		run "$drv" ivshmem-bar2 "${bdf_of[ivshmem]}" ioeventfd 2 0 "$secs"
	fi
	if [ -n "${bdf_of[edu]:-}" ]; then
		run "$drv" edu "${bdf_of[edu]}" msi "$secs"
		run "$drv" edu "${bdf_of[edu]}" openclose "$secs"
	fi
	if [ -n "${bdf_of[nvme]:-}" ]; then
		run "$drv" nvme "${bdf_of[nvme]}" openclose "$secs"
		run "$drv" nvme "${bdf_of[nvme]}" msix "$secs" 1 16 65
	fi
	if [ -n "$tp0" ]; then
		run "$drv" pci-testdev-pair "$tp0" hotreset "$tp1" "$secs"
	fi
	# Function 1 shares function 0's group, which one open holds.
	set -- "${bdf_of[@]}" ${tp0:+"$tp0"}
	if [ $# -gt 0 ]; then
		VFIO_BENCH_KEPT_SITES=1 run "$drv" "open-$#-devices" - slab "$@"
		# Which functions allocated the kept bytes, for reading the
		# kmalloc-kept row (the last of the repeats, per round).
		grep '^kept ' "$VM_OUT/bench.err" | sort -k3,3nr \
			>"$VM_OUT/kept-sites.$drv.$round" || :
	fi
	for d in "${bdf_of[@]}" ${tp0:+"$tp0" "$tp1"}; do
		unbind "$d" || :
	done
}

for d in edu:1234:11e8 nvme:1b36:0010 pci-testdev:1b36:0005; do
	b=$(find_dev "${d#*:}") &&
		echo "# ${d%%:*} $b reset_method: $(cat "/sys/bus/pci/devices/$b/reset_method" 2>/dev/null)"
done

# The host backs ivshmem's RAM only as it is first touched: a throw-away
# pass does that, or the first driver measured would pay for it.
echo "# warm-up: touch ivshmem's BAR once"
modprobe vfio-pci && bind_devices ivshmem &&
	VFIO_SELFTESTS_BDF=${bdf_of[ivshmem]} "$bins/vfio_pci_bench" mmap 2 >/dev/null
[ -n "${bdf_of[ivshmem]:-}" ] && unbind "${bdf_of[ivshmem]}"
modprobe -r vfio-pci

# load DRIVER / unload DRIVER: ours through modprobe, the distro's by path.
load() {
	if [ "$1" = ours ]; then
		check "modprobe vfio-pci" modprobe vfio-pci &&
			check "vfio-pci modules are our out-of-tree build" \
				check_modules_ours
	else
		load_distro_vfio_pci
	fi
}

unload() {
	if [ "$1" = ours ]; then
		check "rmmod vfio-pci" modprobe -r vfio-pci
	else
		check "rmmod distro vfio-pci" rmmod vfio_pci
		check "rmmod distro vfio-pci-core" rmmod vfio_pci_core
	fi
}

# Whichever runs first in a round may find the host in another state than
# the second (caches, the load of other VMs): the order swaps every round.
for ((round = 1; round <= rounds; round++)); do
	order=(ours distro)
	((round % 2)) || order=(distro ours)
	for drv in "${order[@]}"; do
		echo "# round $round: $drv"
		load "$drv" || continue
		measure "$drv"
		unload "$drv"
	done
done
finish
