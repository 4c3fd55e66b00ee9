// SPDX-License-Identifier: Apache-2.0
/* SGD (momentum, Nesterov, weight decay) and Adam/AdamW over the flat parameter arena, with the
 * update rules of torch.optim (1.13, single-tensor path), so runs compare step by step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aicon/optim.h"
#include "core/error.h"
#include "core/graph.h"
#include "layers/cpu_clones.h"
#include "layers/optim_rules.h"
#ifdef AICON_HAVE_CUDA
#include "layers/cuda_layers.h"
#endif

#define MAX_SLOTS 2
#define AIC_PI 3.14159265358979323846

struct aic_optim {
    aic_model_t *model;
    aic_optim_config cfg;
    int n_slots;
    const char *slot_name[MAX_SLOTS];
    float *slot[MAX_SLOTS]; /* each laid out like the parameter arena, on the model's device */
    aic_mirror slot_mirror[MAX_SLOTS]; /* host copies of a device model's slots (core/graph.h) */
    int64_t steps;
    float last_norm;    /* the gradients' norm at the last clipped step */
    double *norm_sums;  /* CUDA with clipping: the norm's partial sums on the device */
};

aic_status aic_optim_create(aic_optim_t **out, aic_model_t *m, const aic_optim_config *cfg) {
    if (!out || !m || !cfg)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_optim_create: NULL argument");
    if (!m->compiled)
        return aic_fail(AIC_ERR_STATE, "aic_optim_create: model '%s' is not compiled", m->name);
    aic_optim_config c = *cfg;
    if (c.kind != AIC_OPTIM_SGD && c.kind != AIC_OPTIM_ADAM && c.kind != AIC_OPTIM_ADAMW)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_optim_create: unknown optimizer kind %d", (int)c.kind);
    if (!(c.clip_grad_norm >= 0) || isinf(c.clip_grad_norm))
        return aic_fail(AIC_ERR_INVALID_ARG, "optimizer: clip_grad_norm %g must be finite and not negative (0: off)",
                        c.clip_grad_norm);
    if (c.momentum < 0 || c.weight_decay < 0 || (c.nesterov && c.momentum <= 0))
        return aic_fail(AIC_ERR_INVALID_ARG,
                        "optimizer: momentum %g and weight decay %g must not be negative; Nesterov needs momentum > 0",
                        c.momentum, c.weight_decay);
    if (c.beta1 == 0)
        c.beta1 = 0.9f;
    if (c.beta2 == 0)
        c.beta2 = 0.999f;
    if (c.eps == 0)
        c.eps = 1e-8f;
    if (!(c.beta1 > 0 && c.beta1 < 1 && c.beta2 > 0 && c.beta2 < 1 && c.eps > 0))
        return aic_fail(AIC_ERR_INVALID_ARG, "optimizer: betas (%g, %g) must lie in (0, 1) and eps %g be positive",
                        c.beta1, c.beta2, c.eps);
    aic_optim_t *o = calloc(1, sizeof *o);
    if (!o)
        return aic_fail(AIC_ERR_NOMEM, "aic_optim_create: out of memory");
    o->model = m;
    o->cfg = c;
    if (c.kind == AIC_OPTIM_SGD) {
        if (c.momentum > 0) {
            o->n_slots = 1;
            o->slot_name[0] = "momentum";
        }
    } else {
        o->n_slots = 2;
        o->slot_name[0] = "exp_avg";
        o->slot_name[1] = "exp_avg_sq";
    }
    for (int i = 0; i < o->n_slots; i++) {
        o->slot[i] = m->backend->alloc(sizeof(float) * m->n_param_floats);
        if (!o->slot[i]) {
            aic_optim_destroy(o);
            return aic_fail(AIC_ERR_NOMEM, "optimizer: out of memory for %zu floats of state", m->n_param_floats);
        }
    }
#ifdef AICON_HAVE_CUDA
    if (c.clip_grad_norm > 0 && m->backend->kind == AIC_BACKEND_CUDA &&
        !(o->norm_sums = m->backend->alloc(sizeof(double) * AIC_CUDA_NORM_BLOCKS))) {
        aic_optim_destroy(o);
        return aic_fail(AIC_ERR_NOMEM, "optimizer: out of device memory for the gradient norm's sums");
    }
#endif
    *out = o;
    return AIC_OK;
}

void aic_optim_destroy(aic_optim_t *o) {
    if (!o)
        return;
    for (int i = 0; i < o->n_slots; i++) {
        o->model->backend->free(o->slot[i]);
        aic_mirror_free(&o->slot_mirror[i]);
    }
    if (o->norm_sums)
        o->model->backend->free(o->norm_sums);
    free(o);
}

/* The CPU kernels of the two rules over floats lo..lo+n of the arenas, with weight decay wd: the
 * loops of layers/optim_rules.h. A NULL arena or state slot they need fails rather than crashes. */
static aic_status sgd_step(aic_optim_t *o, float lr, float wd, size_t lo, size_t n) {
    const float mu = o->cfg.momentum;
    const bool nesterov = o->cfg.nesterov; /* a local, so the loop has no load that a store might alias: vectorized */
    float *p = o->model->param_arena, *g = o->model->grad_arena, *buf = o->slot[0]; /* buf: read only when mu != 0 */
    if (n > 0 && (!p || !g || (mu != 0.0f && !buf)))
        return aic_fail(AIC_ERR_INVALID_ARG, "sgd_step: the parameters, gradients or momentum buffer are NULL");
    p += lo;
    g += lo;
    buf = buf ? buf + lo : NULL;
    for (size_t i = 0; i < n; i++)
        aic_sgd_update(&p[i], g[i], &buf[i], lr, wd, mu, nesterov);
    return AIC_OK;
}

/* Adam's rule over n floats, at the CPU's full vector width (the arrays never overlap). */
AIC_CPU_CLONES static void adam_loop(float *restrict p, const float *restrict g, float *restrict m1,
                                     float *restrict m2, size_t n, const aic_optim_config *c, float lr, float wd,
                                     float step_size, float bc2_sqrt) {
    const float beta1 = c->beta1, beta2 = c->beta2, eps = c->eps;
    const bool decoupled = c->kind == AIC_OPTIM_ADAMW;
    for (size_t i = 0; i < n; i++)
        aic_adam_update(&p[i], g[i], &m1[i], &m2[i], lr, beta1, beta2, eps, wd, decoupled, step_size, bc2_sqrt);
}

static aic_status adam_step(aic_optim_t *o, float lr, float wd, size_t lo, size_t n) {
    const aic_optim_config *c = &o->cfg;
    float *p = o->model->param_arena, *g = o->model->grad_arena, *m1 = o->slot[0], *m2 = o->slot[1];
    if (n > 0 && (!p || !g || !m1 || !m2))
        return aic_fail(AIC_ERR_INVALID_ARG, "adam_step: the parameters, gradients or moments are NULL");
    p += lo;
    g += lo;
    m1 += lo;
    m2 += lo;
    const double t = (double)o->steps;
    const float bc1 = (float)(1.0 - pow(c->beta1, t));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(c->beta2, t));
    adam_loop(p, g, m1, m2, n, c, lr, wd, lr / bc1, bc2_sqrt);
    return AIC_OK;
}

#ifdef AICON_HAVE_CUDA
/* The same updates as sgd_step and adam_step, as kernels over the device arenas. */
static aic_status cuda_step(aic_optim_t *o, float lr, float wd, size_t lo, size_t n) {
    aic_model_t *m = o->model;
    const aic_optim_config *c = &o->cfg;
    float *p = m->param_arena + lo, *g = m->grad_arena + lo;
    if (c->kind == AIC_OPTIM_SGD)
        return aic_cuda_sgd_step(p, g, o->slot[0] ? o->slot[0] + lo : NULL, n, lr, wd, c->momentum, c->nesterov);
    const double t = (double)o->steps;
    return aic_cuda_adam_step(p, g, o->slot[0] + lo, o->slot[1] + lo, n, lr, c->beta1, c->beta2, c->eps, wd,
                              c->kind == AIC_OPTIM_ADAMW, (float)(1.0 - pow(c->beta1, t)),
                              (float)sqrt(1.0 - pow(c->beta2, t)));
}
#endif

/* The update of floats lo..lo+n, all with weight decay wd, on the model's backend. */
static aic_status update(aic_optim_t *o, float lr, float wd, size_t lo, size_t n) {
#ifdef AICON_HAVE_CUDA
    if (o->model->backend->kind == AIC_BACKEND_CUDA)
        return cuda_step(o, lr, wd, lo, n);
#endif
    return o->cfg.kind == AIC_OPTIM_SGD ? sgd_step(o, lr, wd, lo, n) : adam_step(o, lr, wd, lo, n);
}

/* Parameter i's weight decay: none for a vector (a bias, a LayerNorm gain) with decay_matrices_only. */
static float decay_of(const aic_optim_t *o, int i) {
    return o->cfg.decay_matrices_only && o->model->params[i].ndim < 2 ? 0.0f : o->cfg.weight_decay;
}

/* The sum of x[i]^2 in double, in 8 interleaved partial sums added in a fixed order: the same bits on
 * every run and CPU, in a loop that vectorizes (one running sum cannot). */
AIC_CPU_CLONES static double sum_squares(const float *restrict x, size_t n) {
    double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++)
            part[l] += (double)x[i + l] * x[i + l];
    for (; i < n; i++)
        part[i % 8] += (double)x[i] * x[i];
    return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

/* clip_grad_norm_: the norm of the whole gradient arena (squares summed in double: in 8 lanes of arena
 * order on the CPU, in a fixed tree on a GPU), then every gradient times clip / (norm + 1e-6) when that is
 * below 1, in float as torch computes it. */
static aic_status clip_gradients(aic_optim_t *o) {
    aic_model_t *m = o->model;
    const size_t n = m->n_param_floats;
    double sum = 0.0;
#ifdef AICON_HAVE_CUDA
    if (m->backend->kind == AIC_BACKEND_CUDA)
        AIC_TRY(aic_cuda_sum_squares(o->norm_sums, m->grad_arena, n, &sum));
    else
#endif
        sum = sum_squares(m->grad_arena, n);
    o->last_norm = (float)sqrt(sum);
    const float coef = o->cfg.clip_grad_norm / (o->last_norm + 1e-6f);
    if (!(coef < 1.0f))
        return AIC_OK;
#ifdef AICON_HAVE_CUDA
    if (m->backend->kind == AIC_BACKEND_CUDA)
        return aic_cuda_scale(m->grad_arena, n, coef);
#endif
    for (size_t i = 0; i < n; i++)
        m->grad_arena[i] *= coef;
    return AIC_OK;
}

aic_status aic_optim_step(aic_optim_t *o, float lr) {
    if (!o)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_optim_step: optimizer is NULL");
    if (!(lr >= 0.0f) || isinf(lr))
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_optim_step: learning rate %g is not a finite non-negative number",
                        lr);
    aic_model_t *m = o->model;
    o->steps++;
#ifdef AICON_HAVE_CUDA
    if (m->backend->kind == AIC_BACKEND_CUDA) {
        AIC_TRY(aic_model_to_device(m));
        for (int i = 0; i < o->n_slots; i++)
            AIC_TRY(aic_mirror_to_device(m->backend, &o->slot_mirror[i], o->slot[i], m->n_param_floats));
    }
#endif
    if (o->cfg.clip_grad_norm > 0)
        AIC_TRY(clip_gradients(o));
    /* Runs of parameters (contiguous in the arena) that share a weight decay, one update each. */
    for (int i = 0, j; i < m->n_params; i = j) {
        const float wd = decay_of(o, i);
        for (j = i + 1; j < m->n_params && decay_of(o, j) == wd; j++)
            ;
        const size_t lo = m->params[i].offset, hi = j < m->n_params ? m->params[j].offset : m->n_param_floats;
        AIC_TRY(update(o, lr, wd, lo, hi - lo));
    }
    return AIC_OK;
}

float aic_optim_last_grad_norm(const aic_optim_t *o) { return o ? o->last_norm : 0.0f; }
const aic_optim_config *aic_optim_config_of(const aic_optim_t *o) { return o ? &o->cfg : NULL; }
int aic_optim_slot_count(const aic_optim_t *o) { return o ? o->n_slots : 0; }
int64_t aic_optim_steps(const aic_optim_t *o) { return o ? o->steps : 0; }
void aic_optim_set_steps(aic_optim_t *o, int64_t steps) {
    if (o)
        o->steps = steps;
}

aic_status aic_optim_slot(aic_optim_t *o, int i, const char **name, float **data) {
    if (!o || i < 0 || i >= o->n_slots)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_optim_slot: slot %d does not exist", i);
    if (name)
        *name = o->slot_name[i];
    if (data) {
        /* A device model's slot comes back as a host copy, as the model's arenas (core/model.c). */
        *data = aic_mirror_host(o->model->backend, &o->slot_mirror[i], o->slot[i], o->model->n_param_floats);
        if (!*data && o->model->n_param_floats)
            return aic_fail_context(AIC_ERR_NOMEM, "aic_optim_slot '%s': ", o->slot_name[i]);
    }
    return AIC_OK;
}

/* ---- learning-rate schedules ------------------------------------------------------------------ */

float aic_lr_at(const aic_lr_schedule *s, int64_t step) {
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        return s->base_lr * (float)(step + 1) / (float)s->warmup_steps;
    switch (s->kind) {
    case AIC_LR_CONSTANT: break;
    case AIC_LR_STEP:
        if (s->step_size > 0)
            return s->base_lr * powf(s->gamma, (float)((step - s->warmup_steps) / s->step_size));
        break;
    case AIC_LR_COSINE: {
        int64_t span = s->total_steps - s->warmup_steps;
        double t = span > 0 ? (double)(step - s->warmup_steps) / (double)span : 1.0;
        if (t > 1.0)
            t = 1.0;
        return s->min_lr + (s->base_lr - s->min_lr) * (float)(0.5 * (1.0 + cos(AIC_PI * t)));
    }
    }
    return s->base_lr;
}

float aic_lr_scale_for_world(float lr, int world_size) { return lr * (float)(world_size > 0 ? world_size : 1); }
