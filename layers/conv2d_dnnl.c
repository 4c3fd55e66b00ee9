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
#include "layers/kernel_check.h"

/* A tensor crossing between aicon's plain layout (`user`, its handle set per call) and the layout a
 * primitive wants (`inner`: the user memory itself when they agree, else a region of the shared
 * scratch filled or emptied by `reorder`). */
typedef struct {
    dnnl_memory_t user, inner;
    dnnl_primitive_t reorder; /* NULL when inner is user */
    size_t scratch_off;       /* bytes into the shared scratch, for a separate inner */
} port;

enum { IN_PORT, OUT_PORT, ACCUMULATE_PORT };

/* One primitive and the ports of its arguments, in the order the caller's buffers come: inputs are
 * reordered in before it runs, outputs back after. */
enum { PASS_PORTS = 4 };
typedef struct {
    dnnl_primitive_t prim;
    port ports[PASS_PORTS];
    int arg[PASS_PORTS]; /* DNNL_ARG_* */
    bool out[PASS_PORTS];
    int n_ports;
    size_t scratch; /* bytes of the shared scratch it uses */
} pass;

enum { PASS_FWD, PASS_DATA, PASS_WEIGHTS, PASSES };
static const char *const pass_names[PASSES] = {"forward", "backward (data)", "backward (weights)"};

typedef struct {
    aic_conv2d_dims d;
    int threads;
    bool bias;
    bool ok; /* false: oneDNN has no primitive for this shape */
    pass passes[PASSES];
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

/* Appends to ps the port of its argument arg. */
static dnnl_status_t add_port(pass *ps, int arg, const dnnl_memory_desc_t *plain, const dnnl_memory_desc_t *want,
                              int kind) {
    const int i = ps->n_ports++;
    ps->arg[i] = arg;
    ps->out[i] = kind != IN_PORT;
    return port_init(&ps->ports[i], plain, want, kind, &ps->scratch);
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
    pass *f = &p->passes[PASS_FWD], *b = &p->passes[PASS_DATA], *w = &p->passes[PASS_WEIGHTS];
    const dnnl_memory_desc_t *bias_md = p->bias ? &abias : NULL;
    bool ok = dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &asrc,
                                                         &awei, bias_md, &adst, strides, dil, pad_l, pad_r) ==
                  dnnl_success &&
              make_primitive(&f->prim, &fd, NULL, &fpd) == dnnl_success &&
              dnnl_dilated_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &asrc, &awei, &adst,
                                                               strides, dil, pad_l, pad_r) == dnnl_success &&
              make_primitive(&b->prim, &bdd, fpd, &dpd) == dnnl_success &&
              dnnl_dilated_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &asrc, &awei,
                                                                  bias_md, &adst, strides, dil, pad_l, pad_r) ==
                  dnnl_success &&
              make_primitive(&w->prim, &bwd, fpd, &wpd) == dnnl_success;
    ok = ok && add_port(f, DNNL_ARG_SRC, &src, md_of(fpd, dnnl_query_src_md, 0), IN_PORT) == dnnl_success &&
         add_port(f, DNNL_ARG_WEIGHTS, &wei, md_of(fpd, dnnl_query_weights_md, 0), IN_PORT) == dnnl_success &&
         add_port(f, DNNL_ARG_DST, &dst, md_of(fpd, dnnl_query_dst_md, 0), OUT_PORT) == dnnl_success &&
         (!p->bias ||
          add_port(f, DNNL_ARG_BIAS, &bias, md_of(fpd, dnnl_query_weights_md, 1), IN_PORT) == dnnl_success) &&
         add_port(b, DNNL_ARG_WEIGHTS, &wei, md_of(dpd, dnnl_query_weights_md, 0), IN_PORT) == dnnl_success &&
         add_port(b, DNNL_ARG_DIFF_DST, &dst, md_of(dpd, dnnl_query_diff_dst_md, 0), IN_PORT) == dnnl_success &&
         add_port(b, DNNL_ARG_DIFF_SRC, &src, md_of(dpd, dnnl_query_diff_src_md, 0), ACCUMULATE_PORT) ==
             dnnl_success &&
         add_port(w, DNNL_ARG_SRC, &src, md_of(wpd, dnnl_query_src_md, 0), IN_PORT) == dnnl_success &&
         add_port(w, DNNL_ARG_DIFF_DST, &dst, md_of(wpd, dnnl_query_diff_dst_md, 0), IN_PORT) == dnnl_success &&
         add_port(w, DNNL_ARG_DIFF_WEIGHTS, &wei, md_of(wpd, dnnl_query_diff_weights_md, 0), ACCUMULATE_PORT) ==
             dnnl_success &&
         (!p->bias || add_port(w, DNNL_ARG_DIFF_BIAS, &bias, md_of(wpd, dnnl_query_diff_weights_md, 1),
                               ACCUMULATE_PORT) == dnnl_success);
    if (fpd)
        dnnl_primitive_desc_destroy(fpd);
    if (dpd)
        dnnl_primitive_desc_destroy(dpd);
    if (wpd)
        dnnl_primitive_desc_destroy(wpd);
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

/* Runs pass `which` of d's plan over the caller's buffers, given in the order of its ports. */
static aic_status run_pass(const aic_conv2d_dims *d, bool bias, int which, const void *const *bufs) {
    conv_plan *p = plan_for(d, bias);
    if (!p || !p->ok)
        return aic_fail(AIC_ERR_UNSUPPORTED, "conv2d: no oneDNN primitive for this shape");
    pass *ps = &p->passes[which];
    if (!reserve_scratch(ps->scratch))
        return aic_fail(AIC_ERR_NOMEM, "conv2d: out of memory for %zu bytes of oneDNN layouts", ps->scratch);
    dnnl_exec_arg_t args[PASS_PORTS];
    dnnl_status_t s = dnnl_success;
    for (int i = 0; i < ps->n_ports && s == dnnl_success; i++) {
        s = port_bind(&ps->ports[i], bufs[i]);
        if (s == dnnl_success && !ps->out[i])
            s = run_reorder(&ps->ports[i]);
        args[i] = (dnnl_exec_arg_t){ps->arg[i], ps->ports[i].inner};
    }
    if (s == dnnl_success)
        s = dnnl_primitive_execute(ps->prim, stream, ps->n_ports, args);
    for (int i = 0; i < ps->n_ports && s == dnnl_success; i++)
        if (ps->out[i])
            s = run_reorder_back(&ps->ports[i]);
    if (s == dnnl_success)
        s = dnnl_stream_wait(stream);
    if (s != dnnl_success)
        return aic_fail(AIC_ERR_INTERNAL, "conv2d %dx%dx%dx%d -> %d channels: oneDNN %s failed (status %d)", d->N,
                        d->C, d->H, d->W, d->OC, pass_names[which], (int)s);
    return AIC_OK;
}

aic_status aic_conv2d_dnnl_forward(float *out, const float *inp, const float *weight, const float *bias,
                                   const aic_conv2d_dims *d) {
    // out: N x OC x OH x OW, inp: N x C x H x W, weight: OC x C/G x KH x KW, bias: OC or NULL
    AIC_KERNEL_ARG(d && out && inp && weight, "dims, out, inp or weight is NULL");
    return run_pass(d, bias != NULL, PASS_FWD, (const void *const[]){inp, weight, out, bias});
}

aic_status aic_conv2d_dnnl_backward_data(float *dinp, const float *dout, const float *weight,
                                         const aic_conv2d_dims *d, bool bias) {
    // dinp: N x C x H x W (+=), dout: N x OC x OH x OW, weight: OC x C/G x KH x KW
    AIC_KERNEL_ARG(d && dinp && dout && weight, "dims, dinp, dout or weight is NULL");
    return run_pass(d, bias, PASS_DATA, (const void *const[]){weight, dout, dinp});
}

aic_status aic_conv2d_dnnl_backward_weights(float *dweight, float *dbias, const float *dout, const float *inp,
                                            const aic_conv2d_dims *d) {
    // dweight: OC x C/G x KH x KW (+=), dbias: OC (+=) or NULL, dout: N x OC x OH x OW, inp: N x C x H x W
    AIC_KERNEL_ARG(d && dweight && dout && inp, "dims, dweight, dout or inp is NULL");
    return run_pass(d, dbias != NULL, PASS_WEIGHTS, (const void *const[]){inp, dout, dweight, dbias});
}
