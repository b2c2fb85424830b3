#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/ksrc.sh - print the path of an extracted Debian linux-source-6.12
# tree, extracting it first if no cached copy exists yet.
#
# Why: lint.sh needs checkpatch.pl and its data files, and intree-check.sh
# needs a full kernel tree.  Unpacking the 150 MB tarball takes a minute or
# two, so we do it once and key the cache on the installed package version:
# a new linux-source-6.12 upload gets its own directory instead of silently
# reusing stale sources.
#
# Usage: harness/ksrc.sh            -> prints the tree path on stdout
# Env:   KSRC_TARBALL  tarball to unpack (default: Debian's path)
#        KSRC_CACHE    cache root (default: $XDG_CACHE_HOME/vfio-pci-dev)
#
# All progress messages go to stderr so callers can do
# `src=$(harness/ksrc.sh)`.

set -euo pipefail

pkg=linux-source-6.12
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
cache=${KSRC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-pci-dev}

# The package version is the cache key.  Fail loudly if the package is not
# installed: guessing a key would defeat the point of keying.
if ! ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) || [ -z "$ver" ]; then
	echo "ksrc.sh: package $pkg is not installed (apt-get install $pkg)" >&2
	exit 1
fi
if [ ! -r "$tarball" ]; then
	echo "ksrc.sh: $tarball not found although $pkg $ver is installed" >&2
	exit 1
fi

# Debian versions may contain '~' and ':'; keep the directory name plain.
key=$(printf '%s' "$ver" | tr -c 'A-Za-z0-9._+-' '_')
dest=$cache/$pkg-$key

# Fast path: the rename below is the last step, so an existing $dest is
# always a complete extraction.
if [ -d "$dest" ]; then
	printf '%s\n' "$dest"
	exit 0
fi

mkdir -p "$cache"

# Serialise concurrent callers (lint.sh and intree-check.sh may be started
# together); the loser waits and then takes the fast path.
exec 9>"$cache/.lock-$pkg-$key"
flock 9
if [ -d "$dest" ]; then
	printf '%s\n' "$dest"
	exit 0
fi

# Extract beside the destination (same filesystem, so mv is an atomic
# rename) and clean up a half-written directory if we are interrupted.
tmp=$(mktemp -d "$cache/.extract-$key.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "ksrc.sh: extracting $tarball ($pkg $ver) into $dest ..." >&2
start=$SECONDS
# The tarball has a single top-level directory (linux-source-6.12/);
# strip it so $dest is the kernel tree itself.  Prefer a parallel xz when
# the one installed supports -T (xz >= 5.2 does).
tar -C "$tmp" --strip-components=1 -x -f "$tarball" \
	--use-compress-program='xz -d -T0'
# Sanity check before publishing: an incomplete tree must never be cached.
for f in Makefile scripts/checkpatch.pl scripts/spelling.txt \
	 scripts/const_structs.checkpatch drivers/vfio/pci/Makefile; do
	if [ ! -e "$tmp/$f" ]; then
		echo "ksrc.sh: extracted tree lacks $f; not caching it" >&2
		exit 1
	fi
done
# mktemp -d makes the directory 0700; give the tree normal permissions.
chmod 755 "$tmp"
mv -T "$tmp" "$dest"
trap - EXIT
echo "ksrc.sh: extracted in $((SECONDS - start))s" >&2
printf '%s\n' "$dest"
