/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the exp_*.c files call.  Deliberately self-contained: those files
 * must see exactly the type definitions their mlx5_core counterparts see
 * (their symbol CRCs depend on it), so this header declares functions
 * only and includes nothing.
 */
#ifndef _MLX5_MODEL_API_H
#define _MLX5_MODEL_API_H

struct mlx5_core_dev;
struct mlx5_async_ctx;
struct mlx5_async_work;
struct mlx5_core_cq;
struct mlx5_db;
struct mlx5_frag_buf;
struct mlx5_nb;
struct mlx5_uars_page;
struct notifier_block;
struct pci_dev;

int model_cmd_exec(struct mlx5_core_dev *mdev, void *in, int in_size,
		   void *out, int out_size);
int model_cmd_run(struct mlx5_core_dev *mdev, void *in, int in_size,
		  void *out, int out_size, struct mlx5_core_cq *cq);
void model_async_ctx_init(struct mlx5_core_dev *mdev,
			  struct mlx5_async_ctx *ctx);
void model_async_ctx_cleanup(struct mlx5_async_ctx *ctx);
int model_cmd_exec_cb(struct mlx5_async_ctx *ctx, void *in, int in_size,
		      void *out, int out_size,
		      void (*callback)(int status, struct mlx5_async_work *w),
		      struct mlx5_async_work *work);

struct mlx5_core_dev *model_vf_get_core_dev(struct pci_dev *vf);
void model_vf_put_core_dev(struct mlx5_core_dev *mdev);
int model_vf_notifier_register(struct mlx5_core_dev *mdev, int vf_id,
			       struct notifier_block *nb);
void model_vf_notifier_unregister(struct mlx5_core_dev *mdev, int vf_id,
				  struct notifier_block *nb);

int model_alloc_pd(struct mlx5_core_dev *mdev, u32 *pdn);
int model_dealloc_pd(struct mlx5_core_dev *mdev, u32 pdn);
int model_create_mkey(struct mlx5_core_dev *mdev, u32 *mkey, u32 *in,
		      int inlen);
int model_destroy_mkey(struct mlx5_core_dev *mdev, u32 mkey);

int model_other_func_cap(struct mlx5_core_dev *mdev, u16 vport, void *out,
			 u16 opmod);

int model_create_cq(struct mlx5_core_dev *mdev, struct mlx5_core_cq *cq,
		    u32 *in, int inlen, u32 *out, int outlen);
int model_destroy_cq(struct mlx5_core_dev *mdev, struct mlx5_core_cq *cq);

int model_frag_buf_alloc(struct mlx5_core_dev *mdev, int size,
			 struct mlx5_frag_buf *buf, int node);
void model_frag_buf_free(struct mlx5_core_dev *mdev,
			 struct mlx5_frag_buf *buf);
void model_fill_pas(struct mlx5_frag_buf *buf, __be64 *pas);
int model_db_alloc(struct mlx5_core_dev *mdev, struct mlx5_db *db, int node);
void model_db_free(struct mlx5_core_dev *mdev, struct mlx5_db *db);
struct mlx5_uars_page *model_uars_get(struct mlx5_core_dev *mdev);
void model_uars_put(struct mlx5_core_dev *mdev, struct mlx5_uars_page *up);

int model_eq_nb_register(struct mlx5_core_dev *mdev, struct mlx5_nb *nb);
int model_eq_nb_unregister(struct mlx5_core_dev *mdev, struct mlx5_nb *nb);
int model_comp_eqn(struct mlx5_core_dev *mdev, u16 vecidx, int *eqn);
int model_comp_cpu(struct mlx5_core_dev *mdev, int vector);

#endif /* _MLX5_MODEL_API_H */
