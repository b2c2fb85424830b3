#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-devices: e1000e-link,e1000e-link
#
# A real user moving real packets: Debian's DPDK testpmd drives two e1000e
# NICs, joined by a private wire (harness/vm's e1000e-link), through
# vfio-pci with the e1000 "em" poll-mode driver, in io forwarding.  Both
# ports send a first burst and then forward whatever they receive to the
# other port, so two loops of one burst each circulate over the wire.
#   * While it runs: both NICs probed by the em driver and their links up,
#     the IOMMU group of each held open by testpmd, a vfio interrupt set
#     up for each (the em driver takes MSI-X vector 0 for link changes),
#     its memory in hugepages.
#   * Its port counters, read after forwarding stopped: each port sent more
#     than its first burst and received; what port 0 sent, port 1 received
#     (and the other way round) but for the one burst that can be in
#     flight; no receive errors, misses or mbuf shortage, no transmit
#     errors or drops; the counters grew while forwarding ran.
#   * After it quits: no vfio interrupt left, every hugepage free again
#     (the pins on them are gone), and a second, shorter run on the same
#     devices works at once.
#   * Last, the NICs go back to the host: unbound, driver_override cleared,
#     e1000e probes them and brings their links up, and vfio-pci unloads.
# The packet rate is printed for information only: TCG sets it.
#
# VFIO_TEST_DISTRO=1 accepts the distro's vfio-pci modules (see
# 10-selftests-edu.sh); by default they must be our out-of-tree build.

set -uo pipefail

harness=${VM_HARNESS:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=lib/selftest-lib.sh
. "$harness/tests/lib/selftest-lib.sh"

require_vm
# testpmd reads its commands from a fifo: if it died, a write there must
# fail and be reported, not kill this script with SIGPIPE.
trap '' PIPE

# Packets per burst.  io forwarding sends only what it received, so after
# the first burst each direction has exactly this many packets circulating:
# the most that port 0 can have sent and port 1 not yet counted.
burst=32
work=$(mktemp -d /tmp/dpdk-testpmd.XXXXXX)
hugedir=$work/huge
nr_hugepages=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

# "NAME COUNT" for each vfio interrupt of BDF in /proc/interrupts (the
# count summed over the CPUs), whatever type the user chose.
vfio_irqs() { # bdf
	awk -v b="($1)" 'index($NF, b) && $NF ~ /^vfio-(msix|msi|intx)/ {
		n = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++)
			n += $i
		name = $NF
		sub(/\(.*/, "", name)
		print name, n
	}' /proc/interrupts
}

# All vfio interrupts of BDF so far, 0 when it has none.
vfio_irq_total() { # bdf
	vfio_irqs "$1" | awk '{ n += $2 } END { print n + 0 }'
}

no_vfio_irqs() { # bdf
	[ -z "$(vfio_irqs "$1")" ]
}

# Does process PID have /dev/vfio/GROUP open?
holds_group() { # pid group
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = "/dev/vfio/$2" ] && return 0
	done
	return 1
}

meminfo() { # field
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

hugepages_in_use() {
	[ "$(meminfo HugePages_Free)" -lt "$(meminfo HugePages_Total)" ]
}

hugepages_all_free() {
	[ "$(meminfo HugePages_Free)" -eq "$(meminfo HugePages_Total)" ]
}

numeric() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
}

# A <= B <= A + slack, all of them numbers.
within() { # a b slack
	numeric "$1" && numeric "$2" && numeric "$3" &&
		[ "$1" -le "$2" ] && [ "$2" -le $(($1 + $3)) ]
}

# Each pair BEFORE AFTER of numbers grew.
grew() { # before after [before after...]
	while [ $# -ge 2 ]; do
		numeric "$1" && numeric "$2" && [ "$2" -gt "$1" ] || return 1
		shift 2
	done
}

all_zero() {
	local v
	for v in "$@"; do
		numeric "$v" && [ "$v" -eq 0 ] || return 1
	done
}

# ---- driving testpmd ------------------------------------------------------
# Interactive testpmd, its commands written to a fifo it has as stdin, its
# output in $tp_log.  The command line prints its prompt once at start and
# after each command has finished, so counting prompts tells when the
# output of a command is complete.  stdbuf makes testpmd's stdout line
# buffered: fully buffered into a file, the statistics would only show up
# when it exits.
tp_pid=
tp_log=
tp_prompts=0

# True once testpmd has exited (a zombie counts: we reap it later).
tp_exited() {
	local stat
	read -r stat 2>/dev/null <"/proc/$tp_pid/stat" || return 0
	stat=${stat##*) }
	[ "${stat%% *}" = Z ]
}

tp_wait_prompt() { # count secs
	local i n
	for ((i = 0; i < $2 * 4; i++)); do
		n=$(grep -o 'testpmd> ' "$tp_log" | wc -l)
		[ "$n" -ge "$1" ] && return 0
		tp_exited && return 1
		sleep 0.25
	done
	return 1
}

tp_start() { # log
	tp_log=$1
	rm -f "$work/cmd"
	mkfifo "$work/cmd" || return 1
	# Read-write, so that opening it does not wait for the reader; the
	# child gets its own read-only descriptor and not this one, so it
	# sees end of file if this script goes away.
	exec 3<>"$work/cmd"
	# The VM has one CPU: the main lcore (the command line) and the
	# forwarding lcore share it.  Memory stays small for TCG: 64 MiB of
	# hugepages, 2048 mbufs for two 256-descriptor rings each way.
	# --in-memory keeps no hugepage files and no runtime directory, so
	# that what is left after exit is only what the kernel failed to free.
	stdbuf -oL dpdk-testpmd -v --lcores 0@0,1@0 --in-memory --no-telemetry \
		-m 64 --huge-dir "$hugedir" -a "${nics[0]}" -a "${nics[1]}" -- \
		-i --forward-mode=io --burst="$burst" --rxd=256 --txd=256 \
		--total-num-mbufs=2048 --mbcache=32 \
		<"$work/cmd" 3>&- >"$tp_log" 2>&1 &
	tp_pid=$!
	tp_prompts=1
	# Probing and link checks take several seconds under TCG.
	tp_wait_prompt 1 180
}

tp_cmd() { # command [secs]
	printf '%s\n' "$1" >&3 || return 1
	tp_prompts=$((tp_prompts + 1))
	tp_wait_prompt "$tp_prompts" "${2:-60}"
}

# Quit (or, if it does not go within a minute, kill) testpmd; its exit
# status in $tp_rc.
tp_quit() {
	local i
	printf 'quit\n' >&3
	exec 3>&-
	for ((i = 0; i < 600; i++)); do
		tp_exited && break
		sleep 0.1
	done
	tp_exited || kill -KILL "$tp_pid"
	tp_rc=0
	wait "$tp_pid" || tp_rc=$?
}

# Port P's counters from the last "show port stats" block for it in the
# log: RX-packets RX-missed RX-errors RX-nombuf TX-packets TX-errors Tx-pps.
nic_stats() { # port
	awk -v p="$1" '
		/statistics for port/ { mine = ($2 == "NIC" && $6 == p); next }
		!mine { next }
		$1 == "RX-packets:" { rx = $2; missed = $4 }
		$1 == "RX-errors:" { rxerr = $2 }
		$1 == "RX-nombuf:" { nombuf = $2 }
		$1 == "TX-packets:" { tx = $2; txerr = $4 }
		$1 == "Tx-pps:" { pps = $2; mine = 0 }
		END { if (pps != "") print rx, missed, rxerr, nombuf, tx, txerr, pps }
	' "$tp_log"
}

# Port P's RX-dropped and TX-dropped from the forward statistics "stop"
# printed last.
fwd_drops() { # port
	awk -v p="$1" '
		/statistics for port/ { mine = ($2 == "Forward" && $6 == p); next }
		mine && $1 == "RX-packets:" { rxd = $4 }
		mine && $1 == "TX-packets:" { txd = $4; mine = 0 }
		END { if (txd != "") print rxd, txd }
	' "$tp_log"
}

# The port lines of the last "show port summary" in the log: PORT MAC
# NAME DRIVER STATUS LINK-SPEED.
last_summary() {
	awk '/Number of available ports/ { n = 0; next }
		$1 ~ /^[0-9]+$/ && $3 ~ /^[0-9a-f]+:[0-9a-f]+:[0-9a-f]+\.[0-7]$/ {
			row[n++] = $0
		}
		END { for (i = 0; i < n; i++) print row[i] }' "$tp_log"
}

# Is BDF a port, driven by the em PMD?
summary_has() { # bdf
	last_summary | awk -v b="$1" '$3 == b && $4 == "net_e1000_em" { f = 1 }
		END { exit !f }'
}

# Both links up?
links_up() {
	last_summary | awk '$4 == "net_e1000_em" && $5 == "up" { n++ }
		END { exit n != 2 }'
}

# One testpmd run: start, look at it, forward for SECS seconds, stop, read
# the counters, quit, judge.
run_testpmd() { # label secs
	local label=$1 secs=$2 p q b log snap
	local -A st=()
	log=$VM_OUT/testpmd-${label// /-}.log
	if ! tp_start "$log"; then
		fail "$label: testpmd starts and prompts"
		echo "# $label: testpmd's output is in $log"
		kill -KILL "$tp_pid" 2>/dev/null
		exec 3>&-
		wait "$tp_pid"
		return 1
	fi
	pass "$label: testpmd starts and prompts"
	version=$(sed -n "s/^EAL: RTE Version: '\(.*\)'\$/\1/p" "$log")

	for b in "${nics[@]}"; do
		check "$label: em PMD probed $b" grep -qF \
			"Probe PCI driver: net_e1000_em (8086:10d3) device: $b" "$log"
		check "$label: testpmd holds $b's IOMMU group open" \
			holds_group "$tp_pid" "${groups[$b]}"
		check "$label: $b has vfio interrupts" test -n "$(vfio_irqs "$b")"
		vfio_irqs "$b" | sed "s/^/# $label: $b: /"
	done
	# The link coming up as the ports start raises the em driver's link
	# interrupt: it must reach testpmd through that vfio interrupt.
	# (With testpmd's --no-lsc-interrupt the vector is set up but never
	# fires.)
	for p in 0 1; do
		check "$label: testpmd got port $p's link state change event" \
			wait_line "$log" "^Port $p: link state change event" 20
	done
	for b in "${nics[@]}"; do
		check "$label: $b's vfio interrupt fired" \
			test "$(vfio_irq_total "$b")" -ge 1
	done
	check "$label: testpmd's memory is in hugepages" hugepages_in_use
	check "$label: show port summary" tp_cmd "show port summary all"
	for b in "${nics[@]}"; do
		check "$label: $b is a port of the em PMD" summary_has "$b"
	done

	check "$label: both links up" links_up

	check "$label: start tx_first" tp_cmd "start tx_first"
	# S1 also starts testpmd's own throughput interval, which S2 ends.
	sleep 1
	check "$label: port stats while forwarding" tp_cmd "show port stats all"
	for p in 0 1; do read -r "st[S1,$p,rx]" _ _ _ "st[S1,$p,tx]" _ _ < <(nic_stats "$p"); done
	sleep "$secs"
	check "$label: port stats while forwarding, later" tp_cmd "show port stats all"
	for p in 0 1; do read -r "st[S2,$p,rx]" _ _ _ "st[S2,$p,tx]" _ "st[S2,$p,pps]" < <(nic_stats "$p"); done
	check "$label: stop" tp_cmd "stop"
	# Forwarding has stopped: these counters no longer move.
	check "$label: port stats after stop" tp_cmd "show port stats all"
	for p in 0 1; do
		read -r "st[$p,rx]" "st[$p,missed]" "st[$p,rxerr]" "st[$p,nombuf]" \
			"st[$p,tx]" "st[$p,txerr]" _ < <(nic_stats "$p")
		read -r "st[$p,rxdrop]" "st[$p,txdrop]" < <(fwd_drops "$p")
	done
	tp_quit
	check "$label: testpmd quits with status 0" test "$tp_rc" -eq 0

	for p in 0 1; do
		q=$((1 - p))
		echo "# $label: port $p: RX ${st[$p,rx]} TX ${st[$p,tx]} missed ${st[$p,missed]} errors ${st[$p,rxerr]}/${st[$p,txerr]} nombuf ${st[$p,nombuf]} dropped ${st[$p,rxdrop]}/${st[$p,txdrop]}"
		check "$label: port $p sent more than its first burst" \
			test "${st[$p,tx]}" -gt "$burst"
		check "$label: port $p received" test "${st[$p,rx]}" -gt 0
		check "$label: port $p's counters grew while forwarding" \
			grew "${st[S1,$p,tx]}" "${st[S2,$p,tx]}" \
			"${st[S1,$p,rx]}" "${st[S2,$p,rx]}"
		# Port q counts a packet when it lands in its ring; the ones
		# port p sent and q has not counted yet are in flight, one
		# burst at most (see $burst).
		check "$label: port $q received what port $p sent, but for one burst in flight" \
			within "${st[$q,rx]}" "${st[$p,tx]}" "$burst"
		# Nothing may be lost: the rings (256) hold eight times what
		# circulates, the pool (2048 mbufs) fills both rings with room
		# to spare, and an emulated wire corrupts nothing.
		check "$label: port $p: no RX missed, errors or nombuf, no TX errors" \
			all_zero "${st[$p,missed]}" "${st[$p,rxerr]}" \
			"${st[$p,nombuf]}" "${st[$p,txerr]}"
		check "$label: port $p: forwarding dropped nothing" \
			all_zero "${st[$p,rxdrop]}" "${st[$p,txdrop]}"
	done
	snap=$((${st[S2,0,pps]:-0} + ${st[S2,1,pps]:-0}))
	echo "# $label: $snap packets/s sent by both ports together (testpmd's Tx-pps over ${secs}s)"
}

# What a run must leave behind: nothing.
after_run() { # label
	local b
	for b in "${nics[@]}"; do
		check "after $1: no vfio interrupt of $b left" no_vfio_irqs "$b"
	done
	check "after $1: every hugepage free again" hugepages_all_free
}

clear_override() { # bdf
	local o
	echo >"/sys/bus/pci/devices/$1/driver_override" || return 1
	read -r o <"/sys/bus/pci/devices/$1/driver_override"
	[ "$o" = "(null)" ]
}

probe_e1000e() { # bdf
	echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null
	[ "$(driver_of "$1")" = e1000e ]
}

netdev_of() { # bdf
	local d
	for d in /sys/bus/pci/devices/"$1"/net/*; do
		[ -e "$d" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}

# ip link set up, then wait for the kernel to report the link up.
bring_up() { # bdf
	local dev state i
	dev=$(netdev_of "$1") || return 1
	ip link set dev "$dev" up || return 1
	for ((i = 0; i < 100; i++)); do
		read -r state <"/sys/class/net/$dev/operstate"
		[ "$state" = up ] && return 0
		sleep 0.2
	done
	echo "$dev: operstate $state" >&2
	return 1
}

# ---- the test --------------------------------------------------------------
if ! command -v dpdk-testpmd >/dev/null; then
	fail "dpdk-testpmd is installed (harness/setup.sh installs dpdk-dev)"
	finish
fi
load_vfio_pci

nics=()
declare -A groups=()
for n in 1 2; do
	if b=$(find_dev 8086:10d3 "$n"); then
		nics+=("$b")
	fi
done
check "two e1000e NICs present" test "${#nics[@]}" -eq 2
[ "${#nics[@]}" -eq 2 ] || finish
for b in "${nics[@]}"; do
	check "$b bound to vfio-pci" bind_vfio "$b"
	groups[$b]=$(iommu_group "$b")
done

mkdir -p "$hugedir"
check "mount hugetlbfs" mount -t hugetlbfs -o pagesize=2M nodev "$hugedir"
echo 64 >"$nr_hugepages"
check "64 hugepages of 2 MiB reserved" test "$(meminfo HugePages_Total)" -eq 64

run_testpmd "run 1" 4
echo "# testpmd: ${version:-unknown} (dpdk-dev $(dpkg-query -W -f='${Version}' dpdk-dev 2>/dev/null))"
after_run "run 1"
# At once: nothing may need time to settle after the first user quit.
run_testpmd "run 2" 2
after_run "run 2"

umount "$hugedir"
echo 0 >"$nr_hugepages"

# Give the NICs back to the host's own driver.
check "modprobe e1000e" modprobe e1000e
for b in "${nics[@]}"; do
	check "$b unbound from vfio-pci" unbind "$b"
	check "$b: driver_override cleared" clear_override "$b"
	check "$b: e1000e probes it" probe_e1000e "$b"
	check "$b: e1000e brings its link up" bring_up "$b"
done

vfio_lib_end
