#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness/guest-fw/build.sh OUT [NAME=VALUE...] - assemble counter.s into
# OUT, a 64 KiB firmware image for QEMU's -bios (binutils only).  NAME=VALUE
# pairs override the image's tunables (PAGES, REPORT_SHIFT).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build.sh OUT [NAME=VALUE...]}
shift
defs=()
for d in "$@"; do defs+=(--defsym "$d"); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
as --32 "${defs[@]}" -o "$tmp/fw.o" "$here/counter.s"
# Linked at 0: the code runs with CS = 0xf000, whose offsets are the
# image's own.
ld -m elf_i386 -Ttext=0 -e start -o "$tmp/fw.elf" "$tmp/fw.o"
objcopy -O binary -j .text "$tmp/fw.elf" "$tmp/fw.bin"
# QEMU takes -bios images in whole 64 KiB units; .org made exactly one.
size=$(stat -c %s "$tmp/fw.bin")
[ "$size" -eq 65536 ] || { echo "build.sh: image is $size bytes, not 64 KiB" >&2; exit 1; }
mv "$tmp/fw.bin" "$out"
