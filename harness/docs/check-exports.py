#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# harness/docs/check-exports.py - after a Sphinx build of
# Documentation/driver-api/vfio-pci, check that the rendered pages document
# every symbol drivers/vfio/pci/ exports, and struct vfio_pci_core_device.
#
# Why: kernel-doc's :export: only renders the exports that have a kernel-doc
# comment and silently skips the others, and a directive can be dropped or
# pointed at the wrong file.  So a new EXPORT_SYMBOL_GPL without a comment,
# or a page that stops pulling a file in, would build without a warning.
# The build's object inventory (objects.inv) lists every C declaration the
# pages hold; each export must be one of them.
#
# The declarations must come from kernel-doc, not be written into the rst
# files by hand, so an rst file with a C domain directive of its own fails
# too.
#
# EXPORT_SYMBOL_IF_KUNIT exports are not API: they exist only in a KUnit
# build, in the EXPORTED_FOR_KUNIT_TESTING namespace, for the core's own
# test module.  They are listed but not required.
#
# Usage: check-exports.py OBJECTS_INV SRCTREE
# Exit status: 0 all documented, 1 something missing, 2 usage.

import os
import re
import sys

from sphinx.util.inventory import InventoryFile

EXPORT_RE = re.compile(r'^\s*EXPORT_SYMBOL(_NS)?(_GPL)?\s*\(\s*(\w+)', re.M)
KUNIT_RE = re.compile(r'^\s*EXPORT_SYMBOL_IF_KUNIT\s*\(\s*(\w+)', re.M)
# Structures the pages must document besides the exports.
REQUIRED_STRUCTS = ['vfio_pci_core_device']
DOC_DIR = 'Documentation/driver-api/vfio-pci'
EXPORT_DIR = 'drivers/vfio/pci'


def source_exports(srctree):
    exports, kunit = {}, {}
    top = os.path.join(srctree, EXPORT_DIR)
    for root, _dirs, files in os.walk(top):
        for name in sorted(files):
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, srctree)
            with open(path, encoding='utf-8') as f:
                text = f.read()
            for m in EXPORT_RE.finditer(text):
                exports[m.group(3)] = rel
            for m in KUNIT_RE.finditer(text):
                kunit[m.group(1)] = rel
    return exports, kunit


def hand_written_declarations(srctree):
    found = []
    top = os.path.join(srctree, DOC_DIR)
    for name in sorted(os.listdir(top)):
        if not name.endswith('.rst'):
            continue
        path = os.path.join(top, name)
        with open(path, encoding='utf-8') as f:
            for n, line in enumerate(f, 1):
                if re.match(r'\s*\.\. c:', line):
                    found.append('%s:%d: %s' % (os.path.join(DOC_DIR, name),
                                                n, line.strip()))
    return found


def main():
    if len(sys.argv) != 3:
        print('usage: check-exports.py OBJECTS_INV SRCTREE', file=sys.stderr)
        return 2
    inv_path, srctree = sys.argv[1:]
    with open(inv_path, 'rb') as f:
        inv = InventoryFile.load(f, '', os.path.join)

    # name -> set of C domain roles it is documented as
    documented = {}
    for role, objs in inv.items():
        if not role.startswith('c:'):
            continue
        for name in objs:
            documented.setdefault(name, set()).add(role)

    exports, kunit = source_exports(srctree)
    if not exports:
        print('check-exports: no EXPORT_SYMBOL found under %s/%s: wrong tree?'
              % (srctree, EXPORT_DIR), file=sys.stderr)
        return 1

    bad = 0
    for sym in sorted(exports):
        if sym not in documented:
            print('check-exports: %s exports %s, which the rendered docs '
                  'do not document' % (exports[sym], sym))
            bad += 1
    for st in REQUIRED_STRUCTS:
        if 'c:struct' not in documented.get(st, ()):
            print('check-exports: struct %s is not documented' % st)
            bad += 1
    for line in hand_written_declarations(srctree):
        print('check-exports: %s: C declaration written by hand; pull it '
              'in with kernel-doc' % line)
        bad += 1

    print('check-exports: %d exports, %d documented; %d KUnit-only exports '
          'not required (%s); %d C objects rendered'
          % (len(exports), len(exports) - sum(s not in documented
                                               for s in exports),
             len(kunit), ', '.join(sorted(kunit)) or 'none', len(documented)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
