// SPDX-License-Identifier: Apache-2.0
/* Convolution on oneDNN's CPU primitives, beside the im2col reference in conv2d.c: the same
 * arguments and the same results within float rounding (the summation order differs), and the
 * backward pass accumulates into dinp, dweight and dbias as the reference does.
 *
 * oneDNN's direct JIT convolution works in blocked layouts of its own choosing (nChw16c with
 * AVX-512), so each call reorders aicon's N x C x H x W tensors in and out; a gradient goes back
 * with a reorder whose sum post-op adds it to what is there. Primitives are made once per shape,
 * batch size and thread count and reused; a primitive runs the same partition of work every call,
 * so results are bitwise reproducible for a given thread count. Where oneDNN has no primitive for
 * a shape, the caller runs the reference (AIC_ERR_UNSUPPORTED). */
#include "layers/layers.h"

#include <cblas.h>
#include <dnnl.h>
#include <omp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* A tensor crossing between aicon's plain layout (`user`, its handle set per call) and the layout a
 * primitive wants (`inner`: the user memory itself when they agree, else a region of the shared
 * scratch filled or emptied by `reorder`). */
typedef struct {
    dnnl_memory_t user, inner;
    dnnl_primitive_t reorder; /* NULL when inner is user */
    size_t scratch_off;       /* bytes into the shared scratch, for a separate inner */
} port;

enum { IN_PORT, OUT_PORT, ACCUMULATE_PORT };

typedef struct {
    aic_conv2d_dims d;
    int threads;
    bool bias;
    bool ok; /* false: oneDNN has no primitive for this shape */
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    port f_src, f_wei, f_bias, f_dst;           /* forward */
    port d_wei, d_ddst, d_dsrc;                 /* backward data */
    port w_src, w_ddst, w_dwei, w_dbias;        /* backward weights */
    size_t scratch_fwd, scratch_data, scratch_weights; /* bytes of shared scratch each pass uses */
} conv_plan;

enum { PLAN_MAX = 128 };
static conv_plan *plans[PLAN_MAX];
static int n_plans;
static dnnl_engine_t engine;
static dnnl_stream_t stream;
static void *scratch;
static size_t scratch_cap;

static bool same_dims(const aic_conv2d_dims *a, const aic_conv2d_dims *b) { return memcmp(a, b, sizeof *a) == 0; }

static dnnl_status_t make_memory(dnnl_memory_t *m, const dnnl_memory_desc_t *md) {
    return dnnl_memory_create(m, md, engine, DNNL_MEMORY_NONE);
}

/* Sets up p between the plain md and the primitive's want md; `kind` says which way data goes. */
static dnnl_status_t port_init(port *p, const dnnl_memory_desc_t *plain, const dnnl_memory_desc_t *want, int kind,
                               size_t *scratch_used) {
    dnnl_status_t s = make_memory(&p->user, plain);
    if (s != dnnl_success)
        return s;
    if (kind != ACCUMULATE_PORT && dnnl_memory_desc_equal(plain, want)) {
        p->inner = p->user;
        return dnnl_success;
    }
    if ((s = make_memory(&p->inner, want)) != dnnl_success)
        return s;
    p->scratch_off = *scratch_used;
    *scratch_used += (dnnl_memory_desc_get_size(want) + 63) / 64 * 64;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    if (kind == ACCUMULATE_PORT) {
        if ((s = dnnl_primitive_attr_create(&attr)) != dnnl_success || (s = dnnl_post_ops_create(&ops)) != dnnl_success ||
            (s = dnnl_post_ops_append_sum(ops, 1.0f)) != dnnl_success ||
            (s = dnnl_primitive_attr_set_post_ops(attr, ops)) != dnnl_success)
            goto done;
    }
    dnnl_primitive_desc_t pd;
    s = kind == IN_PORT ? dnnl_reorder_primitive_desc_create(&pd, plain, engine, want, engine, attr)
                        : dnnl_reorder_primitive_desc_create(&pd, want, engine, plain, engine, attr);
    if (s == dnnl_success) {
        s = dnnl_primitive_create(&p->reorder, pd);
        dnnl_primitive_desc_destroy(pd);
    }
done:
    if (ops)
        dnnl_post_ops_destroy(ops);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return s;
}

static const dnnl_memory_desc_t *md_of(const_dnnl_primitive_desc_t pd, dnnl_query_t what, int index) {
    return dnnl_primitive_desc_query_md(pd, what, index);
}

/* Plain descriptors: x N x C x H x W, weights OC x C/G x KH x KW (G x OC/G x C/G x KH x KW with groups). */
static dnnl_status_t plain_mds(const aic_conv2d_dims *d, dnnl_memory_desc_t *src, dnnl_memory_desc_t *wei,
                               dnnl_memory_desc_t *bias, dnnl_memory_desc_t *dst, bool any) {
    dnnl_dims_t sd = {d->N, d->C, d->H, d->W}, dd = {d->N, d->OC, d->OH, d->OW}, bd = {d->OC};
    dnnl_dims_t wd = {d->OC, d->C / d->G, d->KH, d->KW}, gwd = {d->G, d->OC / d->G, d->C / d->G, d->KH, d->KW};
    const dnnl_format_tag_t act = any ? dnnl_format_tag_any : dnnl_nchw;
    const dnnl_format_tag_t wtag = any ? dnnl_format_tag_any : d->G > 1 ? dnnl_goihw : dnnl_oihw;
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(src, 4, sd, dnnl_f32, act);
    if (s == dnnl_success)
        s = d->G > 1 ? dnnl_memory_desc_init_by_tag(wei, 5, gwd, dnnl_f32, wtag)
                     : dnnl_memory_desc_init_by_tag(wei, 4, wd, dnnl_f32, wtag);
    if (s == dnnl_success)
        s = dnnl_memory_desc_init_by_tag(bias, 1, bd, dnnl_f32, dnnl_x);
    if (s == dnnl_success)
        s = dnnl_memory_desc_init_by_tag(dst, 4, dd, dnnl_f32, act);
    return s;
}

static dnnl_status_t make_primitive(dnnl_primitive_t *p, const_dnnl_op_desc_t desc, const_dnnl_primitive_desc_t hint,
                                    dnnl_primitive_desc_t *pd_out) {
    dnnl_status_t s = dnnl_primitive_desc_create(pd_out, desc, NULL, engine, hint);
    if (s == dnnl_success)
        s = dnnl_primitive_create(p, *pd_out);
    return s;
}

/* Builds the three primitives and their ports; any failure leaves the plan marked unsupported. */
static void plan_build(conv_plan *p) {
    const aic_conv2d_dims *d = &p->d;
    dnnl_memory_desc_t src, wei, bias, dst, asrc, awei, abias, adst;
    dnnl_dims_t strides = {d->SH, d->SW}, dil = {d->DH - 1, d->DW - 1}, pad_l = {d->PH, d->PW};
    /* The right padding that makes oneDNN's output size exact where the stride leaves some input
     * unread (aicon floors as PyTorch does). */
    dnnl_dims_t pad_r = {(d->OH - 1) * d->SH + d->DH * (d->KH - 1) + 1 - d->H - d->PH,
                         (d->OW - 1) * d->SW + d->DW * (d->KW - 1) + 1 - d->W - d->PW};
    if (plain_mds(d, &src, &wei, &bias, &dst, false) != dnnl_success ||
        plain_mds(d, &asrc, &awei, &abias, &adst, true) != dnnl_success)
        return;
    dnnl_convolution_desc_t fd, bdd, bwd;
    dnnl_primitive_desc_t fpd = NULL, dpd = NULL, wpd = NULL;
    const dnnl_memory_desc_t *bias_md = p->bias ? &abias : NULL;
    bool ok = dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &asrc,
                                                         &awei, bias_md, &adst, strides, dil, pad_l, pad_r) ==
                  dnnl_success &&
              make_primitive(&p->fwd, &fd, NULL, &fpd) == dnnl_success &&
              dnnl_dilated_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &asrc, &awei, &adst,
                                                               strides, dil, pad_l, pad_r) == dnnl_success &&
              make_primitive(&p->bwd_data, &bdd, fpd, &dpd) == dnnl_success &&
              dnnl_dilated_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &asrc, &awei,
                                                                  bias_md, &adst, strides, dil, pad_l, pad_r) ==
                  dnnl_success &&
              make_primitive(&p->bwd_weights, &bwd, fpd, &wpd) == dnnl_success;
    size_t f = 0, b = 0, w = 0;
    ok = ok && port_init(&p->f_src, &src, md_of(fpd, dnnl_query_src_md, 0), IN_PORT, &f) == dnnl_success &&
         port_init(&p->f_wei, &wei, md_of(fpd, dnnl_query_weights_md, 0), IN_PORT, &f) == dnnl_success &&
         port_init(&p->f_dst, &dst, md_of(fpd, dnnl_query_dst_md, 0), OUT_PORT, &f) == dnnl_success &&
         (!p->bias ||
          port_init(&p->f_bias, &bias, md_of(fpd, dnnl_query_weights_md, 1), IN_PORT, &f) == dnnl_success) &&
         port_init(&p->d_wei, &wei, md_of(dpd, dnnl_query_weights_md, 0), IN_PORT, &b) == dnnl_success &&
         port_init(&p->d_ddst, &dst, md_of(dpd, dnnl_query_diff_dst_md, 0), IN_PORT, &b) == dnnl_success &&
         port_init(&p->d_dsrc, &src, md_of(dpd, dnnl_query_diff_src_md, 0), ACCUMULATE_PORT, &b) == dnnl_success &&
         port_init(&p->w_src, &src, md_of(wpd, dnnl_query_src_md, 0), IN_PORT, &w) == dnnl_success &&
         port_init(&p->w_ddst, &dst, md_of(wpd, dnnl_query_diff_dst_md, 0), IN_PORT, &w) == dnnl_success &&
         port_init(&p->w_dwei, &wei, md_of(wpd, dnnl_query_diff_weights_md, 0), ACCUMULATE_PORT, &w) ==
             dnnl_success &&
         (!p->bias || port_init(&p->w_dbias, &bias, md_of(wpd, dnnl_query_diff_weights_md, 1), ACCUMULATE_PORT,
                                &w) == dnnl_success);
    if (fpd)
        dnnl_primitive_desc_destroy(fpd);
    if (dpd)
        dnnl_primitive_desc_destroy(dpd);
    if (wpd)
        dnnl_primitive_desc_destroy(wpd);
    p->scratch_fwd = f;
    p->scratch_data = b;
    p->scratch_weights = w;
    p->ok = ok;
}

/* The plan for d at the current thread count, made at first use; NULL when out of memory or slots. */
static conv_plan *plan_for(const aic_conv2d_dims *d, bool bias) {
    const int threads = openblas_get_num_threads();
    /* oneDNN's OpenMP threads follow aicon's thread count (OpenBLAS's), set per calling thread. */
    omp_set_num_threads(threads);
    for (int i = 0; i < n_plans; i++)
        if (plans[i]->threads == threads && plans[i]->bias == bias && same_dims(&plans[i]->d, d))
            return plans[i];
    if (n_plans == PLAN_MAX)
        return NULL;
    if (!engine && (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success ||
                    dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success))
        return NULL;
    conv_plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->d = *d;
    p->threads = threads;
    p->bias = bias;
    plan_build(p); /* primitives of a failed plan are not freed: the plan stays, marked unsupported */
    plans[n_plans++] = p;
    return p;
}

static bool reserve_scratch(size_t bytes) {
    if (bytes <= scratch_cap)
        return true;
    void *s = aligned_alloc(64, bytes);
    if (!s)
        return false;
    free(scratch);
    scratch = s;
    scratch_cap = bytes;
    return true;
}

/* Points the port at the caller's buffer (and its inner memory at its scratch region). */
static dnnl_status_t port_bind(port *p, const void *user) {
    dnnl_status_t s = dnnl_memory_set_data_handle(p->user, (void *)user);
    if (s == dnnl_success && p->reorder)
        s = dnnl_memory_set_data_handle(p->inner, (char *)scratch + p->scratch_off);
    return s;
}

static dnnl_status_t run_reorder(port *p) {
    if (!p->reorder)
        return dnnl_success;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, p->user}, {DNNL_ARG_TO, p->inner}};
    return dnnl_primitive_execute(p->reorder, stream, 2, args);
}

static dnnl_status_t run_reorder_back(port *p) {
    if (!p->reorder)
        return dnnl_success;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, p->inner}, {DNNL_ARG_TO, p->user}};
    return dnnl_primitive_execute(p->reorder, stream, 2, args);
}

static aic_status dnnl_failed(dnnl_status_t s, const char *what, const aic_conv2d_dims *d) {
    return aic_fail(AIC_ERR_INTERNAL, "conv2d %dx%dx%dx%d -> %d channels: oneDNN %s failed (status %d)", d->N, d->C,
                    d->H, d->W, d->OC, what, (int)s);
}

aic_status aic_conv2d_dnnl_forward(float *out, const float *inp, const float *weight, const float *bias,
                                   const aic_conv2d_dims *d) {
    // out: N x OC x OH x OW, inp: N x C x H x W, weight: OC x C/G x KH x KW, bias: OC or NULL
    conv_plan *p = plan_for(d, bias != NULL);
    if (!p || !p->ok)
        return aic_fail(AIC_ERR_UNSUPPORTED, "conv2d: no oneDNN primitive for this shape");
    if (!reserve_scratch(p->scratch_fwd))
        return aic_fail(AIC_ERR_NOMEM, "conv2d: out of memory for %zu bytes of oneDNN layouts", p->scratch_fwd);
    dnnl_status_t s = port_bind(&p->f_src, inp);
    if (s == dnnl_success)
        s = port_bind(&p->f_wei, weight);
    if (s == dnnl_success && bias)
        s = port_bind(&p->f_bias, bias);
    if (s == dnnl_success)
        s = port_bind(&p->f_dst, out);
    if (s == dnnl_success)
        s = run_reorder(&p->f_src);
    if (s == dnnl_success)
        s = run_reorder(&p->f_wei);
    if (s == dnnl_success && bias)
        s = run_reorder(&p->f_bias);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, p->f_src.inner}, {DNNL_ARG_WEIGHTS, p->f_wei.inner},
                                   {DNNL_ARG_DST, p->f_dst.inner}, {DNNL_ARG_BIAS, bias ? p->f_bias.inner : NULL}};
        s = dnnl_primitive_execute(p->fwd, stream, bias ? 4 : 3, args);
    }
    if (s == dnnl_success)
        s = run_reorder_back(&p->f_dst);
    if (s == dnnl_success)
        s = dnnl_stream_wait(stream);
    return s == dnnl_success ? AIC_OK : dnnl_failed(s, "forward", d);
}

aic_status aic_conv2d_dnnl_backward_data(float *dinp, const float *dout, const float *weight,
                                         const aic_conv2d_dims *d, bool bias) {
    // dinp: N x C x H x W (+=), dout: N x OC x OH x OW, weight: OC x C/G x KH x KW
    conv_plan *p = plan_for(d, bias);
    if (!p || !p->ok)
        return aic_fail(AIC_ERR_UNSUPPORTED, "conv2d: no oneDNN primitive for this shape");
    if (!reserve_scratch(p->scratch_data))
        return aic_fail(AIC_ERR_NOMEM, "conv2d: out of memory for %zu bytes of oneDNN layouts", p->scratch_data);
    dnnl_status_t s = port_bind(&p->d_wei, weight);
    if (s == dnnl_success)
        s = port_bind(&p->d_ddst, dout);
    if (s == dnnl_success)
        s = port_bind(&p->d_dsrc, dinp);
    if (s == dnnl_success)
        s = run_reorder(&p->d_wei);
    if (s == dnnl_success)
        s = run_reorder(&p->d_ddst);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_DIFF_DST, p->d_ddst.inner}, {DNNL_ARG_WEIGHTS, p->d_wei.inner},
                                   {DNNL_ARG_DIFF_SRC, p->d_dsrc.inner}};
        s = dnnl_primitive_execute(p->bwd_data, stream, 3, args);
    }
    if (s == dnnl_success)
        s = run_reorder_back(&p->d_dsrc);
    if (s == dnnl_success)
        s = dnnl_stream_wait(stream);
    return s == dnnl_success ? AIC_OK : dnnl_failed(s, "backward (data)", d);
}

aic_status aic_conv2d_dnnl_backward_weights(float *dweight, float *dbias, const float *dout, const float *inp,
                                            const aic_conv2d_dims *d) {
    // dweight: OC x C/G x KH x KW (+=), dbias: OC (+=) or NULL, dout: N x OC x OH x OW, inp: N x C x H x W
    conv_plan *p = plan_for(d, dbias != NULL);
    if (!p || !p->ok)
        return aic_fail(AIC_ERR_UNSUPPORTED, "conv2d: no oneDNN primitive for this shape");
    if (!reserve_scratch(p->scratch_weights))
        return aic_fail(AIC_ERR_NOMEM, "conv2d: out of memory for %zu bytes of oneDNN layouts", p->scratch_weights);
    dnnl_status_t s = port_bind(&p->w_src, inp);
    if (s == dnnl_success)
        s = port_bind(&p->w_ddst, dout);
    if (s == dnnl_success)
        s = port_bind(&p->w_dwei, dweight);
    if (s == dnnl_success && dbias)
        s = port_bind(&p->w_dbias, dbias);
    if (s == dnnl_success)
        s = run_reorder(&p->w_src);
    if (s == dnnl_success)
        s = run_reorder(&p->w_ddst);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, p->w_src.inner}, {DNNL_ARG_DIFF_DST, p->w_ddst.inner},
                                   {DNNL_ARG_DIFF_WEIGHTS, p->w_dwei.inner},
                                   {DNNL_ARG_DIFF_BIAS, dbias ? p->w_dbias.inner : NULL}};
        s = dnnl_primitive_execute(p->bwd_weights, stream, dbias ? 4 : 3, args);
    }
    if (s == dnnl_success)
        s = run_reorder_back(&p->w_dwei);
    if (s == dnnl_success && dbias)
        s = run_reorder_back(&p->w_dbias);
    if (s == dnnl_success)
        s = dnnl_stream_wait(stream);
    return s == dnnl_success ? AIC_OK : dnnl_failed(s, "backward (weights)", d);
}
