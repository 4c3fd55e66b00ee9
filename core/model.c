// SPDX-License-Identifier: Apache-2.0
/* Model lifecycle: graph bookkeeping, compile (arena layout and parameter init), forward and
 * reverse-mode backward over the op list, parameter access and hashes. */
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/graph.h"
#include "core/rng.h"
#include "core/trace.h"
#ifdef AICON_HAVE_CUDA
#include "core/cuda.h"
#endif

#define ARENA_ALIGN_FLOATS 16 /* 64 bytes between buffers */

static size_t align_up(size_t n) { return (n + ARENA_ALIGN_FLOATS - 1) / ARENA_ALIGN_FLOATS * ARENA_ALIGN_FLOATS; }

/* Grow *arr (of *cap elements of size elem) to hold at least need elements. */
static aic_status grow(void **arr, int *cap, int need, size_t elem) {
    if (need <= *cap)
        return AIC_OK;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return aic_fail(AIC_ERR_NOMEM, "model graph: out of memory growing to %d entries", ncap);
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
    *arr = p;
    *cap = ncap;
    return AIC_OK;
}

aic_status aic_model_create(aic_model_t **out, const char *name) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_create: out is NULL");
    aic_model_t *m = calloc(1, sizeof *m);
    if (!m)
        return aic_fail(AIC_ERR_NOMEM, "aic_model_create: out of memory");
    snprintf(m->name, sizeof m->name, "%s", name ? name : "model");
    m->backend = &aic_backend_cpu;
    m->loss_value = -1;
    m->output_value = -1;
    *out = m;
    return AIC_OK;
}

void aic_model_destroy(aic_model_t *m) {
    if (!m)
        return;
    const aic_backend *be = m->backend;
    aic_model_attach(m, NULL, NULL); /* it may use the arenas */
    be->free(m->param_arena);
    be->free(m->grad_arena);
    be->free(m->buffer_arena);
    be->free(m->act_arena);
    be->free(m->act_grad_arena);
    be->free(m->saved_arena);
    be->free(m->scratch_arena);
    aic_mirror_free(&m->params_mirror);
    aic_mirror_free(&m->grads_mirror);
    aic_mirror_free(&m->buffers_mirror);
    free(m->host_act);
    free(m->values);
    free(m->ops);
    free(m->params);
    free(m->buffers);
    free(m);
}

const char *aic_model_name(const aic_model_t *m) { return m ? m->name : ""; }

void aic_model_set_backward_hook(aic_model_t *m, aic_backward_hook hook, void *ctx) {
    m->backward_hook = hook;
    m->backward_hook_ctx = ctx;
}

void aic_model_attach(aic_model_t *m, void *state, void (*destroy)(void *state)) {
    if (m->attached_destroy)
        m->attached_destroy(m->attached);
    m->attached = state;
    m->attached_destroy = state ? destroy : NULL;
}

void *aic_model_attached(const aic_model_t *m) { return m->attached; }

/* ---- device and host copies ------------------------------------------------------------------- */

aic_status aic_model_set_device(aic_model_t *m, aic_device_kind kind, int gpu, bool tf32) {
    AIC_TRY(aic_graph_check_building(m, "aic_model_set_device"));
    if (kind == AIC_DEVICE_CPU) {
        m->backend = &aic_backend_cpu;
        return AIC_OK;
    }
    if (kind != AIC_DEVICE_CUDA)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_set_device: unknown device kind %d", (int)kind);
#ifdef AICON_HAVE_CUDA
    AIC_TRY(aic_cuda_init(gpu, tf32));
    m->backend = &aic_backend_cuda;
    m->gpu = gpu;
    m->tf32 = tf32;
    return AIC_OK;
#else
    return aic_fail(AIC_ERR_UNSUPPORTED, "model '%s': GPU %d asked for, but this aicon was built without CUDA "
                    "(AICON_CUDA=OFF or no CUDA toolkit found)", m->name, gpu);
#endif
}

aic_device_kind aic_model_device(const aic_model_t *m) {
    return m && m->backend->kind == AIC_BACKEND_CUDA ? AIC_DEVICE_CUDA : AIC_DEVICE_CPU;
}

aic_status aic_model_sync(aic_model_t *m) {
    if (!m)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_sync: model is NULL");
    return m->backend->sync();
}

float *aic_mirror_host(const aic_backend *be, aic_mirror *mi, float *dev, size_t n) {
    if (be->kind == AIC_BACKEND_CPU || !dev)
        return dev;
    if (!mi->host) {
        mi->host = malloc(sizeof(float) * (n ? n : 1));
        if (!mi->host) {
            aic_fail(AIC_ERR_NOMEM, "out of memory for a %zu-float host copy of a device arena", n);
            return NULL;
        }
    } else if (mi->host_newer) {
        return mi->host; /* written since it was handed out: fetching would lose that */
    }
    if (be->copy_to_host(mi->host, dev, sizeof(float) * n) != AIC_OK)
        return NULL;
    mi->host_newer = true;
    return mi->host;
}

aic_status aic_mirror_to_device(const aic_backend *be, aic_mirror *mi, float *dev, size_t n) {
    if (!mi->host_newer)
        return AIC_OK;
    mi->host_newer = false;
    return be->copy_from_host(dev, mi->host, sizeof(float) * n);
}

void aic_mirror_free(aic_mirror *mi) {
    free(mi->host);
    mi->host = NULL;
}

aic_status aic_model_to_device(aic_model_t *m) {
    AIC_TRY(aic_mirror_to_device(m->backend, &m->params_mirror, m->param_arena, m->n_param_floats));
    AIC_TRY(aic_mirror_to_device(m->backend, &m->grads_mirror, m->grad_arena, m->n_param_floats + 1));
    return aic_mirror_to_device(m->backend, &m->buffers_mirror, m->buffer_arena, m->n_buffer_floats);
}

/* ---- graph building --------------------------------------------------------------------------- */

aic_status aic_graph_check_building(aic_model_t *m, const char *what) {
    if (!m)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: model is NULL", what);
    if (m->compiled)
        return aic_fail(AIC_ERR_STATE, "%s: model '%s' is already compiled; add ops before aic_model_compile", what,
                        m->name);
    return AIC_OK;
}

aic_status aic_graph_check_value(aic_model_t *m, aic_value v, const char *op_name, const char *role) {
    if (v < 0 || v >= m->n_values)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': %s is not a value of model '%s' (handle %d)", op_name, role,
                        m->name, v);
    return AIC_OK;
}

aic_status aic_graph_add_op(aic_model_t *m, aic_op_kind kind, const char *name, const int *inputs, int n_in,
                            aic_op **out) {
    const char *kind_name = aic_op_name(kind);
    char auto_name[AIC_MAX_NAME];
    if (!name || !*name) {
        snprintf(auto_name, sizeof auto_name, "%s%d", kind_name, m->kind_count[kind] + 1);
        name = auto_name;
    }
    if (strlen(name) >= AIC_MAX_NAME - 16)
        return aic_fail(AIC_ERR_INVALID_ARG, "op name '%.40s...' is too long (at most %d characters)", name,
                        AIC_MAX_NAME - 17);
    for (int i = 0; i < m->n_ops; i++)
        if (strcmp(m->ops[i].name, name) == 0)
            return aic_fail(AIC_ERR_INVALID_ARG, "model '%s' already has an op named '%s'", m->name, name);
    if (n_in > AIC_MAX_OP_INPUTS)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': %d inputs, at most %d", name, n_in, AIC_MAX_OP_INPUTS);
    for (int i = 0; i < n_in; i++)
        AIC_TRY(aic_graph_check_value(m, inputs[i], name, "an input"));
    AIC_TRY(grow((void **)&m->ops, &m->cap_ops, m->n_ops + 1, sizeof(aic_op)));
    aic_op *op = &m->ops[m->n_ops];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    snprintf(op->name, sizeof op->name, "%s", name);
    if (n_in > 0)
        memcpy(op->in, inputs, sizeof(int) * (size_t)n_in);
    op->n_in = n_in;
    op->out = -1;
    for (int k = 0; k < AIC_MAX_OP_PARAMS; k++)
        op->param[k] = -1;
    op->buffer[0] = op->buffer[1] = -1;
    m->n_ops++;
    m->kind_count[kind]++;
    *out = op;
    return AIC_OK;
}

aic_status aic_graph_add_value(aic_model_t *m, aic_op *op, aic_dtype dtype, int ndim, const int64_t *shape,
                               aic_value *out) {
    if (ndim < 0 || ndim > AIC_MAX_DIMS - 1)
        return aic_fail(AIC_ERR_SHAPE, "op '%s': per-sample rank %d is outside 0..%d", op->name, ndim,
                        AIC_MAX_DIMS - 1);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0)
            return aic_fail(AIC_ERR_SHAPE, "op '%s': output dimension %d is %lld (must be positive)", op->name, i + 1,
                            (long long)shape[i]);
        if (numel > (INT64_C(1) << 40) / shape[i])
            return aic_fail(AIC_ERR_SHAPE, "op '%s': output of more than 2^40 elements per sample", op->name);
        numel *= shape[i];
    }
    int op_index = (int)(op - m->ops);
    AIC_TRY(grow((void **)&m->values, &m->cap_values, m->n_values + 1, sizeof(aic_value_info)));
    op = &m->ops[op_index];
    aic_value_info *v = &m->values[m->n_values];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", op->name);
    v->dtype = dtype;
    v->ndim = ndim;
    if (ndim > 0)
        memcpy(v->shape, shape, sizeof(int64_t) * (size_t)ndim);
    v->numel = numel;
    v->outer = v->fold = 1;
    /* The batch where the op's first batched input holds it; an op that moves it says so after. */
    for (int k = 0; k < op->n_in; k++) {
        const aic_value_info *in = &m->values[op->in[k]];
        if (!in->scalar) {
            v->batch_axis = in->batch_axis <= ndim ? in->batch_axis : 0;
            v->outer = in->outer;
            v->fold = in->fold;
            break;
        }
    }
    v->producer = op_index;
    v->alias_of = -1;
    v->act = v->grad = AIC_NO_OFFSET;
    op->out = m->n_values;
    *out = m->n_values++;
    return AIC_OK;
}

static aic_status add_tensor(aic_model_t *m, aic_param_info **arr, int *count, int *cap, aic_op *op,
                             const char *suffix, int ndim, const int64_t *shape, aic_init_kind init, float bound,
                             int *out) {
    int op_index = (int)(op - m->ops);
    AIC_TRY(grow((void **)arr, cap, *count + 1, sizeof(aic_param_info)));
    aic_param_info *p = &(*arr)[*count];
    memset(p, 0, sizeof *p);
    if (snprintf(p->name, sizeof p->name, "%s.%s", m->ops[op_index].name, suffix) >= (int)sizeof p->name)
        return aic_fail(AIC_ERR_INVALID_ARG, "op '%s': tensor name too long", m->ops[op_index].name);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= (size_t)shape[i];
    }
    p->init = init;
    p->bound = bound;
    *out = (*count)++;
    return AIC_OK;
}

aic_status aic_graph_add_param(aic_model_t *m, aic_op *op, const char *suffix, int ndim, const int64_t *shape,
                               aic_init_kind init, float bound, int *out) {
    return add_tensor(m, &m->params, &m->n_params, &m->cap_params, op, suffix, ndim, shape, init, bound, out);
}

aic_status aic_graph_add_buffer(aic_model_t *m, aic_op *op, const char *suffix, int64_t n, aic_init_kind init,
                                int *out) {
    return add_tensor(m, &m->buffers, &m->n_buffers, &m->cap_buffers, op, suffix, 1, &n, init, 0.0f, out);
}

aic_status aic_model_set_output(aic_model_t *m, aic_value v) {
    AIC_TRY(aic_graph_check_building(m, "aic_model_set_output"));
    AIC_TRY(aic_graph_check_value(m, v, "set_output", "the output"));
    m->output_value = v;
    return AIC_OK;
}

/* ---- compile ---------------------------------------------------------------------------------- */

/* numel floats of a tensor initialized as `init` with `bound` from key k (a seed mixed with the
 * tensor's index). */
static void init_tensor(float *dst, size_t numel, aic_init_kind init, float bound, uint64_t k) {
    for (size_t j = 0; j < numel; j++) {
        switch (init) {
        case AIC_INIT_ONES: dst[j] = 1.0f; break;
        case AIC_INIT_ZEROS: dst[j] = 0.0f; break;
        case AIC_INIT_UNIFORM: {
            aic_philox_block r = aic_philox(k, 0, j / 4);
            dst[j] = bound * (2.0f * aic_u32_to_unit(r.v[j % 4]) - 1.0f);
            break;
        }
        case AIC_INIT_NORMAL: { /* Box-Muller on two of a block's four draws, u1 in (0, 1] */
            aic_philox_block r = aic_philox(k, 1, j / 2);
            const double u1 = 1.0 - aic_u32_to_unit(r.v[2 * (j % 2)]);
            const double u2 = aic_u32_to_unit(r.v[2 * (j % 2) + 1]);
            dst[j] = (float)(bound * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
            break;
        }
        }
    }
}

static void init_tensors(float *arena, const aic_param_info *ps, int n, uint64_t key) {
    for (int i = 0; i < n; i++)
        init_tensor(arena + ps[i].offset, ps[i].numel, ps[i].init, ps[i].bound, aic_mix64(key, (uint64_t)i));
}

static size_t layout_tensors(aic_param_info *ps, int n) {
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        ps[i].offset = off;
        off += ps[i].numel; /* packed: the arena is one flat vector for allreduce and hashing */
    }
    return off;
}

/* The rows per sample op's kernels see (aic_op_desc.batch). */
static int64_t op_lead(const aic_model_t *m, const aic_op *op) {
    if (aic_op_descs[op->kind]->batch == AIC_BATCH_WHOLE)
        return 1;
    return aic_value_lead(&m->values[op->n_in > 0 ? op->in[0] : op->out]);
}

/* Which backward kernels write an input's gradient rather than add to it: in backward order, the first
 * op to reach a value's gradient, where it can (aic_op.grad_writable), it reads the value
 * once and no other value shares the gradient's storage (a reshape's alias). Every other gradient is
 * zeroed before backward, as the accumulating kernels need; a written one saves that pass over memory
 * and the kernel's read of the zeros. */
static aic_status plan_grad_writes(aic_model_t *m) {
    enum { REACHED = 1, SHARED = 2 };
    unsigned char *state = calloc((size_t)m->n_values, 1);
    if (!state)
        return aic_fail(AIC_ERR_NOMEM, "aic_model_compile: out of memory planning gradient writes");
    for (int v = 0; v < m->n_values; v++) {
        m->values[v].grad_written = false;
        if (m->values[v].alias_of >= 0) {
            state[v] |= SHARED;
            state[m->values[v].alias_of] |= SHARED;
        }
    }
    for (int i = m->n_ops - 1; i >= 0; i--) {
        aic_op *op = &m->ops[i];
        op->grad_write = 0;
        if (op->out < 0 || !m->values[op->out].requires_grad || !aic_model_kernels(m, op->kind)->backward)
            continue;
        for (int j = 0; j < op->n_in; j++) {
            const int v = op->in[j];
            if (!m->values[v].requires_grad || (state[v] & REACHED))
                continue;
            state[v] |= REACHED;
            int reads = 0;
            for (int k = 0; k < op->n_in; k++)
                reads += op->in[k] == v;
            if (reads == 1 && !(state[v] & SHARED) && (op->grad_writable >> j & 1u)) {
                op->grad_write |= 1u << j;
                m->values[v].grad_written = true;
            }
        }
    }
    free(state);
    return AIC_OK;
}

aic_status aic_model_compile(aic_model_t *m, int max_batch, uint64_t seed) {
    AIC_TRY(aic_graph_check_building(m, "aic_model_compile"));
    if (max_batch <= 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_compile: max_batch must be positive, got %d", max_batch);
    if (m->n_ops == 0)
        return aic_fail(AIC_ERR_STATE, "aic_model_compile: model '%s' has no ops", m->name);
    if (m->output_value < 0) {
        if (m->loss_value >= 0)
            m->output_value = m->ops[m->values[m->loss_value].producer].in[0];
        else
            m->output_value = m->n_values - 1;
    }
    const aic_backend *be = m->backend;
    for (int i = 0; i < m->n_ops; i++) {
        const aic_op_kind k = m->ops[i].kind;
        const aic_op_kernels *cpu = &aic_op_descs[k]->cpu, *here = aic_model_kernels(m, k);
        if ((cpu->forward && !here->forward) || (cpu->backward && !here->backward))
            return aic_fail(AIC_ERR_UNSUPPORTED, "model '%s': op '%s' (%s) has no %s kernel", m->name,
                            m->ops[i].name, aic_op_name(k), be->name);
    }
    m->max_batch = max_batch;
    m->seed = seed;

    /* A value needs a gradient when a parameter lies upstream of it, unless it holds integers. */
    for (int i = 0; i < m->n_ops; i++) {
        aic_op *op = &m->ops[i];
        bool rg = op->param[0] >= 0 || op->param[1] >= 0;
        for (int k = 0; k < op->n_in; k++)
            rg = rg || m->values[op->in[k]].requires_grad;
        if (op->out >= 0)
            m->values[op->out].requires_grad = rg && m->values[op->out].dtype == AIC_F32;
    }
    AIC_TRY(plan_grad_writes(m));

    size_t act = 0, saved = 0, scratch = 0;
    for (int v = 0; v < m->n_values; v++) {
        aic_value_info *vi = &m->values[v];
        if (!vi->scalar && (double)max_batch * (double)aic_value_lead(vi) > 0x7fffffff)
            return aic_fail(AIC_ERR_SHAPE, "model '%s': value '%s' has %lld rows per sample, too many for batch %d",
                            m->name, vi->name, (long long)aic_value_lead(vi), max_batch);
        if (vi->alias_of >= 0) {
            vi->act = m->values[vi->alias_of].act;
            continue;
        }
        vi->act = act;
        act += align_up(aic_value_elems(vi, max_batch));
    }
    /* The gradient arena mirrors the activation arena, so a gradient sits at its value's offset. */
    for (int v = 0; v < m->n_values; v++)
        m->values[v].grad = m->values[v].requires_grad ? m->values[v].act : AIC_NO_OFFSET;
    for (int i = 0; i < m->n_ops; i++) {
        aic_op *op = &m->ops[i];
        op->saved = saved;
        saved += align_up(op->saved_per_sample * (size_t)max_batch * (size_t)op_lead(m, op) + op->saved_fixed);
        if (op->scratch > scratch)
            scratch = op->scratch;
    }
    m->n_param_floats = layout_tensors(m->params, m->n_params);
    m->n_buffer_floats = layout_tensors(m->buffers, m->n_buffers);
    m->n_act_floats = act;
    m->n_saved_floats = saved;
    m->n_scratch_floats = scratch;

    /* A model that cannot fit in this machine's memory is refused before anything is touched: a
     * few bytes of a hostile or mistaken ONNX file can declare activations of many gigabytes. */
    const double need = 4.0 * ((double)m->n_param_floats * 2 + (double)m->n_buffer_floats + 2.0 * (double)act +
                               (double)saved + (double)scratch);
    const double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (be->kind == AIC_BACKEND_CPU && have > 0 && need > have)
        return aic_fail(AIC_ERR_NOMEM,
                        "model '%s' needs %.1f GiB for batch %d (activations %.1f GiB), more than this machine's "
                        "%.1f GiB of memory",
                        m->name, need / (1 << 30), max_batch, 8.0 * (double)act / (1 << 30), have / (1 << 30));
    m->param_arena = be->alloc(sizeof(float) * m->n_param_floats);
    m->grad_arena = be->alloc(sizeof(float) * (m->n_param_floats + 1));
    m->buffer_arena = be->alloc(sizeof(float) * m->n_buffer_floats);
    m->act_arena = be->alloc(sizeof(float) * act);
    m->act_grad_arena = be->alloc(sizeof(float) * act);
    m->saved_arena = be->alloc(sizeof(float) * saved);
    m->scratch_arena = be->alloc(sizeof(float) * scratch);
    if (!m->param_arena || !m->grad_arena || !m->buffer_arena || !m->act_arena || !m->act_grad_arena ||
        !m->saved_arena || !m->scratch_arena)
        return aic_fail(AIC_ERR_NOMEM,
                        "model '%s': out of memory allocating arenas for batch %d (%.1f MiB of activations)", m->name,
                        max_batch, (double)act * 8 / (1 << 20));
    /* Initialized on the host (the same values on every backend); a device gets them at first use. */
    float *params = aic_mirror_host(be, &m->params_mirror, m->param_arena, m->n_param_floats);
    float *buffers = aic_mirror_host(be, &m->buffers_mirror, m->buffer_arena, m->n_buffer_floats);
    if ((!params && m->n_param_floats) || (!buffers && m->n_buffer_floats))
        return aic_fail_context(AIC_ERR_NOMEM, "model '%s': ", m->name);
    init_tensors(params, m->params, m->n_params, seed);
    init_tensors(buffers, m->buffers, m->n_buffers, seed);
    m->compiled = true;
    return AIC_OK;
}

/* ---- running ---------------------------------------------------------------------------------- */

static aic_status check_compiled(const aic_model_t *m, const char *what) {
    if (!m)
        return aic_fail(AIC_ERR_INVALID_ARG, "%s: model is NULL", what);
    if (!m->compiled)
        return aic_fail(AIC_ERR_STATE, "%s: model '%s' is not compiled (call aic_model_compile first)", what,
                        m->name);
    return AIC_OK;
}

/* A device's kernels cannot fail on a bad label or id, so the host checks int data on the way in, for
 * each op that reads it (the CPU glue checks in its forward). */
static aic_status check_device_ints(aic_model_t *m, aic_value v, const int32_t *data, int n) {
    for (int i = 0; i < m->n_ops; i++) {
        const aic_op *op = &m->ops[i];
        if ((op->kind == AIC_OP_SOFTMAX_XENT || op->kind == AIC_OP_NLL) && op->in[1] == v)
            AIC_TRY(aic_loss_check_labels(m, op, data, n));
        if (op->kind == AIC_OP_EMBEDDING && op->in[0] == v)
            AIC_TRY(aic_embedding_check_ids(m, op, data, n));
        /* the indices may be v reshaped (an alias of its memory) */
        const int idx = op->kind == AIC_OP_GATHER_ELEMENTS || op->kind == AIC_OP_SCATTER_ELEMENTS ? op->in[1] : -1;
        if (idx >= 0 && (idx == v || m->values[idx].alias_of == v))
            AIC_TRY(aic_elements_check_indices(m, op, data, n));
    }
    return AIC_OK;
}

aic_status aic_model_set_input(aic_model_t *m, aic_value v, const void *data, int n) {
    AIC_TRY(check_compiled(m, "aic_model_set_input"));
    AIC_TRY(aic_graph_check_value(m, v, "set_input", "the input"));
    aic_op_kind kind = m->ops[m->values[v].producer].kind;
    if (kind != AIC_OP_INPUT && kind != AIC_OP_LABELS)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_set_input: '%s' is not an input of model '%s'",
                        m->values[v].name, m->name);
    if (n < 0 || n > m->max_batch)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_set_input: %d rows for '%s', the model holds 0..%d", n,
                        m->values[v].name, m->max_batch);
    if (n > 0 && !data)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_set_input: data for '%s' is NULL", m->values[v].name);
    if (n > 0 && kind == AIC_OP_LABELS && m->backend->kind != AIC_BACKEND_CPU)
        AIC_TRY(check_device_ints(m, v, data, n));
    if (n > 0)
        return m->backend->copy_from_host(aic_act(m, v), data, sizeof(float) * aic_value_elems(&m->values[v], n));
    return AIC_OK;
}

aic_status aic_model_forward(aic_model_t *m, const aic_batch_info *b, float *loss) {
    AIC_TRY(check_compiled(m, "aic_model_forward"));
    if (!b || b->n < 0 || b->n > m->max_batch)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_forward: batch of %d rows, model '%s' holds 0..%d",
                        b ? b->n : -1, m->name, m->max_batch);
    AIC_TRY(aic_model_to_device(m));
    if (m->backend->use_tf32)
        AIC_TRY(m->backend->use_tf32(m->tf32));
    m->last = *b;
    m->have_forward = false;
    if (loss)
        *loss = 0.0f;
    if (b->n > 0) {
        for (int i = 0; i < m->n_ops; i++) {
            aic_op *op = &m->ops[i];
            const aic_op_kernels *k = aic_model_kernels(m, op->kind);
            if (!k->forward)
                continue;
            const double t0 = aic_trace_recording ? aic_trace_now() : 0;
            const int64_t lead = op_lead(m, op);
            aic_batch_info rows = *b;
            rows.n = b->n * (int)lead;
            rows.row_offset = b->row_offset * lead;
            AIC_TRY(k->forward(m, op, &rows));
            if (aic_trace_recording && b->training)
                aic_trace_add("forward", op->name, AIC_TRACE_COMPUTE, t0, aic_trace_now());
        }
        if (loss && m->loss_value >= 0)
            AIC_TRY(m->backend->copy_to_host(loss, aic_act(m, m->loss_value), sizeof(float)));
    }
    m->have_forward = true;
    return AIC_OK;
}

aic_status aic_model_backward(aic_model_t *m, float loss_scale) {
    AIC_TRY(check_compiled(m, "aic_model_backward"));
    if (!m->have_forward)
        return aic_fail(AIC_ERR_STATE, "aic_model_backward: model '%s' has no forward pass to differentiate",
                        m->name);
    if (m->loss_value < 0)
        return aic_fail(AIC_ERR_STATE, "aic_model_backward: model '%s' has no loss op", m->name);
    if (!m->last.training)
        return aic_fail(AIC_ERR_STATE, "aic_model_backward: the last forward of '%s' ran in evaluation mode",
                        m->name);
    int n = m->last.n;
    if (n == 0)
        return AIC_OK;
    AIC_TRY(aic_model_to_device(m));
    if (m->backend->use_tf32)
        AIC_TRY(m->backend->use_tf32(m->tf32));
    /* Backward kernels accumulate into activation gradients, which start at zero, but for those the
     * first kernel to reach writes outright (plan_grad_writes). */
    for (int v = 0; v < m->n_values; v++) {
        const aic_value_info *vi = &m->values[v];
        if (vi->grad != AIC_NO_OFFSET && vi->alias_of < 0 && !vi->grad_written)
            AIC_TRY(m->backend->zero(m->act_grad_arena + vi->grad, sizeof(float) * aic_value_elems(vi, n)));
    }
    float *dloss = aic_act_grad(m, m->loss_value);
    if (!dloss) /* no parameter lies upstream of the loss: nothing to flow back */
        return AIC_OK;
    AIC_TRY(m->backend->set_f32(dloss, loss_scale));
    for (int i = m->n_ops - 1; i >= 0; i--) {
        aic_op *op = &m->ops[i];
        const aic_op_kernels *k = aic_model_kernels(m, op->kind);
        if (op->out >= 0 && m->values[op->out].requires_grad && k->backward) {
            const double t0 = aic_trace_recording ? aic_trace_now() : 0;
            AIC_TRY(k->backward(m, op, n * (int)op_lead(m, op)));
            if (aic_trace_recording)
                aic_trace_add("backward", op->name, AIC_TRACE_COMPUTE, t0, aic_trace_now());
        }
        if (m->backward_hook)
            AIC_TRY(m->backward_hook(m->backward_hook_ctx, i));
    }
    return AIC_OK;
}

aic_status aic_model_zero_grad(aic_model_t *m) {
    AIC_TRY(check_compiled(m, "aic_model_zero_grad"));
    AIC_TRY(aic_model_to_device(m));
    return m->backend->zero(m->grad_arena, sizeof(float) * (m->n_param_floats + 1));
}

static aic_status value_view(aic_model_t *m, aic_value v, float *data, aic_tensor *out) {
    const aic_value_info *vi = &m->values[v];
    if (m->backend->kind != AIC_BACKEND_CPU) {
        /* A host copy of this value's rows, at the value's offset in a host image of the arena. */
        if (!m->host_act && !(m->host_act = malloc(sizeof(float) * (m->n_act_floats ? m->n_act_floats : 1))))
            return aic_fail(AIC_ERR_NOMEM, "model '%s': out of memory for host copies of activations", m->name);
        float *host = m->host_act + vi->act;
        AIC_TRY(m->backend->copy_to_host(host, data, sizeof(float) * aic_value_elems(vi, m->last.n)));
        data = host;
    }
    int64_t shape[AIC_MAX_DIMS] = {0};
    if (vi->scalar)
        return aic_tensor_view(out, AIC_F32, data, 0, shape, vi->name);
    aic_value_full_shape(vi, m->last.n, shape);
    return aic_tensor_view(out, vi->dtype, data, vi->ndim + 1, shape, vi->name);
}

aic_status aic_model_value(aic_model_t *m, aic_value v, aic_tensor *out) {
    AIC_TRY(check_compiled(m, "aic_model_value"));
    AIC_TRY(aic_graph_check_value(m, v, "aic_model_value", "the value"));
    return value_view(m, v, aic_act(m, v), out);
}

aic_status aic_model_value_grad(aic_model_t *m, aic_value v, aic_tensor *out) {
    AIC_TRY(check_compiled(m, "aic_model_value_grad"));
    AIC_TRY(aic_graph_check_value(m, v, "aic_model_value_grad", "the value"));
    float *g = aic_act_grad(m, v);
    if (m->values[v].dtype != AIC_F32)
        return aic_fail(AIC_ERR_INVALID_ARG, "value '%s' holds int32 values, which get no gradient", m->values[v].name);
    if (!g)
        return aic_fail(AIC_ERR_INVALID_ARG, "value '%s' has no gradient (no parameter lies upstream of it)",
                        m->values[v].name);
    return value_view(m, v, g, out);
}

aic_status aic_model_output(aic_model_t *m, aic_tensor *out) {
    AIC_TRY(check_compiled(m, "aic_model_output"));
    return aic_model_value(m, m->output_value, out);
}

/* ---- parameters ------------------------------------------------------------------------------- */

int aic_model_param_count(const aic_model_t *m) { return m ? m->n_params : 0; }
int aic_model_buffer_count(const aic_model_t *m) { return m ? m->n_buffers : 0; }
size_t aic_model_num_params(const aic_model_t *m) { return m ? m->n_param_floats : 0; }
size_t aic_model_num_buffers(const aic_model_t *m) { return m ? m->n_buffer_floats : 0; }
float *aic_model_params(aic_model_t *m) {
    return m ? aic_mirror_host(m->backend, &m->params_mirror, m->param_arena, m->n_param_floats) : NULL;
}
float *aic_model_grads(aic_model_t *m) {
    return m ? aic_mirror_host(m->backend, &m->grads_mirror, m->grad_arena, m->n_param_floats + 1) : NULL;
}
float *aic_model_buffers(aic_model_t *m) {
    return m ? aic_mirror_host(m->backend, &m->buffers_mirror, m->buffer_arena, m->n_buffer_floats) : NULL;
}

static aic_status tensor_of(const aic_param_info *p, float *arena, aic_tensor *out) {
    return aic_tensor_view(out, AIC_F32, arena ? arena + p->offset : NULL, p->ndim, p->shape, p->name);
}

aic_status aic_model_param(aic_model_t *m, int i, aic_tensor *param, aic_tensor *grad) {
    AIC_TRY(check_compiled(m, "aic_model_param"));
    if (i < 0 || i >= m->n_params)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_param: index %d outside 0..%d", i, m->n_params - 1);
    if (param)
        AIC_TRY(tensor_of(&m->params[i], aic_model_params(m), param));
    if (grad)
        AIC_TRY(tensor_of(&m->params[i], aic_model_grads(m), grad));
    return AIC_OK;
}

aic_status aic_model_find_param(aic_model_t *m, const char *name, aic_tensor *param) {
    AIC_TRY(check_compiled(m, "aic_model_find_param"));
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return tensor_of(&m->params[i], aic_model_params(m), param);
    return aic_fail(AIC_ERR_INVALID_ARG, "model '%s' has no parameter named '%s'", m->name, name);
}

aic_status aic_model_init_normal(aic_model_t *m, const char *name, float std, uint64_t seed) {
    AIC_TRY(check_compiled(m, "aic_model_init_normal"));
    if (!(std >= 0.0f) || isinf(std))
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_init_normal '%s': std %g must be finite and not negative",
                        name ? name : "(NULL)", std);
    for (int i = 0; name && i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) {
            float *params = aic_model_params(m); /* a device model's host copy, sent back at next use */
            if (!params)
                return aic_fail_context(AIC_ERR_NOMEM, "aic_model_init_normal '%s': ", name);
            init_tensor(params + m->params[i].offset, m->params[i].numel, AIC_INIT_NORMAL, std,
                        aic_mix64(seed, (uint64_t)i));
            return AIC_OK;
        }
    return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_init_normal: model '%s' has no parameter named '%s'", m->name,
                    name ? name : "(NULL)");
}

aic_status aic_model_buffer(aic_model_t *m, int i, aic_tensor *buf) {
    AIC_TRY(check_compiled(m, "aic_model_buffer"));
    if (i < 0 || i >= m->n_buffers)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_buffer: index %d outside 0..%d", i, m->n_buffers - 1);
    return tensor_of(&m->buffers[i], aic_model_buffers(m), buf);
}

/* ---- hashes and summary ----------------------------------------------------------------------- */

static aic_status digest_finish(EVP_MD_CTX *ctx, uint8_t out[32], const char *what) {
    unsigned int len = 0;
    int ok = EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
    return ok && len == 32 ? AIC_OK : aic_fail(AIC_ERR_INTERNAL, "%s: SHA-256 failed in libcrypto", what);
}

static aic_status digest_start(EVP_MD_CTX **ctx, const char *what) {
    *ctx = EVP_MD_CTX_new();
    if (*ctx && EVP_DigestInit_ex(*ctx, EVP_sha256(), NULL))
        return AIC_OK;
    EVP_MD_CTX_free(*ctx);
    return aic_fail(AIC_ERR_NOMEM, "%s: cannot start SHA-256", what);
}

void aic_hex(const uint8_t *bytes, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

aic_status aic_sha256(const void *data, size_t bytes, uint8_t out[32]) {
    EVP_MD_CTX *ctx;
    AIC_TRY(digest_start(&ctx, "aic_sha256"));
    EVP_DigestUpdate(ctx, data, bytes);
    return digest_finish(ctx, out, "aic_sha256");
}

/* Parameter names and shapes, buffer names: the part both versions of the hash share. */
static void digest_arrays(EVP_MD_CTX *ctx, const aic_model_t *m) {
    for (int i = 0; i < m->n_params; i++) {
        EVP_DigestUpdate(ctx, m->params[i].name, strlen(m->params[i].name));
        EVP_DigestUpdate(ctx, m->params[i].shape, sizeof(int64_t) * (size_t)m->params[i].ndim);
    }
    for (int i = 0; i < m->n_buffers; i++)
        EVP_DigestUpdate(ctx, m->buffers[i].name, strlen(m->buffers[i].name));
}

/* Each op as one line of text: kind, name, inputs, its canonical attributes, its output shape. An
 * op's attributes reach the digest only through its own attr_text, so a field added to one op
 * cannot change another op's hash. */
aic_status aic_model_arch_hash(const aic_model_t *m, uint8_t out[32]) {
    if (!m || !out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_arch_hash: NULL argument");
    EVP_MD_CTX *ctx;
    AIC_TRY(digest_start(&ctx, "aic_model_arch_hash"));
    EVP_DigestUpdate(ctx, "aicon-arch-2\n", 13);
    char line[1024], attrs[512];
    for (int i = 0; i < m->n_ops; i++) {
        const aic_op *op = &m->ops[i];
        const aic_op_desc *c = aic_op_descs[op->kind];
        attrs[0] = '\0';
        if (c->attr_text)
            c->attr_text(op, attrs, sizeof attrs);
        int len = snprintf(line, sizeof line, "%s %s in", c->name, op->name);
        for (int k = 0; k < op->n_in && len < (int)sizeof line; k++)
            len += snprintf(line + len, sizeof line - (size_t)len, " %d", op->in[k]);
        if (len < (int)sizeof line)
            len += snprintf(line + len, sizeof line - (size_t)len, " attrs %s out", attrs);
        const aic_value_info *v = op->out >= 0 ? &m->values[op->out] : NULL;
        for (int k = 0; v && k < v->ndim && len < (int)sizeof line; k++)
            len += snprintf(line + len, sizeof line - (size_t)len, " %lld", (long long)v->shape[k]);
        if (v && (v->batch_axis != 0 || v->outer != 1 || v->fold != 1) && len < (int)sizeof line) /* older: never */
            len += snprintf(line + len, sizeof line - (size_t)len, " batch %d %lldx%lld", v->batch_axis,
                            (long long)v->outer, (long long)v->fold);
        if (len < (int)sizeof line)
            snprintf(line + len, sizeof line - (size_t)len, "\n");
        EVP_DigestUpdate(ctx, line, strlen(line));
    }
    digest_arrays(ctx, m);
    return digest_finish(ctx, out, "aic_model_arch_hash");
}

/* The attribute union as checkpoint formats 1 and 2 hashed it: 64 bytes, each op's member at the
 * start in its field order, the rest zero. Written field by field, so that later changes to the
 * attribute structs cannot change what old checkpoints are checked against. */
#define V1_ATTR_BYTES 64
static void v1_attr_bytes(const aic_op *op, uint8_t b[V1_ATTR_BYTES]) {
    memset(b, 0, V1_ATTR_BYTES);
    switch (op->kind) {
    case AIC_OP_CONV2D: {
        const aic_conv2d_dims *d = &op->attr.conv;
        const int v[16] = {d->N, d->C, d->H, d->W, d->OC, d->KH, d->KW, d->SH, d->SW, d->PH, d->PW, d->DH, d->DW, d->G, d->OH, d->OW};
        memcpy(b, v, sizeof v);
        break;
    }
    case AIC_OP_MAXPOOL2D:
    case AIC_OP_AVGPOOL2D: {
        const aic_pool2d_dims *d = &op->attr.pool;
        const int v[13] = {d->N, d->C, d->H, d->W, d->KH, d->KW, d->SH, d->SW, d->PH, d->PW, d->OH, d->OW, d->count_include_pad};
        memcpy(b, v, sizeof v);
        break;
    }
    case AIC_OP_BATCHNORM: {
        const float v[2] = {op->attr.bn.momentum, op->attr.bn.eps};
        memcpy(b, v, sizeof v);
        break;
    }
    case AIC_OP_DROPOUT: memcpy(b, &op->attr.drop_p, sizeof(float)); break;
    case AIC_OP_TRANSPOSE: memcpy(b, op->attr.perm, 6 * sizeof(int)); break;
    case AIC_OP_CONCAT:
    case AIC_OP_SOFTMAX:
    case AIC_OP_LOG_SOFTMAX: memcpy(b, &op->attr.axis, sizeof(int)); break;
    case AIC_OP_LEAKY_RELU: memcpy(b, &op->attr.unary[0], sizeof(float)); break; /* alpha */
    case AIC_OP_CLIP: {
        const float v[2] = {op->attr.clip.lo, op->attr.clip.hi};
        memcpy(b, v, sizeof v);
        break;
    }
    case AIC_OP_BINARY: {
        const int v[3] = {op->attr.binary.kind, op->attr.binary.const_left, op->attr.binary.cndim};
        memcpy(b, v, sizeof v);
        memcpy(b + 16, op->attr.binary.cshape, 5 * sizeof(int64_t));
        break;
    }
    default: break;
    }
}

aic_status aic_model_arch_hash_v1(const aic_model_t *m, uint8_t out[32]) {
    EVP_MD_CTX *ctx;
    AIC_TRY(digest_start(&ctx, "aic_model_arch_hash_v1"));
    char line[512];
    uint8_t attr[V1_ATTR_BYTES];
    for (int i = 0; i < m->n_ops; i++) {
        const aic_op *op = &m->ops[i];
        int len = snprintf(line, sizeof line, "%s %s in", aic_op_name(op->kind), op->name);
        for (int k = 0; k < op->n_in && len < (int)sizeof line; k++)
            len += snprintf(line + len, sizeof line - (size_t)len, " %d", op->in[k]);
        EVP_DigestUpdate(ctx, line, strlen(line));
        v1_attr_bytes(op, attr);
        EVP_DigestUpdate(ctx, attr, sizeof attr);
        if (op->out >= 0) {
            const aic_value_info *v = &m->values[op->out];
            EVP_DigestUpdate(ctx, v->shape, sizeof(int64_t) * (size_t)v->ndim);
        }
    }
    digest_arrays(ctx, m);
    return digest_finish(ctx, out, "aic_model_arch_hash_v1");
}

aic_status aic_model_params_hash(const aic_model_t *m, uint8_t out[32]) {
    AIC_TRY(check_compiled(m, "aic_model_params_hash"));
    EVP_MD_CTX *ctx;
    AIC_TRY(digest_start(&ctx, "aic_model_params_hash"));
    /* The host copies of a device model: fetching them changes no value. */
    aic_model_t *mm = (aic_model_t *)m;
    const float *params = aic_model_params(mm), *buffers = aic_model_buffers(mm);
    if ((!params && m->n_param_floats) || (!buffers && m->n_buffer_floats)) {
        EVP_MD_CTX_free(ctx);
        return aic_fail_context(AIC_ERR_INTERNAL, "aic_model_params_hash: ");
    }
    EVP_DigestUpdate(ctx, params, sizeof(float) * m->n_param_floats);
    EVP_DigestUpdate(ctx, buffers, sizeof(float) * m->n_buffer_floats);
    return digest_finish(ctx, out, "aic_model_params_hash");
}

void aic_value_full_shape(const aic_value_info *v, int n, int64_t *full) {
    for (int i = 0, j = 0; i <= v->ndim; i++)
        full[i] = i == v->batch_axis ? v->outer * (int64_t)n * v->fold : v->shape[j++];
}

void aic_value_shape_text(char *buf, size_t size, const aic_value_info *v) {
    if (v->scalar) {
        snprintf(buf, size, "scalar");
        return;
    }
    int len = 0;
    buf[0] = '\0';
    for (int i = 0, j = 0; i <= v->ndim && len < (int)size; i++) {
        const char *x = i ? "x" : "";
        if (i != v->batch_axis)
            len += snprintf(buf + len, size - (size_t)len, "%s%lld", x, (long long)v->shape[j++]);
        else {
            char o[24] = "", f[24] = ""; /* "3*N*2": outer 3, fold 2 */
            if (v->outer > 1)
                snprintf(o, sizeof o, "%lld*", (long long)v->outer);
            if (v->fold > 1)
                snprintf(f, sizeof f, "*%lld", (long long)v->fold);
            len += snprintf(buf + len, size - (size_t)len, "%s%sN%s", x, o, f);
        }
    }
}

/* Whether an op before op `before` holds parameter p. */
static bool param_used_before(const aic_model_t *m, int p, int before) {
    for (int i = 0; i < before; i++)
        for (int k = 0; k < AIC_MAX_OP_PARAMS; k++)
            if (m->ops[i].param[k] == p)
                return true;
    return false;
}

aic_status aic_model_summary(const aic_model_t *m, char *buf, size_t size) {
    if (!m || !buf || size == 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_model_summary: NULL argument");
    size_t len = 0, total = 0;
    buf[0] = '\0';
    for (int i = 0; i < m->n_ops && len < size; i++) {
        const aic_op *op = &m->ops[i];
        char shape[128] = "-";
        if (op->out >= 0)
            aic_value_shape_text(shape, sizeof shape, &m->values[op->out]);
        size_t np = 0; /* a parameter counts at its first op only (a tied head's weight is the embedding's) */
        for (int k = 0; k < AIC_MAX_OP_PARAMS; k++)
            if (op->param[k] >= 0 && !param_used_before(m, op->param[k], i))
                np += m->params[op->param[k]].numel;
        total += np;
        len += (size_t)snprintf(buf + len, size - len, "%-16s %-14s %-20s %zu\n", op->name,
                                aic_op_name(op->kind), shape, np);
    }
    if (len < size)
        snprintf(buf + len, size - len, "%zu parameters\n", total);
    return AIC_OK;
}
