// SPDX-License-Identifier: GPL-2.0
/*
 * Event queue notifiers and completion vectors, exported by mlx5_core's
 * eq.c: the includes mirror that file's so that the symbol CRCs match
 * the distro's (see Kbuild); eq.c of this directory does the work.
 */
#include <linux/interrupt.h>
#include <linux/notifier.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/vport.h>
#include <linux/mlx5/eq.h>
#ifdef CONFIG_RFS_ACCEL
#include <linux/cpu_rmap.h>
#endif
#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#include "lib/eq.h"
#include "fpga/core.h"
#include "eswitch.h"
#include "lib/clock.h"
#include "diag/fw_tracer.h"
#include "mlx5_irq.h"
#include "pci_irq.h"
#include "devlink.h"
#include "en_accel/ipsec.h"
#endif

#include "model_api.h"

int mlx5_eq_notifier_register(struct mlx5_core_dev *dev, struct mlx5_nb *nb)
{
	return model_eq_nb_register(dev, nb);
}
EXPORT_SYMBOL(mlx5_eq_notifier_register);

int mlx5_eq_notifier_unregister(struct mlx5_core_dev *dev, struct mlx5_nb *nb)
{
	return model_eq_nb_unregister(dev, nb);
}
EXPORT_SYMBOL(mlx5_eq_notifier_unregister);

int mlx5_comp_eqn_get(struct mlx5_core_dev *dev, u16 vecidx, int *eqn)
{
	return model_comp_eqn(dev, vecidx, eqn);
}
EXPORT_SYMBOL(mlx5_comp_eqn_get);

int mlx5_comp_vector_get_cpu(struct mlx5_core_dev *dev, int vector)
{
	return model_comp_cpu(dev, vector);
}
EXPORT_SYMBOL(mlx5_comp_vector_get_cpu);
