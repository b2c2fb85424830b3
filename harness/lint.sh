#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/lint.sh - static checks for the files this series puts in kernel
# paths.  Seven independent checks, all run even if an earlier one fails so
# one invocation shows everything:
#
#   checkpatch  scripts/checkpatch.pl --strict on every source file we own
#   kerneldoc   scripts/kernel-doc -Wall on our kernel C files and headers
#   sparse      out-of-tree module build with C=2 CHECK=sparse
#   w1          out-of-tree module build with W=1
#               (both also build the test-only mlx5_core model of
#               tools/testing/selftests/vfio/mlx5_core_model)
#   selftests   tools/testing/selftests/vfio/Makefile lists every
#               vfio_pci_*_test.c as a program, and no program without one
#   docs        Documentation/driver-api/vfio-pci built with Sphinx and the
#               kernel's kernel-doc extension, warnings as errors, every
#               export of drivers/vfio/pci/ rendered (harness/docs/build.sh,
#               into build/docs/)
#   maintainers MAINTAINERS: the kernel's get_maintainer.pl --self-test
#               (sections complete, every F:/X: pattern matches a file git
#               knows), fields in the kernel's order, and every file under
#               our kernel paths and tools/vfio-pci-bind in some entry
#
# Any ERROR/WARNING/CHECK from checkpatch, any sparse message and any
# compiler/modpost warning that points at one of OUR files is a failure.
# Diagnostics inside the distro's kernel headers are counted and shown as
# "not ours" but do not fail the run: we cannot fix them.
#
# Usage: harness/lint.sh [--only checkpatch|kerneldoc|sparse|w1|selftests|docs|maintainers]... [-v]
# Env:   REPO       tree to check (default: the repo this script is in)
#        KVER       kernel to build against (default: KERNEL_ABI from
#                   harness/kernel.env)
#        KDIR       kernel build dir (default: /lib/modules/$KVER/build)
#        LINT_DIR   scratch dir for the builds and logs (default: in the
#                   vfio-pci-dev cache dir)
#        JOBS       make -j value (default: nproc)
#        LINT_BUILD root: build through the root Makefile's `modules`
#                   target (with BUILD= pointing at a scratch dir);
#                   direct: run kbuild ourselves; auto (default): root
#                   when the root Makefile and the rsync it uses exist
#
# Exit status: 0 clean, 1 findings, 2 usage or environment problem.

# The run_* check functions are called as "run_$name", which shellcheck
# cannot follow (SC2317, "unreachable").
# shellcheck disable=SC2317
# shellcheck source-path=SCRIPTDIR

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "${REPO:-$here/..}" && pwd)

# Same kernel choice as the root Makefile: harness/kver.sh decides (pinned
# ABI or the fallback setup.sh installed), kernel.env if it is missing.
if [ -z "${KVER:-}" ] && [ -x "$here/kver.sh" ]; then
	KVER=$("$here/kver.sh" 2>/dev/null || true)
fi
if [ -z "${KVER:-}" ] && [ -r "$here/kernel.env" ]; then
	# kernel.env is plain KEY=value lines; source it in a subshell so it
	# cannot clobber our variables.
	# shellcheck source=kernel.env
	KVER=$(. "$here/kernel.env" && printf '%s' "${KERNEL_ABI:-}")
fi
KVER=${KVER:-$(uname -r)}
KDIR=${KDIR:-/lib/modules/$KVER/build}
JOBS=${JOBS:-$(nproc)}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vfio-pci-dev
LINT_DIR=${LINT_DIR:-$cache/lint}

only=()
verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	--only) only+=("$2"); shift 2 ;;
	-v|--verbose) verbose=1; shift ;;
	-h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "lint.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
want() {
	[ ${#only[@]} -eq 0 ] && return 0
	local o
	for o in "${only[@]}"; do [ "$o" = "$1" ] && return 0; done
	return 1
}

if [ ! -d "$REPO/drivers/vfio/pci" ]; then
	echo "lint.sh: $REPO/drivers/vfio/pci does not exist" >&2
	exit 2
fi

mkdir -p "$LINT_DIR"
declare -A result	# check name -> "ok" / "FAIL (n)" / "skipped"
declare -A detail	# check name -> log path
failed=0

# --------------------------------------------------------------------------
# checkpatch
# --------------------------------------------------------------------------

# Message types we tell checkpatch to ignore.  Keep this minimal: each
# entry must be something checkpatch cannot judge for a file checked with
# -f outside a kernel tree, never a style choice we merely dislike.
ignore_types=(
	# With --no-tree checkpatch cannot read MAINTAINERS, so in patch mode
	# it would ask about it for every new file.  It does not fire with -f
	# today; listed so a future switch to patch mode stays quiet for the
	# same reason.
	FILE_PATH_CHANGES
)

checkpatch_files() {
	# Everything we own under kernel paths.  Makefiles and Kconfig are
	# included: checkpatch checks their SPDX line and Kconfig help texts.
	(
		cd "$REPO"
		find drivers/vfio/pci -type f \
			\( -name '*.c' -o -name '*.h' -o -name Makefile \
			   -o -name Kbuild -o -name Kconfig \) -print
		for f in include/linux/vfio_pci_core.h \
			 include/linux/mlx5/vfio_pci.h; do
			[ -f "$f" ] && printf '%s\n' "$f"
		done
		find tools/testing/selftests/vfio -maxdepth 1 -type f \
			\( -name '*.c' -o -name '*.h' \) -print 2>/dev/null || true
		find tools/testing/selftests/vfio/mlx5_core_model -type f \
			\( -name '*.c' -o -name '*.h' -o -name Kbuild \) \
			-print 2>/dev/null || true
		# The test-only kernel modules of the harness, and the nested
		# guest's edu driver: kernel code too, held to the same rules.
		find harness/tests harness/guest -mindepth 2 -maxdepth 2 -type f \
			\( -name '*.c' -o -name '*.h' -o -name Kbuild \) \
			-print 2>/dev/null || true
		# The binding tool.
		find tools/vfio-pci-bind -type f \
			\( -name '*.c' -o -name Makefile \) \
			-print 2>/dev/null || true
	) | LC_ALL=C sort
}

run_checkpatch() {
	local ksrc cp log n=0 files
	log=$LINT_DIR/checkpatch.log
	: >"$log"
	detail[checkpatch]=$log
	if ! ksrc=$("$here/ksrc.sh"); then
		result[checkpatch]="FAIL (no kernel source)"
		return 1
	fi
	# checkpatch.pl finds spelling.txt and const_structs.checkpatch in
	# its own directory, so run it in place from the extracted tree.
	cp=$ksrc/scripts/checkpatch.pl
	mapfile -t files < <(checkpatch_files)
	if [ ${#files[@]} -eq 0 ]; then
		result[checkpatch]="skipped (no files)"
		return 0
	fi
	local ign
	ign=$(IFS=,; printf '%s' "${ignore_types[*]}")
	# --no-tree: the repo is not a kernel tree.  --show-types makes every
	# finding name its type, so an ignore can be argued about precisely.
	# Run from $REPO so reported paths are the repo-relative kernel paths.
	# checkpatch spends most of its time starting up, so run one per CPU,
	# each file into its own log, and join the logs in file order.
	local cpdir=$LINT_DIR/checkpatch.d i
	rm -rf "$cpdir"
	mkdir -p "$cpdir"
	# $0..$4 in the single quotes belong to the inner sh.
	# shellcheck disable=SC2016
	for i in "${!files[@]}"; do
		printf '%s\0%s\0' "$(printf '%04d' "$i")" "${files[$i]}"
	done | (cd "$REPO" && xargs -0 -n2 -P"$JOBS" sh -c \
		'perl "$0" --strict --no-tree --no-signoff --show-types \
			--color=never --ignore "$1" --summary-file \
			-f "$4" >"$2/$3.log" 2>&1 || true' \
		"$cp" "$ign" "$cpdir")
	for i in "${!files[@]}"; do
		cat "$cpdir/$(printf '%04d' "$i").log"
	done >"$log"
	# checkpatch exits non-zero on any finding, but so it does when it
	# cannot run; count the findings in its output instead, and treat a
	# file whose log lacks the closing "total:" line as a failure too.
	n=$(grep -cE '^(ERROR|WARNING|CHECK):' "$log" || true)
	for i in "${!files[@]}"; do
		if ! grep -qE 'total: [0-9]+ errors' "$cpdir/$(printf '%04d' "$i").log"; then
			echo "---- checkpatch did not finish on ${files[$i]}:"
			cat "$cpdir/$(printf '%04d' "$i").log"
			n=$((n + 1))
		fi
	done
	if [ "$n" -gt 0 ]; then
		result[checkpatch]="FAIL ($n in ${#files[@]} files)"
		echo "---- checkpatch findings:"
		# -A2 shows the "#line: FILE:" locator and the offending line.
		grep -E -A2 '^(ERROR|WARNING|CHECK):' "$log" | head -n 200
		return 1
	fi
	result[checkpatch]="ok (${#files[@]} files)"
}

# --------------------------------------------------------------------------
# Out-of-tree module builds (sparse, W=1)
# --------------------------------------------------------------------------

# Kbuild of 6.12 has no MO= (separate output dir for external modules; it
# arrived in 6.13), and an M= build writes objects next to the sources.
# So each check builds a private copy of drivers/vfio/pci in its own
# scratch dir, made afresh on every run (a fresh copy also guarantees that
# W=1 recompiles everything and so re-reports every warning).
#
# Preferred: the root Makefile's `modules` target, with BUILD= moved to the
# scratch dir; it copies the sources to $BUILD/oot and passes W= and C= on,
# so lint checks exactly what `make` builds.  Fallback (no root Makefile
# yet, or no rsync for its copy step): the same kbuild command line, run
# here.  NOSTDINC_FLAGS puts our include/ first, so the repo's
# include/linux/vfio_pci_core.h wins over the headers package's copy; the
# headers' top Makefile appends -nostdinc to NOSTDINC_FLAGS, but a
# command-line value replaces that, so -nostdinc is repeated.
LINT_BUILD=${LINT_BUILD:-auto}
if [ "$LINT_BUILD" = auto ]; then
	if [ -f "$REPO/Makefile" ] && grep -q '^modules:' "$REPO/Makefile" &&
	   command -v rsync >/dev/null; then
		LINT_BUILD=root
	else
		LINT_BUILD=direct
	fi
fi

# Set by prepare_build: where the build sees our driver and include files;
# classify() maps these back to repo paths.
src_copy=
inc_dir=

prepare_build() {
	local dir=$1
	rm -rf "$dir"
	mkdir -p "$dir"
	if [ "$LINT_BUILD" = root ]; then
		# The root Makefile copies into $(BUILD)/oot itself.
		src_copy=$dir/oot/drivers/vfio/pci
		inc_dir=$dir/oot/include
		return
	fi
	src_copy=$dir/drivers/vfio/pci
	inc_dir=$REPO/include
	mkdir -p "$src_copy"
	cp -a "$REPO/drivers/vfio/pci/." "$src_copy/"
	# Drop build products a developer may have left in the repo copy, so
	# that every file is really compiled.
	find "$src_copy" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.a' \
		-o -name modules.order -o -name Module.symvers \) -delete
}

make_module() {
	local dir=$1; shift
	if [ "$LINT_BUILD" = root ]; then
		make -C "$REPO" --no-print-directory BUILD="$dir" \
			KVER="$KVER" KDIR="$KDIR" -j"$JOBS" "$@" modules
		return
	fi
	local cfg=(CONFIG_VFIO_PCI_CORE=m CONFIG_VFIO_PCI=m)
	make -C "$KDIR" M="$src_copy" -j"$JOBS" \
		NOSTDINC_FLAGS="-nostdinc -I$inc_dir" \
		"${cfg[@]}" "$@" modules
}

# The test-only mlx5_core model (tools/testing/selftests/vfio/mlx5_core_model)
# is kernel code too: each build check also builds a fresh copy of it, with
# mlx5_core's private headers from the source tree as the root Makefile's
# test-modules does.  model_copy is where, for classify().
model_src=$REPO/tools/testing/selftests/vfio/mlx5_core_model
model_copy=

make_model() {
	local dir=$1/mlx5-core-model ksrc; shift
	model_copy=
	[ -d "$model_src" ] || return 0
	ksrc=$("$here/ksrc.sh") || return 1
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -a "$model_src/." "$dir/"
	model_copy=$dir
	make -C "$KDIR" M="$dir" -j"$JOBS" \
		MLX5_CORE_SRC="$ksrc/drivers/net/ethernet/mellanox/mlx5/core" \
		"$@" modules
}

# Classify diagnostic lines of a build log.  Ours: anything located in the
# build copy of drivers/vfio/pci or in our include/ files, and every modpost
# warning (modpost only looks at our modules in an M= build).  Paths inside
# the copy are rewritten back to repo-relative paths for the report.
classify() {
	local log=$1 ours=$2 others=$3
	local diag='(warning|error):'
	local mine="^(${src_copy}/|${inc_dir}/linux/vfio_pci_core\.h|${inc_dir}/linux/mlx5/vfio_pci\.h${model_copy:+|${model_copy}/})"
	grep -E "${mine}[^:]*:[0-9]+(:[0-9]+)?: ${diag}|^(WARNING|ERROR): modpost:" "$log" |
		sed -e "s|${src_copy}/|drivers/vfio/pci/|g" -e "s|${inc_dir}/|include/|g" \
		    ${model_copy:+-e "s|${model_copy}/|tools/testing/selftests/vfio/mlx5_core_model/|g"} |
		LC_ALL=C sort -u >"$ours" || true
	grep -E ": ${diag}" "$log" | grep -vE "$mine" |
		LC_ALL=C sort -u >"$others" || true
}

# fail_step STEP SUMMARY LOG: STEP failed with SUMMARY; its findings are
# the whole of LOG.  Returns 1, for the step to return.
fail_step() {
	result[$1]="FAIL ($2)"
	echo "---- $1 findings:"
	cat "$3"
	return 1
}

report_build() {
	local name=$1 rc=$2 log=$3 ours=$4 others=$5
	local n m
	n=$(wc -l <"$ours")
	m=$(wc -l <"$others")
	detail[$name]=$log
	local extra=""
	[ "$m" -gt 0 ] && extra+=", $m outside our files"
	[ "$rc" -ne 0 ] && extra+=", make exit $rc"
	if [ "$rc" -ne 0 ] || [ "$n" -gt 0 ]; then
		result[$name]="FAIL ($n in our files$extra)"
		echo "---- $name findings in our files:"
		head -n 100 "$ours"
		if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
			echo "---- $name: build failed; tail of $log:"
			tail -n 30 "$log"
		fi
		return 1
	fi
	result[$name]="ok"
	[ "$m" -gt 0 ] && result[$name]+=" ($m outside our files, ignored)"
	if [ "$verbose" -eq 1 ] && [ "$m" -gt 0 ]; then
		echo "---- $name: diagnostics outside our files (ignored):"
		head -n 50 "$others"
	fi
}

run_w1() {
	local dir=$LINT_DIR/w1 log=$LINT_DIR/w1.log rc=0
	prepare_build "$dir"
	make_module "$dir" W=1 >"$log" 2>&1 || rc=$?
	make_model "$dir" W=1 >>"$log" 2>&1 || rc=$?
	classify "$log" "$LINT_DIR/w1.ours" "$LINT_DIR/w1.others"
	report_build w1 "$rc" "$log" "$LINT_DIR/w1.ours" "$LINT_DIR/w1.others"
}

# Every kernel-doc comment complete (all members and parameters, return
# values) and every comment that starts with the kernel-doc marker well
# formed: the rst files pull these in.
run_kerneldoc() {
	local ksrc log=$LINT_DIR/kerneldoc.log n files
	detail[kerneldoc]=$log
	if ! ksrc=$("$here/ksrc.sh"); then
		result[kerneldoc]="FAIL (no kernel source)"
		return 1
	fi
	mapfile -t files < <(checkpatch_files | grep -v '^tools/' |
			     grep -E '\.[ch]$')
	(cd "$REPO" && "$ksrc/scripts/kernel-doc" -Wall -none "${files[@]}") \
		>"$log" 2>&1 || true
	n=$(grep -c 'warning\|error' "$log" || true)
	if [ "$n" -ne 0 ]; then
		fail_step kerneldoc "$n in ${#files[@]} files" "$log"
		return
	fi
	result[kerneldoc]="ok (${#files[@]} files)"
}

run_sparse() {
	local dir=$LINT_DIR/sparse log=$LINT_DIR/sparse.log rc=0
	if ! command -v sparse >/dev/null; then
		result[sparse]="FAIL (sparse not installed: apt-get install sparse)"
		return 1
	fi
	prepare_build "$dir"
	# First a plain build, so that the C=2 pass below compiles nothing and
	# its log holds sparse's output only (compiler warnings are the w1
	# check's business).  C=2 runs the checker on every source whether
	# or not it needs recompiling.
	if ! make_module "$dir" >"$LINT_DIR/sparse-prebuild.log" 2>&1; then
		cp "$LINT_DIR/sparse-prebuild.log" "$log"
		rc=1
	else
		make_module "$dir" C=2 CHECK=sparse >"$log" 2>&1 || rc=$?
	fi
	# The model has no separate prebuild: its compiler output is
	# compared with nothing but sparse's, and it builds warning-free.
	make_model "$dir" C=1 CHECK=sparse >>"$log" 2>&1 || rc=$?
	classify "$log" "$LINT_DIR/sparse.ours" "$LINT_DIR/sparse.others"
	report_build sparse "$rc" "$log" "$LINT_DIR/sparse.ours" "$LINT_DIR/sparse.others"
}

# --------------------------------------------------------------------------
# selftests Makefile
# --------------------------------------------------------------------------

# build-selftests.sh builds every *_test.c it finds, so a program missing
# from the in-tree Makefile goes unnoticed here and is then never built or
# installed by a kernel tree's kselftest run.
run_selftests() {
	local dir=$REPO/tools/testing/selftests/vfio prog f listed
	local -a missing=() orphans=()
	if [ ! -f "$dir/Makefile" ]; then
		result[selftests]="FAIL (no $dir/Makefile)"
		return 1
	fi
	# Every word assigned to TEST_GEN_PROGS or TEST_GEN_PROGS_EXTENDED,
	# continuation lines joined first.
	listed=$(sed -e ':a' -e '/\\$/{N; s/\\\n/ /; ba' -e '}' "$dir/Makefile" |
		sed -n -E 's/^[[:space:]]*TEST_GEN_PROGS(_EXTENDED)?[[:space:]]*[:+]?=//p' |
		tr -s ' \t' '\n' | sed '/^$/d' | LC_ALL=C sort -u)
	for f in "$dir"/vfio_pci_*_test.c; do
		[ -e "$f" ] || continue
		prog=${f##*/}
		prog=${prog%.c}
		grep -qxF "$prog" <<<"$listed" || missing+=("$prog")
	done
	while IFS= read -r prog; do
		[ -z "$prog" ] || [ -f "$dir/$prog.c" ] || orphans+=("$prog")
	done <<<"$listed"
	if [ ${#missing[@]} -gt 0 ] || [ ${#orphans[@]} -gt 0 ]; then
		result[selftests]="FAIL (${#missing[@]} unlisted, ${#orphans[@]} without a source)"
		echo "---- selftests: tools/testing/selftests/vfio/Makefile"
		for prog in "${missing[@]}"; do
			echo "$prog.c is not in TEST_GEN_PROGS or TEST_GEN_PROGS_EXTENDED"
		done
		for prog in "${orphans[@]}"; do
			echo "$prog is listed but $prog.c does not exist"
		done
		return 1
	fi
	result[selftests]="ok ($(grep -c . <<<"$listed") programs)"
}

# --------------------------------------------------------------------------
# docs
# --------------------------------------------------------------------------

# The guides pull the kernel-doc of every export in; harness/docs/build.sh
# fails on any Sphinx or kernel-doc warning and on an export the rendered
# pages lack.  Built where `make docs` builds, so the result can be read.
run_docs() {
	local log=$LINT_DIR/docs.log rc=0
	detail[docs]=$log
	"$REPO/harness/docs/build.sh" "$REPO/build/docs" >"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		fail_step docs "exit $rc" "$log"
		return
	fi
	result[docs]="ok ($(sed -n 's/^check-exports: \([0-9]*\) exports.*/\1 exports documented/p' "$log"))"
}

# --------------------------------------------------------------------------
# maintainers
# --------------------------------------------------------------------------

# The kernel's field order within an entry (what its
# scripts/parse-maintainers.pl sorts by).
maint_order=MRLSWQBCPTFXNK

# MAINTAINERS pattern -> extended regex, as get_maintainer.pl reads it: a
# pattern ending in / is a directory and matches everything below it, *
# and ? do not cross a /.
maint_regex() {
	local p=$1 r
	# The $ in the bracket is a character to escape, not an expansion.
	# shellcheck disable=SC2016
	r=$(printf '%s' "$p" | sed -e 's/[.+^$(){}|]/\\&/g' \
		-e 's/\*/[^\/]*/g' -e 's/?/[^\/]/g')
	case $p in
	*/) printf '^%s' "$r" ;;
	*) printf '^%s$' "$r" ;;
	esac
}

run_maintainers() {
	local ksrc log=$LINT_DIR/maintainers.log n=0 f line prev=- title=
	local entry=0 t
	local -a files pats=()	# "ENTRY TYPE REGEX" for every F: and X:
	detail[maintainers]=$log
	: >"$log"
	if [ ! -f "$REPO/MAINTAINERS" ]; then
		result[maintainers]="FAIL (no MAINTAINERS)"
		return 1
	fi
	if ! ksrc=$("$here/ksrc.sh"); then
		result[maintainers]="FAIL (no kernel source)"
		return 1
	fi
	# --self-test reads ./MAINTAINERS and matches the patterns against
	# `git ls-files`: a file not yet added to git counts as missing.
	# Its link test would go to the network, so only these two.
	(cd "$REPO" && perl "$ksrc/scripts/get_maintainer.pl" \
		--self-test=sections,patterns) >>"$log" 2>&1 ||
		echo "get_maintainer.pl --self-test failed" >>"$log"
	# Field order, and the patterns for the coverage check below.
	while IFS= read -r line; do
		case $line in
		'') prev=-; title= ;;
		[A-Z]:*)
			t=${line%%:*}
			if [[ $maint_order != *"$t"* ]]; then
				echo "MAINTAINERS: unknown field in $title: $line" >>"$log"
			elif [ "$prev" != - ] && [ "$t" != "$prev" ] &&
			     [[ ${maint_order#*"$prev"} != *"$t"* ]]; then
				echo "MAINTAINERS: $title: $t: after $prev:" >>"$log"
			fi
			prev=$t
			case $t in
			F|X) pats+=("$entry $t $(maint_regex "${line#*:$'\t'}")") ;;
			esac ;;
		*) title=$line; entry=$((entry + 1)) ;;
		esac
	done <"$REPO/MAINTAINERS"
	# Every file this series owns belongs to some entry: matched by one
	# of its F: patterns and by none of its X: patterns.
	mapfile -t files < <(cd "$REPO" && git ls-files -- drivers/vfio/pci \
		include/linux/vfio_pci_core.h include/linux/mlx5/vfio_pci.h \
		Documentation/driver-api/vfio-pci tools/testing/selftests/vfio \
		tools/vfio-pci-bind)
	for f in "${files[@]}"; do
		local -A in=() out=()
		local p e r hit=0
		for p in "${pats[@]}"; do
			read -r e t r <<<"$p"
			[[ $f =~ $r ]] || continue
			if [ "$t" = F ]; then in[$e]=1; else out[$e]=1; fi
		done
		for e in "${!in[@]}"; do
			[ -n "${out[$e]:-}" ] || { hit=1; break; }
		done
		unset in out
		[ "$hit" -eq 1 ] || echo "MAINTAINERS: no entry has $f" >>"$log"
	done
	n=$(grep -c . "$log" || true)
	if [ "$n" -ne 0 ]; then
		fail_step maintainers "$n" "$log"
		return
	fi
	result[maintainers]="ok ($entry entries, ${#files[@]} files covered)"
}

if want checkpatch || want kerneldoc || want sparse || want w1 ||
   want selftests || want docs || want maintainers; then :; else
	echo "lint.sh: --only takes checkpatch, kerneldoc, sparse, w1," \
	     "selftests, docs or maintainers" >&2
	exit 2
fi
if { want sparse || want w1; } && [ ! -f "$KDIR/Makefile" ]; then
	echo "lint.sh: no kernel build dir at $KDIR" \
	     "(apt-get install linux-headers-$KVER)" >&2
	exit 2
fi

start=$SECONDS
for c in checkpatch kerneldoc sparse w1 selftests docs maintainers; do
	want "$c" || { result[$c]="skipped"; continue; }
	t0=$SECONDS
	"run_$c" || failed=1
	result[$c]="${result[$c]} [$((SECONDS - t0))s]"
done

echo
echo "==== lint summary for $REPO (kernel $KVER, builds: $LINT_BUILD)"
for c in checkpatch kerneldoc sparse w1 selftests docs maintainers; do
	printf '  %-11s %s\n' "$c" "${result[$c]}"
	[ -n "${detail[$c]:-}" ] && printf '  %-11s   log: %s\n' "" "${detail[$c]}"
done
printf '  total %ds: %s\n' "$((SECONDS - start))" \
	"$([ $failed -eq 0 ] && echo PASS || echo FAIL)"
exit $failed
