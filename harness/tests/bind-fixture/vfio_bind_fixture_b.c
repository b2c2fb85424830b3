// SPDX-License-Identifier: GPL-2.0
/* The second fixture module: see vfio_bind_fixture_a.c. */
#define FIXTURE_B
#include "vfio_bind_fixture_a.c"
