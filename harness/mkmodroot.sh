#!/bin/bash
# Build the module tree the test VMs mount over /lib/modules:
# the distro's modules (hard links, no copy) plus ours in updates/, with the
# module index made here on the host.  depmod inside a TCG guest over 9p
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
	cp -al "$src/kernel" "$dst/kernel"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -f "$src/$f" ] && cp "$src/$f" "$dst/$f"
	done
	touch "$dst/.distro-linked"
fi

# Ours go to updates/, which depmod prefers over kernel/ for the same name.
rm -rf "$dst/updates"
mkdir -p "$dst/updates"
cp "$kodir"/*.ko "$dst/updates/"
depmod -b "$modroot" "$kver"
