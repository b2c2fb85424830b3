#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/intree-check.sh - prove that our Kbuild/Kconfig files and sources
# also work when dropped into a real 6.12 kernel tree, next to the upstream
# variant drivers that build on vfio-pci-core.
#
# What it does:
#   1. gets the extracted linux-source-6.12 tree from harness/ksrc.sh;
#   2. makes ONE hardlinked copy of it (cp -al: costs inodes, not 1.5 GB)
#      and overlays our kernel paths onto that copy:
#        drivers/vfio/pci/**              (ours replace upstream's, except
#                                          that upstream variant subdirs we
#                                          do not have are kept)
#        include/linux/vfio_pci_core.h
#        include/linux/mlx5/vfio_pci.h    (when we have it)
#      A changed file is removed and written anew, never written into, so
#      the hardlinked originals shared with the extracted tree are never
#      modified;
#   3. configures an O= build dir (x86_64_defconfig + VFIO, COMPILE_TEST
#      and every variant with its dependencies), runs modules_prepare;
#   4. compiles every module of drivers/vfio/pci (core, vfio-pci and each
#      variant) as its own composite-object target in one make -k, so one
#      module's failure cannot hide another's; rebuilds each failed one
#      alone for an unmixed error log; links the rest (modpost + .ko); and
#      checks that every vfio_pci_* symbol a module needs is exported by
#      our vfio-pci-core.ko.
#
# Everything expensive is cached under $INTREE_DIR and keyed on the source
# package version; a second run with no changes takes seconds.
#
# Each row of the table is held to its expected result ("expected" below,
# with the reason for each module that is not expected to build): a module
# that stops building fails the check, and so does one that starts to (the
# list must stay true to be worth anything) or a row the list lacks.
#
# Usage: harness/intree-check.sh [--strict] [--clean] [-v]
#   --strict  also fail when any module does not build, whatever expected
#             says
#   --clean   throw away the cached work tree and build dir first
#   -v        print the full log of each failed module
# Env:   REPO        tree to check (default: the repo holding this script)
#        INTREE_DIR  cache dir (default: $XDG_CACHE_HOME/vfio-pci-dev/intree)
#        JOBS        make -j value (default: nproc)
#
# Exit: 0 ok, 1 a required module failed, 2 usage/environment problem.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "${REPO:-$here/..}" && pwd)
JOBS=${JOBS:-$(nproc)}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vfio-pci-dev

strict=0
clean=0
verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	--strict) strict=1 ;;
	--clean) clean=1 ;;
	-v|--verbose) verbose=1 ;;
	-h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "intree-check.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

if [ ! -f "$REPO/drivers/vfio/pci/Makefile" ]; then
	echo "intree-check.sh: $REPO/drivers/vfio/pci/Makefile does not exist" >&2
	exit 2
fi
for tool in flock cmp; do
	if ! command -v "$tool" >/dev/null; then
		echo "intree-check.sh: $tool is required" >&2
		exit 2
	fi
done

t_start=$SECONDS
stamp() { printf '[%4ds] %s\n' "$((SECONDS - t_start))" "$*"; }

ksrc=$("$here/ksrc.sh")
key=$(basename "$ksrc")
INTREE_DIR=${INTREE_DIR:-$cache/intree}
work=$INTREE_DIR/$key
tree=$work/src		# hardlinked copy of $ksrc plus our overlay
out=$work/out		# O= build dir: .config, generated files, objects
logs=$work/logs

mkdir -p "$INTREE_DIR"
# One run at a time per cache: two runs would overlay and build the same
# files concurrently.
exec 9>"$INTREE_DIR/.lock"
if ! flock -n 9; then
	echo "intree-check.sh: waiting for another run to finish ..." >&2
	flock 9
fi

if [ "$clean" -eq 1 ]; then
	stamp "removing cached $work"
	rm -rf "$work"
fi
mkdir -p "$work"
rm -rf "$logs"
mkdir -p "$logs"

declare -A timing

# --------------------------------------------------------------------------
# 1. the work tree
# --------------------------------------------------------------------------
if [ ! -d "$tree" ]; then
	t0=$SECONDS
	stamp "hardlinking $ksrc -> $tree"
	rm -rf "$tree.tmp"
	cp -al "$ksrc" "$tree.tmp"
	mv -T "$tree.tmp" "$tree"
	timing[hardlink]=$((SECONDS - t0))
fi

# --------------------------------------------------------------------------
# 2. overlay our files
# --------------------------------------------------------------------------
t0=$SECONDS
pci=drivers/vfio/pci
# Upstream variant drivers, each a subdir of drivers/vfio/pci in the
# source package.  Ours replaces upstream's when we have that subdir.
mapfile -t upstream_variants < <(cd "$ksrc/$pci" && find . -mindepth 1 \
	-maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort)

# Never carry build products from the repo into the tree: an out-of-tree
# build in the repo leaves *.o and .*.cmd files next to the sources, and
# with O= make's VPATH would happily pick a stale object up from srctree.
is_junk() {
	case ${1##*/} in
	*.o|*.ko|*.mod|*.mod.c|.*.cmd|*.a|*.symvers|modules.order|.*.d|\
	.tmp_*|*.dwo|*.s|*.i|*.lst) return 0 ;;
	esac
	return 1
}

# Make file $2 hold what file $1 holds.  Unchanged files are left alone so
# make sees no new timestamps.  A changed file is removed and written anew,
# never written into: it may be a hardlink shared with the pristine
# extraction.  The new copy gets the current time, so make rebuilds it.
sync_file() {
	if [ -f "$2" ] && [ ! -L "$2" ] && cmp -s "$1" "$2"; then
		return 0
	fi
	rm -f "$2"
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2"
}

# Make directory $2 hold exactly the non-junk files of $1, except that the
# top-level subdirs named after $3.. are not touched.
sync_dir() {
	local from=$1 to=$2 f rel
	shift 2
	is_skipped() {
		local s
		for s in "$@"; do
			case $rel in "$s"/*) return 0 ;; esac
		done
		return 1
	}
	# delete what is no longer ours
	while IFS= read -r -d '' f; do
		rel=${f#"$to"/}
		is_skipped "$@" && continue
		if [ ! -f "$from/$rel" ] || is_junk "$rel"; then
			rm -f "$f"
		fi
	done < <(find "$to" -type f -print0 2>/dev/null)
	# add or update the rest
	while IFS= read -r -d '' f; do
		rel=${f#"$from"/}
		is_junk "$rel" && continue
		is_skipped "$@" && continue
		sync_file "$f" "$to/$rel"
	done < <(find "$from" -type f -print0)
	find "$to" -mindepth 1 -type d -empty -delete 2>/dev/null || true
}

kept=()
for v in "${upstream_variants[@]}"; do
	[ -d "$REPO/$pci/$v" ] || kept+=("$v")
done
sync_dir "$REPO/$pci" "$tree/$pci" "${kept[@]}"
# Kept upstream subdirs are synced from the pristine source: a no-op when
# unchanged, and it puts upstream's copy back if our own version of that
# subdir was overlaid by an earlier run and has since been removed.
for v in "${kept[@]}"; do
	sync_dir "$ksrc/$pci/$v" "$tree/$pci/$v"
done
ours_headers=(include/linux/vfio_pci_core.h include/linux/mlx5/vfio_pci.h)
for h in "${ours_headers[@]}"; do
	if [ -f "$REPO/$h" ]; then
		sync_file "$REPO/$h" "$tree/$h"
	elif [ -f "$ksrc/$h" ]; then
		sync_file "$ksrc/$h" "$tree/$h"	# back to upstream's
	else
		rm -f "$tree/$h"
	fi
done
timing[overlay]=$((SECONDS - t0))

# kmake: make in the work tree with a separate output dir, so the source
# tree (hardlinked to the pristine extraction) only ever gains nothing.
kmake() {
	make -C "$tree" O="$out" -j"$JOBS" "$@"
}

# --------------------------------------------------------------------------
# 3. configure (cached on the inputs) and modules_prepare
# --------------------------------------------------------------------------
# Symbols to switch on.  VFIO_PCI_CORE itself has no prompt; VFIO_PCI and
# the variants select it.  COMPILE_TEST lets the arm64-only variants
# (hisilicon, nvgrace-gpu) and their dependencies be enabled on x86_64.
# Dependencies are modules where they can be, to keep modules_prepare and
# the config small.
cfg_y=(MODULES PCI PCI_MSI PCI_IOV IOMMU_SUPPORT ACPI VGA_ARB COMPILE_TEST
       VFIO_PCI_IGD VFIO_PCI_VGA
       CRYPTO_HW NET_VENDOR_AMD NET_VENDOR_MELLANOX VIRTIO_MENU VIRTIO_PCI)
cfg_m=(VFIO VFIO_PCI
       UACCE CRYPTO_DEV_HISI_HPRE CRYPTO_DEV_HISI_SEC2 CRYPTO_DEV_HISI_ZIP
       HISI_ACC_VFIO_PCI
       PDS_CORE PDS_VFIO_PCI
       NVGRACE_GPU_VFIO_PCI
       VIRTIO_VFIO_PCI
       CRYPTO_DEV_QAT_4XXX QAT_VFIO_PCI
       MLX5_CORE MLX5_VFIO_PCI)
# Reported after olddefconfig: what we asked for and what it needs.
cfg_report=(VFIO VFIO_PCI_CORE VFIO_PCI VFIO_PCI_MMAP VFIO_PCI_INTX
	    VFIO_PCI_IGD VFIO_PCI_VGA COMPILE_TEST IOMMUFD
	    CRYPTO_DEV_HISI_QM HISI_ACC_VFIO_PCI PDS_CORE PDS_VFIO_PCI
	    NVGRACE_GPU_VFIO_PCI VIRTIO_PCI VIRTIO_PCI_ADMIN_LEGACY
	    VIRTIO_VFIO_PCI CRYPTO_DEV_QAT_4XXX QAT_VFIO_PCI MLX5_CORE
	    MLX5_VFIO_PCI)

# The config depends on this script's symbol lists and on every Kconfig
# file the overlay may have changed.  If none changed, keep the .config as
# is: regenerating it would make kbuild redo syncconfig and more.
cfg_key=$( {
	printf '%s\n' "${cfg_y[@]}" -- "${cfg_m[@]}"
	find "$tree/drivers/vfio" -name 'Kconfig*' -print0 |
		LC_ALL=C sort -z | xargs -0 cat
} | sha256sum | cut -d' ' -f1)

t0=$SECONDS
if [ ! -f "$out/.config" ] || [ "$(cat "$out/.cfg-key" 2>/dev/null)" != "$cfg_key" ]; then
	stamp "configuring $out"
	mkdir -p "$out"
	rm -f "$out/.cfg-key"
	kmake x86_64_defconfig >"$logs/config.log" 2>&1
	args=()
	for s in "${cfg_y[@]}"; do args+=(--enable "$s"); done
	for s in "${cfg_m[@]}"; do args+=(--module "$s"); done
	"$tree/scripts/config" --file "$out/.config" "${args[@]}"
	kmake olddefconfig >>"$logs/config.log" 2>&1
	printf '%s\n' "$cfg_key" >"$out/.cfg-key"
	timing[config]=$((SECONDS - t0))
fi

config_val() {
	local v
	v=$(grep -E "^(# )?CONFIG_$1[= ]" "$out/.config" | head -n1)
	case $v in
	"CONFIG_$1="*) printf '%s' "${v#*=}" ;;
	"# CONFIG_$1 is not set") printf 'n' ;;
	*) printf -- '-' ;;	# not visible: dependencies unmet or unknown
	esac
}

t0=$SECONDS
stamp "make modules_prepare"
if ! kmake modules_prepare >"$logs/modules_prepare.log" 2>&1; then
	echo "intree-check.sh: modules_prepare failed; see $logs/modules_prepare.log" >&2
	tail -n 20 "$logs/modules_prepare.log" >&2
	exit 2
fi
timing[modules_prepare]=$((SECONDS - t0))

# --------------------------------------------------------------------------
# 4. find the modules and build them
# --------------------------------------------------------------------------
# A row per module: "<row name> <dir relative to the tree> <module> <symbol>",
# read from the Makefiles in the tree (ours for the top level, so the
# table follows what our Makefile really builds).  Only the plain
# 'obj-$(CONFIG_FOO) += name.o' and '+= dir/' forms are understood, which
# is what these Makefiles use.
rows=()
declare -A wired	# variant subdirs our top-level Makefile descends into
modules_in() {
	# prints "<symbol> <module>" per module in Makefile $1
	sed -n -E 's/^[[:space:]]*obj-\$\(CONFIG_([A-Za-z0-9_]+)\)[[:space:]]*[:+]?=[[:space:]]*(.*)$/\1 \2/p' "$1" |
		while read -r sym rest; do
			for o in $rest; do
				case $o in *.o) printf '%s %s\n' "$sym" "${o%.o}" ;; esac
			done
		done
}
subdirs_in() {
	sed -n -E 's/^[[:space:]]*obj-\$\(CONFIG_([A-Za-z0-9_]+)\)[[:space:]]*[:+]?=[[:space:]]*(.*)$/\1 \2/p' "$1" |
		while read -r sym rest; do
			for o in $rest; do
				case $o in */) printf '%s %s\n' "$sym" "${o%/}" ;; esac
			done
		done
}
while read -r sym mod; do
	case $mod in
	vfio-pci-core) rows+=("core $pci $mod $sym") ;;
	*) rows+=("$mod $pci $mod $sym") ;;
	esac
done < <(modules_in "$tree/$pci/Makefile")
while read -r sym d; do
	wired[$d]=1
	[ -f "$tree/$pci/$d/Makefile" ] || { rows+=("$d $pci/$d ? $sym"); continue; }
	while read -r msym mod; do
		rows+=("$d $pci/$d $mod $msym")
	done < <(modules_in "$tree/$pci/$d/Makefile")
done < <(subdirs_in "$tree/$pci/Makefile")
# Upstream variants our Makefile does not descend into still get a row, so
# a forgotten 'obj-$(CONFIG_...) += dir/' line shows up in the table.
for v in "${upstream_variants[@]}"; do
	[ -n "${wired[$v]:-}" ] && continue
	while read -r msym mod; do
		rows+=("$v $pci/$v $mod $msym")
	done < <(modules_in "$tree/$pci/$v/Makefile")
done

is_required() { [ "$1" = core ] || [ "$1" = vfio-pci ]; }

# What each row must say under "compiles": the upstream 6.12 variant
# drivers all build against our vfio_pci_core.h, and must keep doing so.
# A "no" needs its reason here.
declare -A expected=(
	[core]=yes
	[vfio-pci]=yes
	[mlx5]=yes
	[hisilicon]=yes
	[pds]=yes
	[virtio]=yes
	[nvgrace-gpu]=yes
	[qat]=yes
	# Needs KUnit, which this x86_64_defconfig-based configuration does
	# not enable; the debug kernel builds it and 77-kunit runs it.
	[vfio_pci_kunit]=no
)

declare -A status note
objs=()		# composite objects: <dir>/<module>.o
for r in "${rows[@]}"; do
	read -r name dir mod sym <<<"$r"
	val=$(config_val "$sym")
	if [ "$mod" = "?" ]; then
		status[$name]=no
		note[$name]="$dir/Makefile missing"
	elif [ "$val" != m ] && [ "$val" != y ]; then
		status[$name]=no
		note[$name]="not enabled: CONFIG_$sym=$val (Kconfig deps unmet or symbol unknown)"
	elif [ -z "${wired[${dir#"$pci"/}]:-}" ] && [ "$dir" != "$pci" ]; then
		status[$name]=no
		note[$name]="$pci/Makefile does not descend into ${dir#"$pci"/}/"
	else
		status[$name]=pending
		objs+=("$dir/$mod.o")
	fi
done

first_error() {
	# The first compiler/linker error, else make's own complaint.
	local l
	l=$(grep -m1 -E '(error|Error):|undefined reference' "$1" || true)
	[ -n "$l" ] || l=$(grep -m1 -E '^make.*\*\*\*' "$1" || true)
	[ -n "$l" ] || l="nothing produced; see $1"
	printf '%s' "$l" | sed -e "s|$tree/||g" -e "s|$out/||g" | cut -c1-160
}

# Phase 1, compile: every enabled module's composite object (its .c files
# compiled and linked together with ld -r) as single targets of one make
# -k run.  Composite objects do not depend on each other, so one module's
# failure cannot stop another's.  They are removed first so that "exists
# afterwards" means "built in this run"; the .o files of the individual
# sources stay, so an unchanged tree only re-runs ld -r.
t0=$SECONDS
for o in "${objs[@]}"; do rm -f "$out/$o" "$out/${o%.o}.ko"; done
if [ ${#objs[@]} -gt 0 ]; then
	stamp "compiling ${#objs[@]} modules: ${objs[*]##*/}"
	kmake -k "${objs[@]}" >"$logs/compile.log" 2>&1 || true
fi
kos=()
for r in "${rows[@]}"; do
	read -r name dir mod sym <<<"$r"
	[ "${status[$name]}" = pending ] || continue
	if [ -f "$out/$dir/$mod.o" ]; then
		kos+=("$dir/$mod.ko")
		continue
	fi
	# Compiled with others at -j, the log interleaves their output;
	# build this one alone so its first error is really its own.
	log=$logs/$name.log
	kmake -k "$dir/$mod.o" >"$log" 2>&1 || true
	status[$name]=no
	note[$name]=$(first_error "$log")
	if [ "$verbose" -eq 1 ]; then
		echo "---- $name: $log"
		cat "$log"
	fi
done
timing[compile]=$((SECONDS - t0))

# Phase 2, link: the modules that compiled, as single .ko targets of one
# make (modpost and the final link).  There is no vmlinux.o, so modpost
# cannot resolve core kernel symbols; KBUILD_MODPOST_WARN turns those
# errors into warnings.
t0=$SECONDS
if [ ${#kos[@]} -gt 0 ]; then
	stamp "linking ${#kos[@]} modules"
	kmake -k KBUILD_MODPOST_WARN=1 "${kos[@]}" >"$logs/link.log" 2>&1 || true
fi
for r in "${rows[@]}"; do
	read -r name dir mod sym <<<"$r"
	[ "${status[$name]}" = pending ] || continue
	if [ -f "$out/$dir/$mod.ko" ]; then
		status[$name]=yes
	else
		status[$name]=no
		note[$name]="compiles, but no .ko: $(first_error "$logs/link.log")"
	fi
done
timing[link]=$((SECONDS - t0))

# Variants call into vfio-pci-core.  modpost cannot tell us about missing
# core exports (without vmlinux.o every kernel symbol is unresolved and it
# suppresses most of the messages), so compare directly: every vfio_pci_*
# symbol a module leaves undefined must have a __ksymtab_ entry, i.e. be
# exported, in the vfio-pci-core.ko that was just built.
core_ko=
for r in "${rows[@]}"; do
	read -r name dir mod sym <<<"$r"
	[ "$name" = core ] && [ "${status[$name]}" = yes ] && core_ko=$out/$dir/$mod.ko
done
if [ -z "$core_ko" ]; then
	for r in "${rows[@]}"; do
		read -r name dir mod sym <<<"$r"
		if [ "${status[$name]}" != yes ] || [ "$name" = core ]; then continue; fi
		note[$name]="(core did not build: its exports were not checked)"
	done
else
	nm "$core_ko" | sed -n 's/.* __ksymtab_//p' | LC_ALL=C sort -u >"$logs/core-exports.txt"
	for r in "${rows[@]}"; do
		read -r name dir mod sym <<<"$r"
		if [ "${status[$name]}" != yes ] || [ "$name" = core ]; then continue; fi
		miss=$(nm -u "$out/$dir/$mod.ko" | awk '{print $NF}' |
			grep -E '^vfio_pci_' | LC_ALL=C sort -u |
			LC_ALL=C comm -23 - "$logs/core-exports.txt" | tr '\n' ' ' | sed 's/ $//' || true)
		if [ -n "$miss" ]; then
			status[$name]=no
			note[$name]="uses symbols our core does not export: $miss"
		fi
	done
fi

# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
echo
echo "==== in-tree check of $REPO in $key"
echo "config ($out/.config):"
known_syms=
for s in "${cfg_report[@]}"; do
	v=$(config_val "$s")
	if [ "$v" = - ]; then
		# Absent from .config: tell "our Kconfig does not define it"
		# from "its dependencies are not met".  Listing every symbol
		# of the tree takes a second, so only when needed.
		if [ -z "$known_syms" ]; then
			known_syms=$logs/kconfig-symbols.txt
			find "$tree" -name 'Kconfig*' -type f -print0 |
				xargs -0 sed -n -E 's/^[[:space:]]*(menu)?config[[:space:]]+([A-Za-z0-9_]+).*/\2/p' |
				LC_ALL=C sort -u >"$known_syms"
		fi
		if grep -qx "$s" "$known_syms"; then
			v="- (dependencies not met)"
		else
			v="- (no such symbol in the tree's Kconfig)"
		fi
	fi
	printf '  CONFIG_%-26s %s\n' "$s" "$v"
done
echo
printf '%-14s %-24s %-8s %-8s %s\n' row module compiles expected note
printf '%-14s %-24s %-8s %-8s %s\n' ---- ------ -------- -------- ----
rc=0
verdicts=()
declare -A seen=()
for r in "${rows[@]}"; do
	read -r name dir mod sym <<<"$r"
	seen[$name]=1
	want=${expected[$name]:-}
	printf '%-14s %-24s %-8s %-8s %s\n' "$name" "$mod.ko" "${status[$name]}" "${want:-?}" "${note[$name]:-}"
	if [ "${status[$name]}" != yes ]; then
		if is_required "$name" || [ "$strict" -eq 1 ]; then
			rc=1
		fi
	fi
	if [ -z "$want" ]; then
		verdicts+=("$name: no expected result; add it to 'expected' in $0")
		rc=1
	elif [ "${status[$name]}" != "$want" ]; then
		if [ "$want" = yes ]; then
			verdicts+=("$name: REGRESSION, $mod.ko no longer builds: ${note[$name]:-}")
		else
			verdicts+=("$name: builds now, but 'expected' in $0 says it does not: update it")
		fi
		rc=1
	fi
done
for n in "${!expected[@]}"; do
	[ -n "${seen[$n]:-}" ] ||
		verdicts+=("$n: expected in $0, but no such module in $pci/Makefile or its subdirectories")
	[ -n "${seen[$n]:-}" ] || rc=1
done
[ "${#verdicts[@]}" -eq 0 ] || { echo; printf '%s\n' "${verdicts[@]}"; }
for n in core vfio-pci; do
	if [ -z "${status[$n]:-}" ]; then
		echo "$n: no such module in $pci/Makefile"
		rc=1
	fi
done
echo
printf 'times:'
for k in hardlink overlay config modules_prepare compile link; do
	[ -n "${timing[$k]:-}" ] && printf ' %s=%ss' "$k" "${timing[$k]}"
done
printf ' total=%ss\n' "$((SECONDS - t_start))"
echo "logs: $logs"
if [ "$rc" -eq 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
exit $rc
