// SPDX-License-Identifier: Apache-2.0
/* ONNX export: an aicon model's forward pass (inputs to output; a loss only where it is the output)
 * as an ONNX ModelProto, built from protobuf-c structs and packed by onnx__model_proto__pack. Weights
 * are the model's own parameter and buffer arrays, referenced (not copied) by the initializers while
 * packing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aicon/onnx.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/graph.h"
#include "layers/slice.h"
#include "onnx/onnx_internal.h"

#define EXPORT_IR_VERSION 8
#define EXPORT_OPSET 17

/* Everything the ModelProto points to is allocated here and freed in one go. */
typedef struct {
    aic_model_t *m;
    void **ptrs;
    size_t n_ptrs, cap_ptrs;
    Onnx__GraphProto *g;
    size_t cap_node, cap_init;
    bool nomem;
    /* Renamed values: the data input (its consumers read in_feed, the preprocessed input when there
     * is preprocessing) and the output. -1: none. */
    int in_value, out_value;
    const char *in_name, *in_feed, *out_name;
} exporter;

static void *ex_alloc(exporter *e, size_t size) {
    if (e->nomem)
        return NULL;
    if (e->n_ptrs == e->cap_ptrs) {
        size_t cap = e->cap_ptrs ? 2 * e->cap_ptrs : 256;
        void **p = realloc(e->ptrs, cap * sizeof *p);
        if (!p) {
            e->nomem = true;
            return NULL;
        }
        e->ptrs = p;
        e->cap_ptrs = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (!p) {
        e->nomem = true;
        return NULL;
    }
    e->ptrs[e->n_ptrs++] = p;
    return p;
}

static char *ex_str(exporter *e, const char *s) {
    char *p = ex_alloc(e, strlen(s) + 1);
    if (p)
        strcpy(p, s);
    return p;
}

/* Append one pointer to a protobuf repeated field (*arr, *n) of capacity *cap. */
static void ex_push(exporter *e, void ***arr, size_t *n, size_t *cap, void *item) {
    if (e->nomem || !item)
        return;
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        void **p = ex_alloc(e, c * sizeof *p);
        if (!p)
            return;
        if (*n)
            memcpy(p, *arr, *n * sizeof *p);
        *arr = p;
        *cap = c;
    }
    (*arr)[(*n)++] = item;
}

/* The ONNX name of model value v: the name of the op that made it, unless the export renames it. */
static const char *value_name(const exporter *e, int v) {
    if (v == e->in_value)
        return e->in_feed;
    if (v == e->out_value)
        return e->out_name;
    return e->m->ops[e->m->values[v].producer].name;
}

static Onnx__NodeProto *add_node(exporter *e, const char *op_type, const char *name, const char *const *inputs, int n_in,
                                 const char *output) {
    Onnx__NodeProto *n = ex_alloc(e, sizeof *n);
    char **in = ex_alloc(e, (size_t)(n_in ? n_in : 1) * sizeof *in);
    char **out = ex_alloc(e, sizeof *out);
    if (!n || !in || !out)
        return NULL;
    onnx__node_proto__init(n);
    n->op_type = ex_str(e, op_type);
    n->name = ex_str(e, name);
    for (int i = 0; i < n_in; i++)
        in[i] = ex_str(e, inputs[i]);
    n->input = in;
    n->n_input = (size_t)n_in;
    out[0] = ex_str(e, output);
    n->output = out;
    n->n_output = 1;
    ex_push(e, (void ***)&e->g->node, &e->g->n_node, &e->cap_node, n);
    return e->nomem ? NULL : n;
}

static Onnx__AttributeProto *add_attr(exporter *e, Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type) {
    if (!n)
        return NULL;
    Onnx__AttributeProto *a = ex_alloc(e, sizeof *a);
    if (!a)
        return NULL;
    onnx__attribute_proto__init(a);
    a->name = ex_str(e, name);
    a->has_type = 1;
    a->type = type;
    /* node attribute arrays stay small: grow by reallocating from the pool */
    Onnx__AttributeProto **arr = ex_alloc(e, (n->n_attribute + 1) * sizeof *arr);
    if (!arr)
        return NULL;
    if (n->n_attribute)
        memcpy(arr, n->attribute, n->n_attribute * sizeof *arr);
    arr[n->n_attribute++] = a;
    n->attribute = arr;
    return a;
}

static void attr_int(exporter *e, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = add_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) {
        a->has_i = 1;
        a->i = v;
    }
}

static void attr_float(exporter *e, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = add_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) {
        a->has_f = 1;
        a->f = v;
    }
}

static void attr_ints(exporter *e, Onnx__NodeProto *n, const char *name, const int64_t *v, int count) {
    Onnx__AttributeProto *a = add_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *p = ex_alloc(e, (size_t)count * sizeof *p);
    if (a && p) {
        memcpy(p, v, (size_t)count * sizeof *p);
        a->ints = p;
        a->n_ints = (size_t)count;
    }
}

static void attr_string(exporter *e, Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = add_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    char *p = ex_str(e, v);
    if (a && p) {
        a->has_s = 1;
        a->s.data = (uint8_t *)p;
        a->s.len = strlen(p);
    }
}

/* A float initializer over data the model owns (not copied; it must outlive the pack). */
static void add_float_init(exporter *e, const char *name, int ndim, const int64_t *dims, float *data, size_t numel) {
    Onnx__TensorProto *t = ex_alloc(e, sizeof *t);
    int64_t *d = ex_alloc(e, (size_t)(ndim ? ndim : 1) * sizeof *d);
    if (!t || !d)
        return;
    onnx__tensor_proto__init(t);
    t->name = ex_str(e, name);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (ndim > 0) /* a scalar's dims may be NULL: memcpy takes no NULL even for 0 bytes (UBSan) */
        memcpy(d, dims, (size_t)ndim * sizeof *d);
    t->dims = d;
    t->n_dims = (size_t)ndim;
    t->float_data = data;
    t->n_float_data = numel;
    ex_push(e, (void ***)&e->g->initializer, &e->g->n_initializer, &e->cap_init, t);
}

static void add_int64_init(exporter *e, const char *name, const int64_t *v, int count) {
    Onnx__TensorProto *t = ex_alloc(e, sizeof *t);
    int64_t *d = ex_alloc(e, sizeof *d), *data = ex_alloc(e, (size_t)count * sizeof *data);
    if (!t || !d || !data)
        return;
    onnx__tensor_proto__init(t);
    t->name = ex_str(e, name);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    d[0] = count;
    t->dims = d;
    t->n_dims = 1;
    memcpy(data, v, (size_t)count * sizeof *data);
    t->int64_data = data;
    t->n_int64_data = (size_t)count;
    ex_push(e, (void ***)&e->g->initializer, &e->g->n_initializer, &e->cap_init, t);
}

/* The name an initializer is exported under: the ONNX name it was imported from when no other tensor of
 * the export (a parameter, a buffer or an op's output) has or keeps that name; else its aicon name. */
static const char *init_name(const exporter *e, const aic_param_info *self) {
    const aic_model_t *m = e->m;
    const char *s = self->source;
    if (!s[0])
        return self->name;
    for (int k = 0; k < 2; k++) {
        const aic_param_info *ps = k ? m->buffers : m->params;
        int n = k ? m->n_buffers : m->n_params;
        for (int i = 0; i < n; i++)
            if (&ps[i] != self && (strcmp(ps[i].name, s) == 0 || strcmp(ps[i].source, s) == 0))
                return self->name;
    }
    for (int i = 0; i < m->n_ops; i++) {
        size_t len = strlen(m->ops[i].name);
        if (strncmp(s, m->ops[i].name, len) == 0 && (s[len] == '\0' || s[len] == '.'))
            return self->name; /* an op's output, or "<op>.shape" and the like, made from op names */
    }
    return s;
}

/* A parameter's initializer, added once however many nodes read it (a tied weight). */
static const char *param_init(exporter *e, int p) {
    aic_param_info *pi = &e->m->params[p];
    const char *name = init_name(e, pi);
    for (size_t i = 0; i < e->g->n_initializer; i++)
        if (e->g->initializer[i]->name && strcmp(e->g->initializer[i]->name, name) == 0)
            return name;
    add_float_init(e, name, pi->ndim, pi->shape, aic_param_data(e->m, p), pi->numel);
    return name;
}

static const char *buffer_init(exporter *e, int b) {
    aic_param_info *bi = &e->m->buffers[b];
    int64_t n = (int64_t)bi->numel;
    const char *name = init_name(e, bi);
    add_float_init(e, name, 1, &n, aic_buffer_data(e->m, b), bi->numel);
    return name;
}

/* float (int32 for an int input) tensor value info "name" of v's full shape, the batch axis "N"
 * (unknown where it holds a multiple of it); a loss's scalar has rank 0 */
static Onnx__ValueInfoProto *value_info(exporter *e, const char *name, const aic_value_info *v) {
    Onnx__ValueInfoProto *vi = ex_alloc(e, sizeof *vi);
    Onnx__TypeProto *tp = ex_alloc(e, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = ex_alloc(e, sizeof *tt);
    Onnx__TensorShapeProto *sp = ex_alloc(e, sizeof *sp);
    Onnx__TensorShapeProto__Dimension **dims = ex_alloc(e, (size_t)(v->ndim + 1) * sizeof *dims);
    if (!vi || !tp || !tt || !sp || !dims)
        return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sp);
    int64_t full[AIC_MAX_DIMS];
    aic_value_full_shape(v, 1, full);
    for (int i = 0; i <= v->ndim; i++) {
        Onnx__TensorShapeProto__Dimension *d = ex_alloc(e, sizeof *d);
        if (!d)
            return NULL;
        onnx__tensor_shape_proto__dimension__init(d);
        if (i == v->batch_axis && v->outer == 1 && v->fold == 1) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = ex_str(e, "N");
        } else if (i != v->batch_axis) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = full[i];
        }
        dims[i] = d;
    }
    sp->dim = dims;
    sp->n_dim = v->scalar ? 0 : (size_t)v->ndim + 1; /* a loss: one value for the batch */
    tt->has_elem_type = 1;
    tt->elem_type = v->dtype == AIC_I32 ? ONNX__TENSOR_PROTO__DATA_TYPE__INT32 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = ex_str(e, name);
    vi->type = tp;
    return vi;
}

static int pool_floor_out(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

/* The unary ops of layers/unary_ops.def: ONNX type and float attributes. */
static const struct {
    const char *type;
    const char *attr[AIC_UNARY_MAX_ATTRS];
} unary_ops[AIC_UNARY_COUNT] = {
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) [AIC_UNARY_##E] = {onnx, {a0, a1}},
#include "layers/unary_ops.def"
#undef AIC_UNARY
};

/* A float scalar initializer "<op>.<what>" holding v, and its name (NULL when out of memory, which the
 * exporter reports). */
static const char *scalar_init(exporter *e, const aic_op *op, const char *what, float v) {
    char name[AIC_MAX_NAME + 16];
    snprintf(name, sizeof name, "%s.%s", op->name, what);
    float *p = ex_alloc(e, sizeof *p);
    if (!p)
        return NULL;
    *p = v;
    add_float_init(e, name, 0, NULL, p, 1);
    return ex_str(e, name);
}

/* GELU (no ONNX op before opset 20) as the nodes PyTorch writes for it, which compute the floats
 * layers/unary.h computes, in its order: exact Div, Erf, Add, Mul, Mul; tanh form Mul, Mul, Mul, Add,
 * Mul, Tanh, Add, Mul, Mul. Each step: node type, its two inputs (an earlier step's output by number
 * 0..8, the input x as -1, or a scalar initializer), and the last one's output is the op's. */
static void export_gelu(exporter *e, const aic_op *op, const char *x, const char *out) {
    const bool exact = aic_op_unary(op->kind) == AIC_UNARY_GELU;
    const char *sqrt2 = exact ? scalar_init(e, op, "sqrt2", AIC_SQRT2_F) : NULL;
    const char *beta = exact ? NULL : scalar_init(e, op, "beta", AIC_GELU_BETA_F);
    const char *kappa = exact ? NULL : scalar_init(e, op, "kappa", AIC_GELU_KAPPA_F);
    const char *one = scalar_init(e, op, "one", 1.0f), *half = scalar_init(e, op, "half", 0.5f);
    typedef struct { const char *type; int a, b; const char *ca, *cb; } step;
    const step exact_steps[] = {{"Div", -1, 0, NULL, sqrt2}, {"Erf", 0, 0, NULL, NULL}, {"Add", 1, 0, NULL, one},
                                {"Mul", -1, 2, NULL, NULL},  {"Mul", 3, 0, NULL, half}};
    const step tanh_steps[] = {{"Mul", -1, -1, NULL, NULL}, {"Mul", -1, 0, NULL, NULL},  {"Mul", 0, 1, kappa, NULL},
                               {"Add", -1, 2, NULL, NULL},  {"Mul", 0, 3, beta, NULL},   {"Tanh", 4, 0, NULL, NULL},
                               {"Add", 0, 5, one, NULL},    {"Mul", -1, 6, NULL, NULL},  {"Mul", 0, 7, half, NULL}};
    const step *s = exact ? exact_steps : tanh_steps;
    const int n = exact ? 5 : 9;
    char names[9][AIC_MAX_NAME + 16], node[AIC_MAX_NAME + 16];
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "%s.gelu%d", op->name, i);
        snprintf(node, sizeof node, "%s%s", op->name, i == n - 1 ? "" : names[i] + strlen(op->name));
        const char *a = s[i].ca ? s[i].ca : s[i].a < 0 ? x : names[s[i].a];
        const char *b = s[i].cb ? s[i].cb : s[i].b < 0 ? x : names[s[i].b];
        const bool unary = strcmp(s[i].type, "Erf") == 0 || strcmp(s[i].type, "Tanh") == 0;
        add_node(e, s[i].type, node, (const char *[]){a, b}, unary ? 1 : 2, i == n - 1 ? out : names[i]);
    }
}

/* Each op's attributes as node attributes; Pow's exponent as its second input, a scalar initializer. */
static aic_status export_unary(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const aic_unary_kind u = aic_op_unary(op->kind);
    if (u == AIC_UNARY_GELU || u == AIC_UNARY_GELU_TANH) {
        export_gelu(e, op, in[0], out);
        return AIC_OK;
    }
    if (u == AIC_UNARY_NOT) { /* over bools, which aicon holds as floats */
        char b[AIC_MAX_NAME + 16], r[AIC_MAX_NAME + 16];
        snprintf(b, sizeof b, "%s.bool", op->name);
        snprintf(r, sizeof r, "%s.not", op->name);
        attr_int(e, add_node(e, "Cast", b, in, 1, b), "to", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL);
        add_node(e, "Not", r, (const char *[]){b}, 1, r);
        attr_int(e, add_node(e, "Cast", op->name, (const char *[]){r}, 1, out), "to",
                 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
        return AIC_OK;
    }
    if (u == AIC_UNARY_IS_INF || u == AIC_UNARY_IS_NAN) { /* a bool result, cast to the floats aicon holds */
        char r[AIC_MAX_NAME + 16];
        snprintf(r, sizeof r, "%s.bool", op->name);
        Onnx__NodeProto *n = add_node(e, unary_ops[u].type, r, in, 1, r);
        for (int i = 0; n && i < AIC_UNARY_MAX_ATTRS && unary_ops[u].attr[i]; i++)
            attr_int(e, n, unary_ops[u].attr[i], op->attr.unary[i] != 0.0f);
        attr_int(e, add_node(e, "Cast", op->name, (const char *[]){r}, 1, out), "to",
                 ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
        return AIC_OK;
    }
    if (u == AIC_UNARY_POW) {
        const char *ex = scalar_init(e, op, "exponent", op->attr.unary[0]);
        if (ex)
            add_node(e, "Pow", op->name, (const char *[]){in[0], ex}, 2, out);
        return AIC_OK;
    }
    Onnx__NodeProto *n = add_node(e, unary_ops[u].type, op->name, in, 1, out);
    for (int i = 0; n && i < AIC_UNARY_MAX_ATTRS && unary_ops[u].attr[i]; i++)
        attr_float(e, n, unary_ops[u].attr[i], op->attr.unary[i]);
    return AIC_OK;
}

/* One function per op kind writes its nodes (and initializers): in[] are the names of the op's
 * inputs, out the name of its output. A kind without one (inputs, mse) has no ONNX form. */
typedef aic_status (*op_exporter)(exporter *e, const aic_op *op, const char *const *in, const char *out);

static const aic_value_info *in_info(const exporter *e, const aic_op *op) { return &e->m->values[op->in[0]]; }
static const aic_value_info *out_info(const exporter *e, const aic_op *op) { return &e->m->values[op->out]; }

/* Weight and optional bias: the inputs after the activation of Gemm and Conv. */
static int with_params(exporter *e, const aic_op *op, const char *in, const char *ins[3]) {
    ins[0] = in;
    ins[1] = param_init(e, op->param[0]);
    ins[2] = op->param[1] >= 0 ? param_init(e, op->param[1]) : NULL;
    return op->param[1] >= 0 ? 3 : 2;
}

/* Reshape `from`, laid out as value src (-1: as rows of the features), to the op's output shape: the
 * batch axis 0 (copied) where both hold it first alike, else -1 (what the other axes leave over). */
static void reshape_to_out(exporter *e, const aic_op *op, const char *node, int src, const char *from,
                           const char *out) {
    const aic_value_info *y = out_info(e, op), *x = src >= 0 ? &e->m->values[src] : NULL;
    char shape_name[AIC_MAX_NAME + 16];
    snprintf(shape_name, sizeof shape_name, "%s.shape", op->name);
    int64_t shape[AIC_MAX_DIMS];
    aic_value_full_shape(y, 1, shape);
    shape[y->batch_axis] = x && y->batch_axis == 0 && x->batch_axis == 0 && x->outer == 1 && y->outer == 1 && x->fold == y->fold ? 0 : -1;
    add_int64_init(e, shape_name, shape, y->ndim + 1);
    add_node(e, "Reshape", node, (const char *[]){from, shape_name}, 2, out);
}

/* Gemm on N x K; on any other input, MatMul with the weight transposed, then Add of the bias, as
 * torch exports nn.Linear (the importer makes the pair one dense op again). */
static aic_status ex_dense(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const aic_value_info *x = in_info(e, op);
    const char *ins[3];
    if (x->ndim == 1 && x->batch_axis == 0 && x->outer == 1 && x->fold == 1) {
        const int n_in = with_params(e, op, in[0], ins);
        attr_int(e, add_node(e, "Gemm", op->name, ins, n_in, out), "transB", 1);
        return AIC_OK;
    }
    char wt_name[AIC_MAX_NAME + 16], product[AIC_MAX_NAME + 16], node[AIC_MAX_NAME + 16];
    snprintf(wt_name, sizeof wt_name, "%s.weight_t", op->name);
    snprintf(product, sizeof product, "%s.product", op->name);
    snprintf(node, sizeof node, "%s.bias", op->name);
    if (op->attr.dense.tied) { /* the one initializer another node reads too, transposed by a node */
        const char *w = param_init(e, op->param[0]);
        attr_ints(e, add_node(e, "Transpose", wt_name, &w, 1, wt_name), "perm", (const int64_t[]){1, 0}, 2);
    } else {
        const aic_param_info *w = &e->m->params[op->param[0]];
        const int64_t OC = w->shape[0], C = w->shape[1];
        float *wt = ex_alloc(e, (size_t)(OC * C) * sizeof *wt);
        if (!wt)
            return AIC_OK; /* the exporter reports its out-of-memory */
        const float *wd = aic_param_data(e->m, op->param[0]);
        for (int64_t o = 0; o < OC; o++)
            for (int64_t c = 0; c < C; c++)
                wt[c * OC + o] = wd[o * C + c];
        add_float_init(e, wt_name, 2, (const int64_t[]){C, OC}, wt, (size_t)(OC * C));
    }
    const bool bias = op->param[1] >= 0;
    add_node(e, "MatMul", op->name, (const char *[]){in[0], wt_name}, 2, bias ? product : out);
    if (bias)
        add_node(e, "Add", node, (const char *[]){product, param_init(e, op->param[1])}, 2, out);
    return AIC_OK;
}

static aic_status ex_conv(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const aic_conv2d_dims *d = &op->attr.conv;
    const char *ins[3];
    const int n_in = with_params(e, op, in[0], ins);
    Onnx__NodeProto *n = add_node(e, "Conv", op->name, ins, n_in, out);
    attr_ints(e, n, "kernel_shape", (int64_t[]){d->KH, d->KW}, 2);
    attr_ints(e, n, "strides", (int64_t[]){d->SH, d->SW}, 2);
    attr_ints(e, n, "pads", (int64_t[]){d->PH, d->PW, d->PH, d->PW}, 4);
    attr_ints(e, n, "dilations", (int64_t[]){d->DH, d->DW}, 2);
    attr_int(e, n, "group", d->G);
    return AIC_OK;
}

/* The end's padding less output padding is what shapes the output: onnxruntime takes output padding
 * below the stride only, so as little of it as the end's padding leaves. */
static aic_status ex_conv_transpose(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const aic_conv_transpose2d_dims *d = &op->attr.convt.d;
    int64_t end[2], opad[2];
    for (int i = 0; i < 2; i++) {
        const int64_t cut = (int64_t)(i ? d->PW : d->PH) + op->attr.convt.pad_end[i] - op->attr.convt.out_pad[i];
        end[i] = cut > 0 ? cut : 0;
        opad[i] = cut < 0 ? -cut : 0;
    }
    const char *ins[3];
    const int n_in = with_params(e, op, in[0], ins);
    Onnx__NodeProto *n = add_node(e, "ConvTranspose", op->name, ins, n_in, out);
    attr_ints(e, n, "kernel_shape", (int64_t[]){d->KH, d->KW}, 2);
    attr_ints(e, n, "strides", (int64_t[]){d->SH, d->SW}, 2);
    attr_ints(e, n, "pads", (int64_t[]){d->PH, d->PW, end[0], end[1]}, 4);
    attr_ints(e, n, "output_padding", opad, 2);
    attr_ints(e, n, "dilations", (int64_t[]){d->DH, d->DW}, 2);
    attr_int(e, n, "group", d->G);
    return AIC_OK;
}

/* Resize (opset 13 on: roi and scales may be left out). By scales where onnxruntime's output size from
 * them (the float product, truncated) is the op's, and the op's coordinates then use the same scale;
 * else by sizes, the input's N and C (Shape) followed by OH and OW. */
static aic_status ex_resize(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const aic_resize2d_dims *d = &op->attr.resize;
    char scales[AIC_MAX_NAME + 16], nc[AIC_MAX_NAME + 16], hw[AIC_MAX_NAME + 16], sizes[AIC_MAX_NAME + 16];
    snprintf(scales, sizeof scales, "%s.scales", op->name);
    snprintf(nc, sizeof nc, "%s.nc", op->name);
    snprintf(hw, sizeof hw, "%s.hw", op->name);
    snprintf(sizes, sizeof sizes, "%s.sizes", op->name);
    const char *ins[4] = {in[0], "", scales, sizes};
    int n_in = 3;
    if ((int)(d->scale_h * (float)d->H) == d->OH && (int)(d->scale_w * (float)d->W) == d->OW) {
        float *s = ex_alloc(e, 4 * sizeof *s);
        if (!s)
            return AIC_OK; /* the exporter reports its out-of-memory */
        s[0] = s[1] = 1.0f;
        s[2] = d->scale_h;
        s[3] = d->scale_w;
        add_float_init(e, scales, 1, (int64_t[]){4}, s, 4);
    } else {
        Onnx__NodeProto *shape = add_node(e, "Shape", nc, in, 1, nc);
        attr_int(e, shape, "start", 0);
        attr_int(e, shape, "end", 2);
        add_int64_init(e, hw, (int64_t[]){d->OH, d->OW}, 2);
        attr_int(e, add_node(e, "Concat", sizes, (const char *[]){nc, hw}, 2, sizes), "axis", 0);
        ins[2] = "";
        n_in = 4;
    }
    Onnx__NodeProto *n = add_node(e, "Resize", op->name, ins, n_in, out);
    attr_string(e, n, "mode", aic_resize_mode_name(d->mode));
    attr_string(e, n, "coordinate_transformation_mode", aic_resize_coord_name(d->coord));
    if (d->mode == AIC_RESIZE_NEAREST)
        attr_string(e, n, "nearest_mode", aic_resize_nearest_name(d->nearest));
    return AIC_OK;
}

static aic_status ex_pool(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const aic_pool2d_dims *d = &op->attr.pool;
    const aic_value_info *x = in_info(e, op), *y = out_info(e, op);
    const bool is_max = op->kind == AIC_OP_MAXPOOL2D;
    Onnx__NodeProto *n = add_node(e, is_max ? "MaxPool" : "AveragePool", op->name, in, 1, out);
    attr_ints(e, n, "kernel_shape", (int64_t[]){d->KH, d->KW}, 2);
    attr_ints(e, n, "strides", (int64_t[]){d->SH, d->SW}, 2);
    attr_ints(e, n, "pads", (int64_t[]){d->PH, d->PW, d->PH, d->PW}, 4);
    const int fh = pool_floor_out((int)x->shape[1], d->KH, d->SH, d->PH);
    const int fw = pool_floor_out((int)x->shape[2], d->KW, d->SW, d->PW);
    if (y->shape[1] != fh || y->shape[2] != fw)
        attr_int(e, n, "ceil_mode", 1);
    if (!is_max)
        attr_int(e, n, "count_include_pad", d->count_include_pad);
    return AIC_OK;
}

/* A 3-D window op's kernel_shape, strides and pads, the padding on both ends of each axis. */
static void window3d_attrs(exporter *e, Onnx__NodeProto *n, const int k[3], const int s[3], const int p[3]) {
    attr_ints(e, n, "kernel_shape", (int64_t[]){k[0], k[1], k[2]}, 3);
    attr_ints(e, n, "strides", (int64_t[]){s[0], s[1], s[2]}, 3);
    attr_ints(e, n, "pads", (int64_t[]){p[0], p[1], p[2], p[0], p[1], p[2]}, 6);
}

static aic_status ex_conv3d(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const aic_conv3d_dims *d = &op->attr.conv3d;
    const char *ins[3];
    const int n_in = with_params(e, op, in[0], ins);
    Onnx__NodeProto *n = add_node(e, "Conv", op->name, ins, n_in, out);
    window3d_attrs(e, n, d->k, d->s, d->p);
    attr_ints(e, n, "dilations", (int64_t[]){d->dil[0], d->dil[1], d->dil[2]}, 3);
    attr_int(e, n, "group", d->G);
    return AIC_OK;
}

static aic_status ex_pool3d(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const aic_pool3d_dims *d = &op->attr.pool3d;
    const bool is_max = op->kind == AIC_OP_MAXPOOL3D;
    Onnx__NodeProto *n = add_node(e, is_max ? "MaxPool" : "AveragePool", op->name, in, 1, out);
    window3d_attrs(e, n, d->k, d->s, d->p);
    bool ceil = false;
    for (int a = 0; a < 3; a++)
        ceil = ceil || d->out[a] != pool_floor_out(d->in[a], d->k[a], d->s[a], d->p[a]);
    if (ceil)
        attr_int(e, n, "ceil_mode", 1);
    if (!is_max)
        attr_int(e, n, "count_include_pad", d->count_include_pad);
    return AIC_OK;
}

static aic_status ex_global_avgpool(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    if (out_info(e, op)->ndim == in_info(e, op)->ndim) {
        add_node(e, "GlobalAveragePool", op->name, in, 1, out);
        return AIC_OK;
    }
    /* aicon's global pool drops the 1 x 1: GlobalAveragePool, then Reshape to N x C */
    char pooled[AIC_MAX_NAME + 16], node[AIC_MAX_NAME + 16];
    snprintf(pooled, sizeof pooled, "%s.pooled", op->name);
    snprintf(node, sizeof node, "%s.reshape", op->name);
    add_node(e, "GlobalAveragePool", op->name, in, 1, pooled);
    reshape_to_out(e, op, node, op->in[0], pooled, out);
    return AIC_OK;
}

static aic_status ex_dropout(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    add_node(e, "Identity", op->name, in, 1, out); /* inference */
    return AIC_OK;
}

static aic_status ex_batchnorm(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const char *ins[5] = {in[0], param_init(e, op->param[0]), param_init(e, op->param[1]),
                          buffer_init(e, op->buffer[0]), buffer_init(e, op->buffer[1])};
    Onnx__NodeProto *n = add_node(e, "BatchNormalization", op->name, ins, 5, out);
    attr_float(e, n, "epsilon", op->attr.bn.eps);
    attr_float(e, n, "momentum", 1.0f - op->attr.bn.momentum); /* ONNX weighs the running value */
    return AIC_OK;
}

/* LayerNormalization (opset 17) with Scale and B; without the affine part, Scale is ones and B absent. */
static aic_status ex_layernorm(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const char *ins[3] = {in[0], NULL, NULL};
    char scale[AIC_MAX_NAME + 16]; /* ins[1] names it until the node is added */
    int n_in = 3;
    if (op->param[0] >= 0) {
        ins[1] = param_init(e, op->param[0]);
        ins[2] = param_init(e, op->param[1]);
    } else {
        const aic_value_info *x = in_info(e, op);
        const int64_t *rs = x->shape + x->batch_axis;
        const int axis = op->attr.ln.axis, nd = x->ndim - x->batch_axis - (axis - 1);
        size_t cols = 1;
        for (int i = axis - 1; i < x->ndim - x->batch_axis; i++)
            cols *= (size_t)rs[i];
        float *ones = ex_alloc(e, cols * sizeof *ones);
        if (!ones)
            return AIC_OK; /* the exporter reports its out-of-memory */
        for (size_t i = 0; i < cols; i++)
            ones[i] = 1.0f;
        snprintf(scale, sizeof scale, "%s.scale", op->name);
        add_float_init(e, scale, nd, rs + (axis - 1), ones, cols);
        ins[1] = scale;
        n_in = 2;
    }
    Onnx__NodeProto *n = add_node(e, "LayerNormalization", op->name, ins, n_in, out);
    attr_int(e, n, "axis", op->attr.ln.axis + in_info(e, op)->batch_axis); /* on the rows: see aic_op_row_axis */
    attr_float(e, n, "epsilon", op->attr.ln.eps);
    return AIC_OK;
}

/* Reduce*: the axes an attribute (opset 17), ReduceSum's an int64 input (opset 13 on). */
static aic_status ex_reduce(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    static const char *const types[AIC_REDUCE_COUNT] = {
#define AIC_REDUCE(E, name, onnx) [AIC_REDUCE_##E] = onnx,
#include "layers/reduce_ops.def"
#undef AIC_REDUCE
    };
    int64_t axes[AIC_MAX_DIMS];
    int n_axes = 0;
    for (int a = 1; a < AIC_MAX_DIMS; a++)
        if (op->attr.reduce.mask & 1u << a)
            axes[n_axes++] = a;
    const char *type = types[op->attr.reduce.kind];
    Onnx__NodeProto *n;
    if (op->attr.reduce.kind == AIC_REDUCE_SUM) {
        char name[AIC_MAX_NAME + 16];
        snprintf(name, sizeof name, "%s.axes", op->name);
        add_int64_init(e, name, axes, n_axes);
        n = add_node(e, type, op->name, (const char *[]){in[0], name}, 2, out);
    } else {
        n = add_node(e, type, op->name, in, 1, out);
        attr_ints(e, n, "axes", axes, n_axes);
    }
    attr_int(e, n, "keepdims", op->attr.reduce.keepdims ? 1 : 0);
    return AIC_OK;
}

static aic_status ex_reshape(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    reshape_to_out(e, op, op->name, op->in[0], in[0], out);
    return AIC_OK;
}

static aic_status ex_add(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    add_node(e, "Add", op->name, in, 2, out);
    return AIC_OK;
}

static aic_status ex_concat(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    attr_int(e, add_node(e, "Concat", op->name, in, op->n_in, out), "axis", op->attr.axis);
    return AIC_OK;
}

static aic_status ex_transpose(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const int rank = in_info(e, op)->ndim + 1;
    int64_t perm[AIC_MAX_DIMS];
    for (int i = 0; i < rank; i++)
        perm[i] = op->attr.perm[i];
    attr_ints(e, add_node(e, "Transpose", op->name, in, 1, out), "perm", perm, rank);
    return AIC_OK;
}

static aic_status ex_softmax(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const char *type = op->kind == AIC_OP_SOFTMAX ? "Softmax" : "LogSoftmax";
    attr_int(e, add_node(e, type, op->name, in, 1, out), "axis", op->attr.axis + in_info(e, op)->batch_axis);
    return AIC_OK;
}

/* Hardmax; ArgMax or ArgMin, whose int64 indices a Cast turns into int32, the type of every int value
 * aicon exports (its int inputs among them). */
static aic_status ex_argmax(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const int axis = op->attr.argmax.axis + in_info(e, op)->batch_axis;
    if (op->kind == AIC_OP_HARDMAX) {
        attr_int(e, add_node(e, "Hardmax", op->name, in, 1, out), "axis", axis);
        return AIC_OK;
    }
    char i64[AIC_MAX_NAME + 16], cast[AIC_MAX_NAME + 16];
    snprintf(i64, sizeof i64, "%s.int64", op->name);
    snprintf(cast, sizeof cast, "%s.cast", op->name);
    Onnx__NodeProto *n = add_node(e, op->attr.argmax.min ? "ArgMin" : "ArgMax", op->name, in, 1, i64);
    attr_int(e, n, "axis", axis);
    attr_int(e, n, "keepdims", op->attr.argmax.keepdims);
    attr_int(e, n, "select_last_index", op->attr.argmax.last);
    attr_int(e, add_node(e, "Cast", cast, (const char *[]){i64}, 1, out), "to", ONNX__TENSOR_PROTO__DATA_TYPE__INT32);
    return AIC_OK;
}

static aic_status ex_clip(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    /* opset >= 11: the bounds are inputs (scalar initializers) */
    const char *lo = scalar_init(e, op, "min", op->attr.clip.lo), *hi = scalar_init(e, op, "max", op->attr.clip.hi);
    if (lo && hi)
        add_node(e, "Clip", op->name, (const char *[]){in[0], lo, hi}, 3, out);
    return AIC_OK;
}

/* Two activations of unequal per-sample rank (binary, matmul): aicon aligns them after the batch, ONNX
 * from the left, so the lower one gets 1s between its batch and its own dimensions: a Reshape into
 * lifted, which then replaces its name in ins. */
static void lift_lower_rank(exporter *e, const aic_op *op, const char *const *in, const char *ins[2],
                            char lifted[AIC_MAX_NAME + 16]) {
    const int low = e->m->values[op->in[0]].ndim < e->m->values[op->in[1]].ndim ? 0 : 1;
    const aic_value_info *lo = &e->m->values[op->in[low]], *hi = &e->m->values[op->in[1 - low]];
    char shape_name[AIC_MAX_NAME + 16], node[AIC_MAX_NAME + 16];
    snprintf(lifted, AIC_MAX_NAME + 16, "%s.in%d", op->name, low);
    snprintf(shape_name, sizeof shape_name, "%s.in%d.shape", op->name, low);
    snprintf(node, sizeof node, "%s.reshape%d", op->name, low);
    int64_t shape[AIC_MAX_DIMS + 1] = {0}; /* 0: the batch, copied */
    for (int i = 0; i < hi->ndim; i++)
        shape[i + 1] = i < hi->ndim - lo->ndim ? 1 : lo->shape[i - (hi->ndim - lo->ndim)];
    add_int64_init(e, shape_name, shape, hi->ndim + 1);
    add_node(e, "Reshape", node, (const char *[]){in[low], shape_name}, 2, lifted);
    ins[low] = lifted;
}

/* Mod of a by b with fmod 1, and for Python's % (fmod 0, which ONNX reserves for integers: onnxruntime
 * refuses it on floats) that moved to b's sign: r + b [sign(r) b < 0], the kernel's floats (a zero's
 * sign and an infinite b aside). */
static void export_mod(exporter *e, const aic_op *op, const char *const ins[2], const char *out) {
    const bool fmod = op->attr.binary.kind == AIC_BINOP_FMOD;
    char r[AIC_MAX_NAME + 16], sr[AIC_MAX_NAME + 16], srb[AIC_MAX_NAME + 16], neg[AIC_MAX_NAME + 16],
        negf[AIC_MAX_NAME + 16], shift[AIC_MAX_NAME + 16];
    snprintf(r, sizeof r, "%s.fmod", op->name);
    attr_int(e, add_node(e, "Mod", fmod ? op->name : r, ins, 2, fmod ? out : r), "fmod", 1);
    if (fmod)
        return;
    const char *zero = scalar_init(e, op, "zero", 0.0f);
    snprintf(sr, sizeof sr, "%s.sign", op->name);
    snprintf(srb, sizeof srb, "%s.sign_b", op->name);
    snprintf(neg, sizeof neg, "%s.flip", op->name);
    snprintf(negf, sizeof negf, "%s.flip_f", op->name);
    snprintf(shift, sizeof shift, "%s.shift", op->name);
    add_node(e, "Sign", sr, (const char *[]){r}, 1, sr);
    add_node(e, "Mul", srb, (const char *[]){sr, ins[1]}, 2, srb);
    if (zero)
        add_node(e, "Less", neg, (const char *[]){srb, zero}, 2, neg);
    attr_int(e, add_node(e, "Cast", negf, (const char *[]){neg}, 1, negf), "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    add_node(e, "Mul", shift, (const char *[]){ins[1], negf}, 2, shift);
    add_node(e, "Add", op->name, (const char *[]){r, shift}, 2, out);
}

static aic_status ex_binary(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    /* ONNX broadcasts numpy-style too: a constant keeps its right-aligned shape */
    static const char *const types[] = {"Add",  "Sub",     "Mul",         "Div",            "Pow",
                                        "Max",  "Min",     "Equal",       "Less",           "Greater",
                                        "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"};
    const char *ins[2] = {in[0], in[1]};
    char lifted[AIC_MAX_NAME + 16];
    if (op->buffer[0] < 0 && e->m->values[op->in[0]].ndim != e->m->values[op->in[1]].ndim)
        lift_lower_rank(e, op, in, ins, lifted);
    if (op->buffer[0] >= 0) {
        const aic_param_info *bi = &e->m->buffers[op->buffer[0]];
        add_float_init(e, bi->name, op->attr.binary.cndim, op->attr.binary.cshape,
                       aic_buffer_data(e->m, op->buffer[0]), bi->numel);
        ins[0] = op->attr.binary.const_left ? bi->name : in[0];
        ins[1] = op->attr.binary.const_left ? in[0] : bi->name;
    }
    const int k = op->attr.binary.kind;
    if (k == AIC_BINOP_MOD || k == AIC_BINOP_FMOD) {
        export_mod(e, op, ins, out);
        return AIC_OK;
    }
    if (k < AIC_BINOP_EQUAL) {
        add_node(e, types[k], op->name, ins, 2, out);
        return AIC_OK;
    }
    /* aicon holds bools as floats 0 and 1: the logic ops' inputs cast to bool first, every result back */
    char cast_in[2][AIC_MAX_NAME + 16], result[AIC_MAX_NAME + 16];
    for (int i = 0; i < 2 && k >= AIC_BINOP_AND; i++) {
        snprintf(cast_in[i], sizeof cast_in[i], "%s.bool%d", op->name, i);
        attr_int(e, add_node(e, "Cast", cast_in[i], (const char *[]){ins[i]}, 1, cast_in[i]), "to",
                 ONNX__TENSOR_PROTO__DATA_TYPE__BOOL);
        ins[i] = cast_in[i];
    }
    snprintf(result, sizeof result, "%s.bool", op->name);
    add_node(e, types[k], result, ins, 2, result);
    attr_int(e, add_node(e, "Cast", op->name, (const char *[]){result}, 1, out), "to",
             ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    return AIC_OK;
}

/* MatMul broadcasts the leading dims as aic_matmul does once the ranks agree. */
static aic_status ex_matmul(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const char *ins[2] = {in[0], in[1]};
    char lifted[AIC_MAX_NAME + 16];
    if (e->m->values[op->in[0]].ndim != e->m->values[op->in[1]].ndim)
        lift_lower_rank(e, op, in, ins, lifted);
    add_node(e, "MatMul", op->name, ins, 2, out);
    return AIC_OK;
}

/* ONNX has no attention op below opset 23: its decomposition, as PyTorch exports a GPT block's, with
 * the causal mask a T x S initializer of 0 and -inf added before the Softmax (the importer makes the
 * pieces matmul, scale, mask and softmax again; they agree with the fused op to rounding). */
static aic_status ex_attention(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const aic_value_info *q = in_info(e, op);
    const int rank = q->ndim + 1;
    const int64_t T = q->shape[q->ndim - 2], S = e->m->values[op->in[1]].shape[q->ndim - 2];
    char kt[AIC_MAX_NAME + 16], scores[AIC_MAX_NAME + 16], scaled[AIC_MAX_NAME + 16], masked[AIC_MAX_NAME + 16],
        probs[AIC_MAX_NAME + 16], scale[AIC_MAX_NAME + 16], mask[AIC_MAX_NAME + 16], node[AIC_MAX_NAME + 16];
    snprintf(kt, sizeof kt, "%s.k_t", op->name);
    snprintf(scores, sizeof scores, "%s.scores", op->name);
    snprintf(scaled, sizeof scaled, "%s.scaled", op->name);
    snprintf(masked, sizeof masked, "%s.masked", op->name);
    snprintf(probs, sizeof probs, "%s.probs", op->name);
    snprintf(scale, sizeof scale, "%s.scale", op->name);
    snprintf(mask, sizeof mask, "%s.mask", op->name);
    int64_t perm[AIC_MAX_DIMS];
    for (int i = 0; i < rank; i++)
        perm[i] = i;
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    snprintf(node, sizeof node, "%s.transpose", op->name);
    attr_ints(e, add_node(e, "Transpose", node, &in[1], 1, kt), "perm", perm, rank);
    snprintf(node, sizeof node, "%s.qk", op->name);
    add_node(e, "MatMul", node, (const char *[]){in[0], kt}, 2, scores);
    float *c = ex_alloc(e, (1 + (op->attr.attn.causal ? (size_t)(T * S) : 0)) * sizeof *c);
    if (!c)
        return AIC_OK; /* the exporter reports its out-of-memory */
    c[0] = op->attr.attn.scale;
    add_float_init(e, scale, 0, NULL, c, 1);
    snprintf(node, sizeof node, "%s.mul", op->name);
    add_node(e, "Mul", node, (const char *[]){scores, scale}, 2, scaled);
    if (op->attr.attn.causal) {
        for (int64_t i = 0; i < T; i++)
            for (int64_t j = 0; j < S; j++)
                c[1 + i * S + j] = j > i + S - T ? -INFINITY : 0.0f;
        add_float_init(e, mask, 2, (const int64_t[]){T, S}, c + 1, (size_t)(T * S));
        snprintf(node, sizeof node, "%s.add", op->name);
        add_node(e, "Add", node, (const char *[]){scaled, mask}, 2, masked);
    }
    snprintf(node, sizeof node, "%s.softmax", op->name);
    attr_int(e, add_node(e, "Softmax", node, (const char *[]){op->attr.attn.causal ? masked : scaled}, 1, probs),
             "axis", rank - 1);
    add_node(e, "MatMul", op->name, (const char *[]){probs, in[2]}, 2, out);
    return AIC_OK;
}

/* An int64 initializer "<op>.<what>" for an input of a node. */
static const char *ints_init(exporter *e, const aic_op *op, const char *what, const int64_t *v, int count) {
    char name[AIC_MAX_NAME + 16];
    snprintf(name, sizeof name, "%s.%s", op->name, what);
    add_int64_init(e, name, v, count);
    return ex_str(e, name);
}

/* Slice (opset 13): starts, ends, axes and steps as inputs over every axis behind the batch axis. An end of -1
 * (a backward walk down to position 0) would count from the axis's end: INT64_MIN says it. */
static aic_status ex_slice(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const int nd = op->attr.slice.ndim;
    int64_t ends[AIC_MAX_DIMS], axes[AIC_MAX_DIMS];
    for (int a = 0; a < nd; a++) {
        ends[a] = op->attr.slice.end[a] < 0 ? INT64_MIN : op->attr.slice.end[a];
        axes[a] = a + 1 + in_info(e, op)->batch_axis; /* the attributes are over the axes behind the batch */
    }
    const char *ins[5] = {in[0], ints_init(e, op, "starts", op->attr.slice.start, nd), ints_init(e, op, "ends", ends, nd),
                          ints_init(e, op, "axes", axes, nd), ints_init(e, op, "steps", op->attr.slice.step, nd)};
    add_node(e, "Slice", op->name, ins, 5, out);
    return AIC_OK;
}

/* Pad (opset 11): pads as an input over the full shape (begins, then ends; the batch's 0), the
 * constant mode's value as a scalar input. */
static aic_status ex_pad(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const int nd = op->attr.pad.ndim;
    int64_t pads[2 * AIC_MAX_DIMS] = {0};
    for (int a = 0; a < nd; a++) {
        pads[1 + a] = op->attr.pad.begin[a];
        pads[nd + 2 + a] = op->attr.pad.end[a];
    }
    const char *ins[3] = {in[0], ints_init(e, op, "pads", pads, 2 * (nd + 1)), NULL};
    if (op->attr.pad.mode == AIC_PAD_CONSTANT && !(ins[2] = scalar_init(e, op, "value", op->attr.pad.value)))
        return AIC_OK; /* the exporter reports its out-of-memory */
    attr_string(e, add_node(e, "Pad", op->name, ins, ins[2] ? 3 : 2, out), "mode", aic_pad_mode_name(op->attr.pad.mode));
    return AIC_OK;
}

/* embedding: Gather of its table, an initializer, at the ids (axis 0). */
static aic_status ex_embedding(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    add_node(e, "Gather", op->name, (const char *[]){param_init(e, op->param[0]), in[0]}, 2, out);
    return AIC_OK;
}

/* gather: Gather at an int64 initializer of the indices, a scalar where the axis is dropped. */
/* The input an expand takes the batch size from (its first axis): the data input the export names (a
 * language model's int tokens), else the model's first float input; -1 when there is none. */
static int batch_input(const exporter *e) {
    if (e->in_value >= 0)
        return e->in_value;
    const aic_model_t *m = e->m;
    for (int v = 0; v < m->n_values; v++)
        if (m->ops[m->values[v].producer].kind == AIC_OP_INPUT && m->values[v].dtype == AIC_F32)
            return v;
    return -1;
}

/* CumSum (opset 11), the axis an int64 initializer counted with the batch. */
static aic_status ex_cumsum(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    char axis[AIC_MAX_NAME + 16];
    snprintf(axis, sizeof axis, "%s.axis", op->name);
    add_int64_init(e, axis, (const int64_t[]){op->attr.cumsum.axis}, 1);
    Onnx__NodeProto *n = add_node(e, "CumSum", op->name, (const char *[]){in[0], axis}, 2, out);
    attr_int(e, n, "exclusive", op->attr.cumsum.exclusive);
    attr_int(e, n, "reverse", op->attr.cumsum.reverse);
    return AIC_OK;
}

/* Expand of the parameter to [N, its shape], N from the first input's Shape. */
static aic_status ex_expand(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const int x = batch_input(e);
    if (x < 0)
        return aic_fail(AIC_ERR_UNSUPPORTED, "ONNX export: expand op '%s' needs a float input (or a named data "
                        "input) to take the batch size from", op->name);
    const aic_value_info *y = out_info(e, op);
    char batch[AIC_MAX_NAME + 16], shape[AIC_MAX_NAME + 16];
    snprintf(batch, sizeof batch, "%s.batch", op->name);
    snprintf(shape, sizeof shape, "%s.shape", op->name);
    Onnx__NodeProto *n = add_node(e, "Shape", batch, (const char *[]){value_name(e, x)}, 1, batch);
    attr_int(e, n, "start", 0);
    attr_int(e, n, "end", 1);
    const char *dims = ints_init(e, op, "dims", y->shape, y->ndim);
    attr_int(e, add_node(e, "Concat", shape, (const char *[]){batch, dims}, 2, shape), "axis", 0);
    add_node(e, "Expand", op->name, (const char *[]){param_init(e, op->param[0]), shape}, 2, out);
    return AIC_OK;
}

static aic_status ex_gather(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    char name[AIC_MAX_NAME + 16];
    int64_t idx[AIC_GATHER_MAX_INDICES];
    snprintf(name, sizeof name, "%s.indices", op->name);
    for (int k = 0; k < op->attr.gather.n; k++)
        idx[k] = op->attr.gather.idx[k];
    add_int64_init(e, name, idx, op->attr.gather.n);
    if (op->attr.gather.scalar && !e->nomem)
        e->g->initializer[e->g->n_initializer - 1]->n_dims = 0; /* the one index as a scalar */
    attr_int(e, add_node(e, "Gather", op->name, (const char *[]){in[0], name}, 2, out), "axis",
             op->attr.gather.axis);
    return AIC_OK;
}

/* softmax_xent, nll: SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss (the reduction, ignore_index
 * when set, the class weights as an initializer). ONNX has the classes on axis 1: scores with them
 * elsewhere are transposed there first. */
static aic_status ex_class_loss(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const int axis = op->attr.loss.axis, rank = in_info(e, op)->ndim + 1;
    const char *ins[3] = {in[0], in[1], op->buffer[0] >= 0 ? buffer_init(e, op->buffer[0]) : NULL};
    char moved[AIC_MAX_NAME + 16], node[AIC_MAX_NAME + 16];
    if (axis != 1) {
        int64_t perm[AIC_MAX_DIMS] = {0, axis};
        for (int i = 1, k = 2; i < rank; i++)
            if (i != axis)
                perm[k++] = i;
        snprintf(moved, sizeof moved, "%s.classes_first", op->name);
        snprintf(node, sizeof node, "%s.transpose", op->name);
        attr_ints(e, add_node(e, "Transpose", node, in, 1, moved), "perm", perm, rank);
        ins[0] = moved;
    }
    const char *type = op->kind == AIC_OP_NLL ? "NegativeLogLikelihoodLoss" : "SoftmaxCrossEntropyLoss";
    Onnx__NodeProto *n = add_node(e, type, op->name, ins, ins[2] ? 3 : 2, out);
    attr_string(e, n, "reduction", aic_xent_reduction_name((int)op->attr.loss.reduction));
    if (op->attr.loss.has_ignore)
        attr_int(e, n, "ignore_index", op->attr.loss.ignore_index);
    return AIC_OK;
}

/* LSTM, GRU in ONNX's layout 0 (sequence first, as onnxruntime takes them): x transposed to T x N x I,
 * Y (T x dirs x N x H) transposed to N x T x dirs x H and reshaped to the op's N x T x (dirs H). */
static aic_status ex_rnn(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    char x_t[AIC_MAX_NAME + 16], y[AIC_MAX_NAME + 16], y_t[AIC_MAX_NAME + 16], node[AIC_MAX_NAME + 16];
    snprintf(x_t, sizeof x_t, "%s.x_tni", op->name);
    snprintf(y, sizeof y, "%s.y_tdnh", op->name);
    snprintf(y_t, sizeof y_t, "%s.y_ntdh", op->name);
    snprintf(node, sizeof node, "%s.in", op->name);
    attr_ints(e, add_node(e, "Transpose", node, in, 1, x_t), "perm", (const int64_t[]){1, 0, 2}, 3);
    const bool lstm = op->kind == AIC_OP_LSTM;
    const char *ins[4] = {x_t, param_init(e, op->param[0]), param_init(e, op->param[1]),
                          param_init(e, op->param[2])};
    Onnx__NodeProto *n = add_node(e, lstm ? "LSTM" : "GRU", op->name, ins, 4, y);
    attr_int(e, n, "hidden_size", op->attr.rnn.hidden);
    if (op->attr.rnn.dirs == 2)
        attr_string(e, n, "direction", "bidirectional");
    if (!lstm)
        attr_int(e, n, "linear_before_reset", op->attr.rnn.linear_before_reset ? 1 : 0);
    snprintf(node, sizeof node, "%s.out", op->name);
    attr_ints(e, add_node(e, "Transpose", node, (const char *[]){y}, 1, y_t), "perm", (const int64_t[]){2, 0, 1, 3},
              4);
    snprintf(node, sizeof node, "%s.reshape", op->name);
    reshape_to_out(e, op, node, op->in[0], y_t, out);
    return AIC_OK;
}

/* gather_elements, scatter_elements: GatherElements, ScatterElements (its reduction from opset 16). */
static aic_status ex_elements(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    const bool scatter = op->kind == AIC_OP_SCATTER_ELEMENTS;
    Onnx__NodeProto *n = add_node(e, scatter ? "ScatterElements" : "GatherElements", op->name, in, scatter ? 3 : 2,
                                  out);
    attr_int(e, n, "axis", op->attr.elements.axis);
    if (scatter && op->attr.elements.reduction != AIC_SCATTER_NONE)
        attr_string(e, n, "reduction", aic_scatter_names[op->attr.elements.reduction]);
    return AIC_OK;
}

/* one_hot: OneHot with a float depth (onnxruntime takes int32 and float indices with it) and values
 * [off, on]. */
static aic_status ex_one_hot(exporter *e, const aic_op *op, const char *const *in, const char *out) {
    char values[AIC_MAX_NAME + 16];
    snprintf(values, sizeof values, "%s.values", op->name);
    float *v = ex_alloc(e, 2 * sizeof *v);
    if (!v)
        return AIC_OK; /* the exporter reports it */
    v[0] = op->attr.one_hot.off;
    v[1] = op->attr.one_hot.on;
    add_float_init(e, values, 1, (const int64_t[]){2}, v, 2);
    const char *ins[3] = {in[0], scalar_init(e, op, "depth", (float)op->attr.one_hot.depth), ex_str(e, values)};
    attr_int(e, add_node(e, "OneHot", op->name, ins, 3, out), "axis", op->attr.one_hot.axis);
    return AIC_OK;
}

static const op_exporter exporters[AIC_OP_KIND_COUNT] = {
    [AIC_OP_DENSE] = ex_dense,
    [AIC_OP_CONV2D] = ex_conv,
    [AIC_OP_MAXPOOL2D] = ex_pool,
    [AIC_OP_AVGPOOL2D] = ex_pool,
    [AIC_OP_CONV3D] = ex_conv3d,
    [AIC_OP_MAXPOOL3D] = ex_pool3d,
    [AIC_OP_AVGPOOL3D] = ex_pool3d,
    [AIC_OP_GLOBAL_AVGPOOL] = ex_global_avgpool,
    [AIC_OP_BATCHNORM] = ex_batchnorm,
    [AIC_OP_DROPOUT] = ex_dropout,
    [AIC_OP_RESHAPE] = ex_reshape,
    [AIC_OP_ADD] = ex_add,
    [AIC_OP_CONCAT] = ex_concat,
    [AIC_OP_SOFTMAX] = ex_softmax,
    [AIC_OP_LOG_SOFTMAX] = ex_softmax,
    [AIC_OP_CLIP] = ex_clip,
    [AIC_OP_BINARY] = ex_binary,
    [AIC_OP_TRANSPOSE] = ex_transpose,
    [AIC_OP_LAYERNORM] = ex_layernorm,
    [AIC_OP_REDUCE] = ex_reduce,
    [AIC_OP_MATMUL] = ex_matmul,
    [AIC_OP_ATTENTION] = ex_attention,
    [AIC_OP_EXPAND] = ex_expand,
    [AIC_OP_SLICE] = ex_slice,
    [AIC_OP_PAD] = ex_pad,
    [AIC_OP_SOFTMAX_XENT] = ex_class_loss,
    [AIC_OP_NLL] = ex_class_loss,
    [AIC_OP_EMBEDDING] = ex_embedding,
    [AIC_OP_GATHER] = ex_gather,
    [AIC_OP_LSTM] = ex_rnn,
    [AIC_OP_GRU] = ex_rnn,
    [AIC_OP_CONV_TRANSPOSE2D] = ex_conv_transpose,
    [AIC_OP_RESIZE2D] = ex_resize,
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) [AIC_OP_##E] = export_unary,
#include "layers/unary_ops.def"
#undef AIC_UNARY
    [AIC_OP_CUMSUM] = ex_cumsum,
    [AIC_OP_ARGMAX] = ex_argmax,
    [AIC_OP_HARDMAX] = ex_argmax,
    [AIC_OP_GATHER_ELEMENTS] = ex_elements,
    [AIC_OP_SCATTER_ELEMENTS] = ex_elements,
    [AIC_OP_ONE_HOT] = ex_one_hot,
};

/* The nodes (and initializers) of one op. */
static aic_status export_op(exporter *e, const aic_op *op) {
    if (!exporters[op->kind])
        return aic_fail(AIC_ERR_UNSUPPORTED, "ONNX export: op '%s' of kind %s has no ONNX export", op->name,
                        aic_op_name(op->kind));
    const char *in[AIC_MAX_OP_INPUTS] = {0};
    for (int i = 0; i < op->n_in; i++)
        in[i] = value_name(e, op->in[i]);
    AIC_TRY(exporters[op->kind](e, op, in, value_name(e, op->out)));
    if (e->nomem)
        return aic_fail(AIC_ERR_NOMEM, "ONNX export: out of memory at op '%s'", op->name);
    return AIC_OK;
}

#define PREPROCESS "aicon.preprocess."

/* The standardization as the graph's first nodes: x - mean, then / std, by scalar initializers. */
static void export_preprocess(exporter *e, const aic_preprocess *p) {
    float *c = ex_alloc(e, 2 * sizeof *c);
    if (!c)
        return;
    c[0] = (float)p->mean;
    c[1] = (float)p->std;
    add_float_init(e, PREPROCESS "mean", 0, NULL, &c[0], 1);
    add_float_init(e, PREPROCESS "std", 0, NULL, &c[1], 1);
    add_node(e, "Sub", PREPROCESS "sub", (const char *[]){e->in_name, PREPROCESS "mean"}, 2,
             PREPROCESS "centered");
    add_node(e, "Div", PREPROCESS "div", (const char *[]){PREPROCESS "centered", PREPROCESS "std"}, 2,
             PREPROCESS "standardized");
    e->in_feed = PREPROCESS "standardized";
}

typedef struct {
    Onnx__StringStringEntryProto **items;
    size_t n, cap;
} metadata;

static void add_metadata(exporter *e, metadata *md, const char *key, const char *value) {
    Onnx__StringStringEntryProto *kv = ex_alloc(e, sizeof *kv);
    if (!kv)
        return;
    onnx__string_string_entry_proto__init(kv);
    kv->key = ex_str(e, key);
    kv->value = ex_str(e, value);
    ex_push(e, (void ***)&md->items, &md->n, &md->cap, kv);
}

/* The op of m other than `self` whose name is `name` (every exported tensor is named after an op), or
 * NULL: a renamed input or output must not take another tensor's name. */
static const aic_op *op_named(const aic_model_t *m, const char *name, int self) {
    for (int i = 0; i < m->n_ops; i++)
        if (i != self && strcmp(m->ops[i].name, name) == 0)
            return &m->ops[i];
    return NULL;
}

/* Checks o against m and sets e's renamed values. */
static aic_status export_names(exporter *e, const aic_onnx_export_options *o) {
    const aic_model_t *m = e->m;
    e->in_value = e->out_value = -1;
    if (!o)
        return AIC_OK;
    const bool pre = o->preprocess.kind == AIC_PREPROCESS_STANDARDIZE;
    if (o->input_name || pre) {
        /* an int input (a language model's tokens) is an AIC_OP_LABELS op, as labels are */
        const int op = o->input >= 0 && o->input < m->n_values ? m->values[o->input].producer : -1;
        if (op < 0 || (m->ops[op].kind != AIC_OP_INPUT && m->ops[op].kind != AIC_OP_LABELS))
            return aic_fail(AIC_ERR_INVALID_ARG, "ONNX export of '%s': value %d is not one of the model's inputs",
                            m->name, o->input);
        if (pre && m->values[o->input].dtype != AIC_F32)
            return aic_fail(AIC_ERR_INVALID_ARG, "ONNX export of '%s': input '%s' holds integers, which are not "
                            "standardized", m->name, m->ops[op].name);
        e->in_value = o->input;
        e->in_name = e->in_feed = o->input_name ? o->input_name : m->ops[op].name;
        const aic_op *other = op_named(m, e->in_name, op);
        if (other)
            return aic_fail(AIC_ERR_INVALID_ARG, "ONNX export of '%s': input name '%s' is also the name of op '%s'",
                            m->name, e->in_name, other->name);
        if (pre && !(isfinite(o->preprocess.mean) && isfinite(o->preprocess.std) && o->preprocess.std > 0))
            return aic_fail(AIC_ERR_INVALID_ARG, "ONNX export of '%s': cannot standardize with mean %g and std %g",
                            m->name, o->preprocess.mean, o->preprocess.std);
    }
    if (o->output_name) {
        const int op = m->values[m->output_value].producer;
        const aic_op *other = op_named(m, o->output_name, op);
        if (other || (e->in_name && strcmp(e->in_name, o->output_name) == 0))
            return aic_fail(AIC_ERR_INVALID_ARG, "ONNX export of '%s': output name '%s' is also the name of %s '%s'",
                            m->name, o->output_name, other ? "op" : "the input", other ? other->name : e->in_name);
        e->out_value = m->output_value;
        e->out_name = o->output_name;
    }
    return AIC_OK;
}

aic_status aic_onnx_export(aic_model_t *m, const char *path) { return aic_onnx_export_with(m, path, NULL); }

aic_status aic_onnx_export_with(aic_model_t *m, const char *path, const aic_onnx_export_options *o) {
    if (!m || !path)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_export: NULL model or path");
    if (!m->compiled)
        return aic_fail(AIC_ERR_STATE, "aic_onnx_export: model '%s' is not compiled", m->name);
    if (m->output_value < 0)
        return aic_fail(AIC_ERR_STATE, "aic_onnx_export: model '%s' has no output", m->name);
    exporter e = {.m = m};
    AIC_TRY(export_names(&e, o));
    const aic_preprocess pre = o ? o->preprocess : (aic_preprocess){.kind = AIC_PREPROCESS_UNKNOWN};
    aic_status st = AIC_OK;
    bool *needed = calloc((size_t)m->n_ops + 1, sizeof *needed);
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    metadata md = {0};
    char num[32];
    uint8_t *buf = NULL;
    if (!needed) {
        st = aic_fail(AIC_ERR_NOMEM, "aic_onnx_export: out of memory");
        goto done;
    }
    onnx__model_proto__init(&model);
    onnx__graph_proto__init(&graph);
    onnx__operator_set_id_proto__init(&opset);
    e.g = &graph;
    opset.domain = "";
    opset.has_version = 1;
    opset.version = EXPORT_OPSET;
    model.has_ir_version = 1;
    model.ir_version = EXPORT_IR_VERSION;
    model.opset_import = opsets;
    model.n_opset_import = 1;
    model.producer_name = "aicon";
    model.producer_version = (char *)aic_version_string();
    model.graph = &graph;
    graph.name = m->name;
    add_metadata(&e, &md, "aicon.version", aic_version_string());
    add_metadata(&e, &md, "aicon.preprocess", aic_preprocess_name(pre.kind));
    if (pre.kind == AIC_PREPROCESS_STANDARDIZE) {
        snprintf(num, sizeof num, "%.17g", pre.mean);
        add_metadata(&e, &md, "aicon.mean", num);
        snprintf(num, sizeof num, "%.17g", pre.std);
        add_metadata(&e, &md, "aicon.std", num);
    }
    model.metadata_props = md.items;
    model.n_metadata_props = md.n;

    /* The ops the output depends on (ops are in topological order): the loss and labels drop out. An
     * expand reads the batch size from an input (ex_expand). */
    needed[m->values[m->output_value].producer] = true;
    for (int i = m->n_ops - 1; i >= 0; i--)
        if (needed[i]) {
            for (int k = 0; k < m->ops[i].n_in; k++)
                needed[m->values[m->ops[i].in[k]].producer] = true;
            if (m->ops[i].kind == AIC_OP_EXPAND && batch_input(&e) >= 0)
                needed[m->values[batch_input(&e)].producer] = true;
        }
    size_t cap_in = 0, cap_out = 0;
    for (int i = 0; i < m->n_ops && st == AIC_OK; i++) {
        const aic_op *op = &m->ops[i];
        if (!needed[i])
            continue;
        if (op->kind != AIC_OP_INPUT && op->kind != AIC_OP_LABELS) {
            st = export_op(&e, op);
            continue;
        }
        const bool data_input = op->out == e.in_value;
        ex_push(&e, (void ***)&graph.input, &graph.n_input, &cap_in,
                value_info(&e, data_input ? e.in_name : op->name, &m->values[op->out]));
        if (data_input && pre.kind == AIC_PREPROCESS_STANDARDIZE) /* before the ops that read it */
            export_preprocess(&e, &pre);
    }
    if (st != AIC_OK)
        goto done;
    ex_push(&e, (void ***)&graph.output, &graph.n_output, &cap_out,
            value_info(&e, value_name(&e, m->output_value), &m->values[m->output_value]));
    if (e.nomem) {
        st = aic_fail(AIC_ERR_NOMEM, "aic_onnx_export: out of memory");
        goto done;
    }
    size_t size = onnx__model_proto__get_packed_size(&model);
    buf = malloc(size ? size : 1);
    if (!buf) {
        st = aic_fail(AIC_ERR_NOMEM, "aic_onnx_export: cannot allocate %zu bytes", size);
        goto done;
    }
    if (onnx__model_proto__pack(&model, buf) != size) {
        st = aic_fail(AIC_ERR_INTERNAL, "aic_onnx_export: protobuf-c packed a size other than it announced");
        goto done;
    }
    st = aic_atomic_write(path, buf, size, 0644, "the ONNX model");
done:
    free(buf);
    free(needed);
    for (size_t i = 0; i < e.n_ptrs; i++)
        free(e.ptrs[i]);
    free(e.ptrs);
    return st;
}
