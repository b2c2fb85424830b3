// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core's command interface, as exported by its cmd.c: the includes
 * mirror that file's so that the symbol CRCs match the distro's (see
 * Kbuild); the work is done in cmd.c of this directory.
 */
#include <linux/highmem.h>
#include <linux/errno.h>
#include <linux/pci.h>
#include <linux/dma-mapping.h>
#include <linux/slab.h>
#include <linux/delay.h>
#include <linux/random.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/eq.h>
#include <linux/debugfs.h>

#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#include "lib/eq.h"
#include "lib/tout.h"
/*
 * cmd.c instantiates mlx5_core's command tracepoint here, and the CRCs
 * are only the distro's with the instantiation in place.  The event is
 * defined but never fired: nothing of the model traces.
 */
#define CREATE_TRACE_POINTS
#include "diag/cmd_tracepoint.h"
#endif

#include "model_api.h"

int mlx5_cmd_exec(struct mlx5_core_dev *dev, void *in, int in_size, void *out,
		  int out_size)
{
	return model_cmd_exec(dev, in, in_size, out, out_size);
}
EXPORT_SYMBOL(mlx5_cmd_exec);

void mlx5_cmd_init_async_ctx(struct mlx5_core_dev *dev,
			     struct mlx5_async_ctx *ctx)
{
	model_async_ctx_init(dev, ctx);
}
EXPORT_SYMBOL(mlx5_cmd_init_async_ctx);

void mlx5_cmd_cleanup_async_ctx(struct mlx5_async_ctx *ctx)
{
	model_async_ctx_cleanup(ctx);
}
EXPORT_SYMBOL(mlx5_cmd_cleanup_async_ctx);

int mlx5_cmd_exec_cb(struct mlx5_async_ctx *ctx, void *in, int in_size,
		     void *out, int out_size, mlx5_async_cbk_t callback,
		     struct mlx5_async_work *work)
{
	return model_cmd_exec_cb(ctx, in, in_size, out, out_size, callback,
				 work);
}
EXPORT_SYMBOL(mlx5_cmd_exec_cb);
