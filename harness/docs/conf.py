# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration for building Documentation/driver-api/vfio-pci/ of
# this repository on its own (harness/docs/build.sh passes it with -c).
#
# A kernel tree builds those pages with its own Documentation/conf.py; this
# file only stands in for it here.  The kernel-doc directive is the
# kernel's own extension, loaded by path from the extracted linux-source
# tree at build time (never copied into this repository), and it runs that
# tree's scripts/kernel-doc on our sources, whose paths in the directives
# are relative to the kernel source root: this repository's root has the
# same layout.

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))

# build.sh exports both; the defaults let a plain sphinx-build -c work
# after harness/ksrc.sh has printed the tree's path into VFIO_DOCS_KSRC.
_ksrc = os.environ.get('VFIO_DOCS_KSRC')
if not _ksrc:
    raise RuntimeError('VFIO_DOCS_KSRC must name the kernel source tree '
                       '(harness/ksrc.sh prints it)')
_srctree = os.environ.get('VFIO_DOCS_SRCTREE',
                          os.path.normpath(os.path.join(_here, '..', '..')))

sys.path.insert(0, os.path.join(_ksrc, 'Documentation', 'sphinx'))

project = 'VFIO PCI driver stack'
copyright = 'The Linux kernel contributors'
root_doc = 'index'
extensions = ['kerneldoc']

kerneldoc_bin = os.path.join(_ksrc, 'scripts', 'kernel-doc')
kerneldoc_srctree = _srctree
# Non-zero: kernel-doc's own stderr (its warnings) reaches the build log,
# where build.sh counts them; Sphinx's -W does not see them.
kerneldoc_verbosity = 1

# The C domain has to be told which words in our prototypes are
# annotations rather than types or names (sparse's address spaces and the
# compiler attributes the documented declarations use); otherwise it
# cannot parse them and warns.
c_id_attributes = [
    '__user', '__iomem', '__rcu', '__force', '__must_check', '__init',
    '__exit', '__packed', '__always_inline', '__maybe_unused',
]

highlight_language = 'none'
html_theme = 'alabaster'
# No static files of our own; no search index language quirks.
html_static_path = []
