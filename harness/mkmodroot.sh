#!/bin/bash
# Build the module tree the test VMs mount over /lib/modules:
# the distro's modules (hard links, no copy, when MODROOT is on the same
# file system; a copy otherwise) plus ours in updates/, with the module
# index made here on the host.  depmod inside a TCG guest over 9p
# takes minutes; here it takes seconds.
#
# Usage: harness/mkmodroot.sh KVER MODROOT KO_DIR
# Env:   MKMODROOT_SRC  the kernel's module tree (default /lib/modules/KVER;
#                       the debug kernel's is DIR/lib/modules/KVER)
set -euo pipefail

kver=$1 modroot=$2 kodir=$3
src=${MKMODROOT_SRC:-/lib/modules/$kver}
dst=$modroot/lib/modules/$kver

[ -d "$src/kernel" ] || { echo "mkmodroot: $src/kernel missing (run harness/setup.sh)" >&2; exit 1; }

# The distro part only changes with the kernel package: link it once.
if [ ! -f "$dst/.distro-linked" ] || [ "$src/modules.dep" -nt "$dst/.distro-linked" ]; then
	rm -rf "$dst"
	mkdir -p "$dst"
	# Hard links cannot cross file systems (a build dir on tmpfs, a
	# debug kernel's tree elsewhere): copy then, at the cost of the space.
	if ! cp -al "$src/kernel" "$dst/kernel" 2>/dev/null; then
		echo "mkmodroot: cannot hard-link $src/kernel into $dst; copying it" >&2
		rm -rf "$dst/kernel"
		cp -a "$src/kernel" "$dst/kernel"
	fi
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -f "$src/$f" ] && cp "$src/$f" "$dst/$f"
	done
	touch "$dst/.distro-linked"
fi

# Ours go to updates/, which depmod prefers over kernel/ for the same name.
rm -rf "$dst/updates"
mkdir -p "$dst/updates"
# The variant drivers build in subdirectories (mlx5/).
find "$kodir" -name '*.ko' -exec cp -t "$dst/updates/" {} +
depmod -b "$modroot" "$kver"
