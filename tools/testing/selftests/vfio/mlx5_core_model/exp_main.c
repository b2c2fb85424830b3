// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_vf_get_core_dev() and mlx5_vf_put_core_dev(), exported by
 * mlx5_core's main.c: the includes mirror that file's so that the
 * symbol CRCs match the distro's (see Kbuild); vf.c does the work.
 */
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/init.h>
#include <linux/errno.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <linux/interrupt.h>
#include <linux/delay.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/cq.h>
#include <linux/mlx5/qp.h>
#include <linux/debugfs.h>
#include <linux/kmod.h>
#include <linux/mlx5/mlx5_ifc.h>
#include <linux/mlx5/vport.h>
#include <linux/version.h>
#include <net/devlink.h>
#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#include "lib/eq.h"
#include "fs_core.h"
#include "lib/mpfs.h"
#include "eswitch.h"
#include "devlink.h"
#include "fw_reset.h"
#include "lib/mlx5.h"
#include "lib/tout.h"
#include "fpga/core.h"
#include "en_accel/ipsec.h"
#include "lib/clock.h"
#include "lib/vxlan.h"
#include "lib/geneve.h"
#include "lib/devcom.h"
#include "lib/pci_vsc.h"
#include "diag/fw_tracer.h"
#include "ecpf.h"
#include "lib/hv_vhca.h"
#include "diag/rsc_dump.h"
#include "sf/vhca_event.h"
#include "sf/dev/dev.h"
#include "sf/sf.h"
#include "mlx5_irq.h"
#include "hwmon.h"
#include "lag/lag.h"
#endif

#include "model_api.h"

struct mlx5_core_dev *mlx5_vf_get_core_dev(struct pci_dev *pdev)
{
	return model_vf_get_core_dev(pdev);
}
EXPORT_SYMBOL(mlx5_vf_get_core_dev);

void mlx5_vf_put_core_dev(struct mlx5_core_dev *mdev)
{
	model_vf_put_core_dev(mdev);
}
EXPORT_SYMBOL(mlx5_vf_put_core_dev);
