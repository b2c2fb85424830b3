// SPDX-License-Identifier: GPL-2.0
/*
 * Fragmented buffers and doorbell records, exported by mlx5_core's
 * alloc.c: the includes mirror that file's so that the symbol CRCs match
 * the distro's (see Kbuild); dma.c does the work.
 */
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/export.h>
#include <linux/bitmap.h>
#include <linux/dma-mapping.h>
#include <linux/vmalloc.h>
#include <linux/mlx5/driver.h>

#ifndef MLX5_MODEL_PUBLIC_HEADERS
#include "mlx5_core.h"
#endif

#include "model_api.h"

int mlx5_frag_buf_alloc_node(struct mlx5_core_dev *dev, int size,
			     struct mlx5_frag_buf *buf, int node)
{
	return model_frag_buf_alloc(dev, size, buf, node);
}
EXPORT_SYMBOL_GPL(mlx5_frag_buf_alloc_node);

void mlx5_frag_buf_free(struct mlx5_core_dev *dev, struct mlx5_frag_buf *buf)
{
	model_frag_buf_free(dev, buf);
}
EXPORT_SYMBOL_GPL(mlx5_frag_buf_free);

void mlx5_fill_page_frag_array(struct mlx5_frag_buf *buf, __be64 *pas)
{
	model_fill_pas(buf, pas);
}
EXPORT_SYMBOL_GPL(mlx5_fill_page_frag_array);

int mlx5_db_alloc_node(struct mlx5_core_dev *dev, struct mlx5_db *db,
		       int node)
{
	return model_db_alloc(dev, db, node);
}
EXPORT_SYMBOL_GPL(mlx5_db_alloc_node);

void mlx5_db_free(struct mlx5_core_dev *dev, struct mlx5_db *db)
{
	model_db_free(dev, db);
}
EXPORT_SYMBOL_GPL(mlx5_db_free);
