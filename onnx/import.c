// SPDX-License-Identifier: Apache-2.0
/* Importing an ONNX graph as an aicon model: a starter op set mapped onto the graph builders.
 *
 * The nodes are visited in the topological order the loader found (a file may list them in any
 * order). Every ONNX tensor name maps to what it became: an activation (an aic_value), a constant (an initializer or
 * a Constant node's `value`, read by the op that uses it as weights, a bias or a shape), a shape
 * computed at import (Shape, Gather, Unsqueeze, Concat, Cast, Mul, Div, Add, Sub over shapes and int64
 * constants, with multiples of the batch size held as markers: x.view(x.size(0) * heads, -1) as PyTorch
 * exports it; such nodes become no op),
 * or nothing aicon can run (made by an unsupported node; its users are skipped without a word). Unsupported
 * nodes are all collected, and the import then fails once with every one of them named. Weights are
 * copied into the model after aic_model_compile (aic_onnx_load_weights), from a list of copy jobs the
 * builders left behind: the parameters exist only once the model is compiled.
 *
 * Nothing here trusts more than the loader checked: names resolve, there are no cycles and each
 * tensor holds as much data as its dims say; arities, attribute values and shapes are checked here. */
#include "aicon/onnx.h"

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/graph.h"
#include "core/grow.h"
#include "layers/slice.h"
#include "onnx/onnx_internal.h"

#define REASON_MAX 400
#define ATTR_LIMIT (1 << 14) /* kernel sizes, strides, pads, dilations, groups: products stay in int */
#define DIM_LIMIT (1 << 30)  /* an input's per-sample dimensions */
/* Elements per sample of any tensor the graph computes: 2^28 floats (1 GiB) is far past the largest
 * activation of real image models (ResNet-50's is 0.8 M), and refuses the tiny files that ask for
 * gigabytes per sample (a Conv with huge pads, a 40000 x 40000 input) before compile sizes arenas. */
#define SAMPLE_LIMIT ((int64_t)1 << 28)

/* ---- the tensor-name table -------------------------------------------------------------------- */

/* V_SHAPE: a small int64 tensor computed at import from shapes (Shape, Gather, Unsqueeze, Concat,
 * Cast, integer arithmetic): what PyTorch exports for x.view(x.size(0), -1). The batch size is unknown
 * until run time; an entry k times it is held as BATCH_TIMES(k), and a Reshape target puts the batch
 * axis where such an entry is. */
/* V_CONST_T: a 2-D float constant transposed (torch exports nn.Linear on rank 3 as MatMul by
 * Transpose(weight)): only MatMul reads it, as the weight of a dense op. */
/* V_ZEROS: zeros of a shape that holds the batch size (ConstantOfShape): aicon makes no batch-sized
 * constants, but LSTM and GRU take one as their initial state, which is zeros anyway (op_rnn). */
typedef enum { V_NONE, V_ACT, V_CONST, V_DEAD, V_SHAPE, V_CONST_T, V_ZEROS } value_kind;

#define SHAPE_MAX 8 /* entries of a V_SHAPE */
#define BATCH_TIMES(k) (INT64_MIN + (k))
#define IS_BATCH_TIMES(v) ((v) <= INT64_MIN + SAMPLE_LIMIT)
#define BATCH_FACTOR(v) ((v) - INT64_MIN)

typedef struct {
    long maker;                   /* node index >= 0, or MAKER_GRAPH */
    value_kind kind;
    aic_value v;                  /* V_ACT */
    const Onnx__TensorProto *t;   /* V_CONST, V_CONST_T */
    int sh_rank, sh_len;          /* V_SHAPE: rank 0 (a scalar, sh_len 1) or 1 */
    int64_t sh[SHAPE_MAX];        /* V_SHAPE: the values */
} slot;

enum { MAKER_GRAPH = -1 };

typedef struct {
    aic_onnx_names names;
    slot *s; /* indexed like names.keys */
} name_table;

static slot *table_get(const name_table *nt, const char *name) {
    size_t i = aic_onnx_names_slot(&nt->names, name);
    return nt->names.keys[i] ? &nt->s[i] : NULL;
}

/* Enters name, made by maker; returns its slot. */
static slot *table_add(name_table *nt, const char *name, long maker) {
    size_t i = aic_onnx_names_slot(&nt->names, name);
    nt->names.keys[i] = name;
    nt->s[i].maker = maker;
    return &nt->s[i];
}

/* ---- the importer ----------------------------------------------------------------------------- */

/* A weight to copy after compile: t (rows x cols when transposed) into the parameter or buffer `name`,
 * each value times scale. */
typedef struct {
    char name[AIC_MAX_NAME];
    bool buffer;
    bool transpose;
    int64_t rows, cols;
    float scale;
    const Onnx__TensorProto *t;
} copy_job;

typedef struct {
    const aic_onnx_model_t *om;
    const Onnx__GraphProto *g;
    aic_model_t *m;
    name_table nt;
    copy_job *jobs;
    size_t n_jobs, cap_jobs;
    char (*used)[AIC_MAX_NAME]; /* op names given out */
    size_t n_used, cap_used;
    char *msg; /* the unsupported list, "; "-separated */
    size_t msg_len, msg_cap;
    int n_bad;
    char reason[REASON_MAX];
    int64_t export_batch; /* the batch size the file's graph inputs were written with, 0: symbolic */
    bool *fused;          /* by node index: imported with the node before it (MatMul + Add: dense) */
    struct attn_chain *chains; /* attention patterns found before the nodes are visited (find_attention) */
    size_t n_chains, cap_chains;
    bool training_mode;   /* a BatchNormalization computes batch statistics (aic_onnx_binding) */
    Onnx__TensorProto **owned; /* constants computed at import (fold_node) */
    size_t n_owned, cap_owned;
} importer;

static aic_status new_const(importer *im, int32_t type, int ndim, const int64_t *dims, Onnx__TensorProto **out);

/* x's full shape, its batch axis as BATCH_TIMES(outer x fold). */
static int sym_shape(const aic_value_info *xi, int64_t *full) {
    aic_value_full_shape(xi, 1, full);
    full[xi->batch_axis] = BATCH_TIMES(xi->outer * xi->fold);
    return xi->ndim + 1;
}

static aic_status nomem(void) { return aic_fail(AIC_ERR_NOMEM, "ONNX import: out of memory"); }

/* Record why a node is unsupported (for the caller to add to the list) and return AIC_ERR_UNSUPPORTED. */
static aic_status AIC_PRINTF(2, 3) unsupported(importer *im, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->reason, sizeof im->reason, fmt, ap);
    va_end(ap);
    return AIC_ERR_UNSUPPORTED;
}

/* Append one "what: why" entry to the list. */
static aic_status note(importer *im, const char *what, const char *why) {
    const size_t need = strlen(what) + strlen(why) + 8;
    if (!aic_grow((void **)&im->msg, &im->msg_cap, im->msg_len + need, 1, 256))
        return nomem();
    im->msg_len += (size_t)sprintf(im->msg + im->msg_len, "%s%s: %s", im->n_bad ? "; " : "", what, why);
    im->n_bad++;
    return AIC_OK;
}

static int64_t opset_of(const importer *im, const char *domain) {
    if (!domain || !domain[0] || strcmp(domain, "ai.onnx") == 0)
        return aic_onnx_opset_version(im->om);
    const Onnx__ModelProto *p = im->om->proto;
    for (size_t i = 0; i < p->n_opset_import; i++)
        if (p->opset_import[i]->domain && strcmp(p->opset_import[i]->domain, domain) == 0)
            return p->opset_import[i]->has_version ? p->opset_import[i]->version : -1;
    return -1;
}

/* A unique op name from base: characters outside printable ASCII (and quotes) become '_', long names
 * are cut, and a repeat gets "_2", "_3", ... */
static aic_status unique_name(importer *im, const char *base, char out[AIC_MAX_NAME]) {
    char clean[72];
    size_t n = 0;
    for (; base[n] && n < sizeof clean - 1; n++) {
        unsigned char c = (unsigned char)base[n];
        clean[n] = (c < 0x21 || c > 0x7e || c == '\'' || c == '"') ? '_' : (char)c;
    }
    clean[n] = '\0';
    if (n == 0)
        snprintf(clean, sizeof clean, "op");
    snprintf(out, AIC_MAX_NAME, "%s", clean);
    for (unsigned k = 2;; k++) {
        bool taken = false;
        for (size_t i = 0; i < im->n_used && !taken; i++)
            taken = strcmp(im->used[i], out) == 0;
        if (!taken)
            break;
        snprintf(out, AIC_MAX_NAME, "%s_%u", clean, k);
    }
    if (!aic_grow((void **)&im->used, &im->cap_used, im->n_used + 1, sizeof *im->used, 64))
        return nomem();
    memcpy(im->used[im->n_used++], out, AIC_MAX_NAME);
    return AIC_OK;
}

/* A unique op name for node i: its own name, or its type and index. */
static aic_status node_opname(importer *im, size_t i, char out[AIC_MAX_NAME]) {
    const Onnx__NodeProto *n = im->g->node[i];
    char base[96];
    if (n->name && n->name[0])
        snprintf(base, sizeof base, "%s", n->name);
    else
        snprintf(base, sizeof base, "%.60s_%zu", n->op_type && n->op_type[0] ? n->op_type : "?", i);
    return unique_name(im, base, out);
}

static aic_status add_job(importer *im, const char *op, const char *suffix, bool buffer, const Onnx__TensorProto *t,
                          bool transpose, int64_t rows, int64_t cols, float scale) {
    if (!aic_grow((void **)&im->jobs, &im->cap_jobs, im->n_jobs + 1, sizeof *im->jobs, 32))
        return nomem();
    copy_job *j = &im->jobs[im->n_jobs++];
    snprintf(j->name, sizeof j->name, "%s.%s", op, suffix);
    j->buffer = buffer;
    j->transpose = transpose;
    j->rows = rows;
    j->cols = cols;
    j->scale = scale;
    j->t = t;
    return AIC_OK;
}

/* ---- tensors and attributes ------------------------------------------------------------------- */

static int64_t tensor_numel(const Onnx__TensorProto *t) {
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++)
        n *= t->dims[i]; /* the loader bounds the product by 2^31 */
    return n;
}

/* Float tensors: float32, and float16, bfloat16 and double read as float32 (onnx/tensor.c). */
static bool is_float(const Onnx__TensorProto *t) { return aic_onnx_is_floating(t); }
static float float_at(const Onnx__TensorProto *t, int64_t i) { return aic_onnx_float_at(t, i); }

static int64_t int64_at(const Onnx__TensorProto *t, int64_t i) { return aic_onnx_int_at(t, i); }

/* An attribute an op reads, with the one type it reads it as (check_attrs holds every node to it). */
typedef struct {
    const char *name;
    Onnx__AttributeProto__AttributeType type;
} attr_spec;

#define A_FLOAT ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
#define A_INT ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
#define A_STRING ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
#define A_TENSOR ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
#define A_INTS ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
#define A_FLOATS ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS

static const char *attr_type_name(Onnx__AttributeProto__AttributeType t) {
    static const char *const names[] = {"UNDEFINED", "FLOAT",   "INT",     "STRING",        "TENSOR",
                                        "GRAPH",     "FLOATS",  "INTS",    "STRINGS",       "TENSORS",
                                        "GRAPHS",    "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO",
                                        "TYPE_PROTOS"}; /* by value, as onnx.proto numbers them */
    return (unsigned)t < sizeof names / sizeof *names ? names[t] : "an unknown type";
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t def) {
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_i ? a->i : def;
}

static float attr_float(const Onnx__NodeProto *n, const char *name, float def) {
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_f ? a->f : def;
}

/* A string attribute as a C string in buf (def when absent). */
static const char *attr_string(const Onnx__NodeProto *n, const char *name, const char *def, char *buf, size_t size) {
    const Onnx__AttributeProto *a = attr(n, name);
    if (!a || !a->has_s)
        return def;
    size_t len = a->s.len < size - 1 ? a->s.len : size - 1;
    memcpy(buf, a->s.data, len);
    buf[len] = '\0';
    return buf;
}

/* Reports the first attribute not in `known` (ended by a NULL name) as unsupported, and one of
 * another type than known says as an error: the readers above would take its value as absent
 * (an INT alpha read as a FLOAT) and import something other than the file says. */
static aic_status check_attrs(importer *im, const Onnx__NodeProto *n, const attr_spec *known) {
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        const char *an = a->name ? a->name : "";
        const attr_spec *k = known;
        while (k->name && strcmp(k->name, an) != 0)
            k++;
        if (!k->name)
            return unsupported(im, "attribute '%.100s' is not understood", an);
        const Onnx__AttributeProto__AttributeType found =
            a->has_type ? a->type : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
        if (found != k->type)
            return aic_fail(AIC_ERR_FORMAT,
                            "ONNX graph '%.200s': node '%.200s' (%.100s): attribute '%.100s' is %s where %.100s "
                            "takes %s",
                            im->g->name ? im->g->name : "", n->name && n->name[0] ? n->name : "(unnamed)", n->op_type,
                            an, attr_type_name(found), n->op_type, attr_type_name(k->type));
    }
    return AIC_OK;
}

/* ---- node inputs and outputs ------------------------------------------------------------------ */

static const char *in_name(const Onnx__NodeProto *n, size_t k) {
    return k < n->n_input && n->input[k][0] ? n->input[k] : NULL;
}

/* Batch-sized zeros (V_ZEROS) are refused as any input but LSTM's and GRU's initial states. */
static aic_status not_zeros(importer *im, const slot *s, const char *name) {
    if (s && s->kind == V_ZEROS)
        return unsupported(im, "input '%.100s' is zeros as large as the batch (ConstantOfShape); aicon takes those "
                           "only as LSTM's and GRU's initial states", name);
    return AIC_OK;
}

/* Input k as an activation: its value and info (0 and NULL when it is not one). */
static aic_status act_in(importer *im, const Onnx__NodeProto *n, size_t k, aic_value *v, const aic_value_info **vi) {
    *v = 0;
    *vi = NULL;
    const char *name = in_name(n, k);
    if (!name)
        return unsupported(im, "input %zu is missing", k);
    slot *s = table_get(&im->nt, name);
    AIC_TRY(not_zeros(im, s, name));
    if (!s || s->kind != V_ACT)
        return unsupported(im, "input '%.100s' is a constant; aicon runs this op on activations only", name);
    *v = s->v;
    *vi = &im->m->values[s->v];
    return AIC_OK;
}

/* Input k as a float constant, or NULL with *t = NULL when optional and absent. */
static aic_status const_in(importer *im, const Onnx__NodeProto *n, size_t k, bool optional,
                           const Onnx__TensorProto **t) {
    *t = NULL;
    const char *name = in_name(n, k);
    if (!name)
        return optional ? AIC_OK : unsupported(im, "input %zu is missing", k);
    slot *s = table_get(&im->nt, name);
    AIC_TRY(not_zeros(im, s, name));
    if (!s || s->kind != V_CONST)
        return unsupported(im, "input '%.100s' must be an initializer or a constant", name);
    *t = s->t;
    return AIC_OK;
}

static aic_status need_float(importer *im, const Onnx__TensorProto *t, const char *role) {
    if (!is_float(t))
        return unsupported(im, "%s '%.100s' has element type %" PRId32 "; aicon reads float weights", role,
                           t->name ? t->name : "", t->data_type);
    return AIC_OK;
}

/* At most `max` outputs may be named (the rest of a node's optional outputs must be left out). */
static aic_status outputs_at_most(importer *im, const Onnx__NodeProto *n, size_t max, const char *what) {
    for (size_t k = max; k < n->n_output; k++)
        if (n->output[k][0])
            return unsupported(im, "output %zu ('%.100s') is asked for: %s", k, n->output[k], what);
    return AIC_OK;
}

/* Outputs from index `from` on may be named only when no node reads them and no graph output is one:
 * BatchNormalization's running statistics and Dropout's mask, which PyTorch's training-mode export
 * names but nothing consumes. aicon keeps those statistics itself (as buffers of the op), so unused
 * ones can be dropped; a consumed one is reported as unsupported, with `what`. */
static aic_status outputs_unused(importer *im, const Onnx__NodeProto *n, size_t from, const char *what) {
    const Onnx__GraphProto *g = im->g;
    for (size_t k = from; k < n->n_output; k++) {
        const char *o = n->output[k];
        if (!o[0]) continue;
        for (size_t i = 0; i < g->n_output; i++)
            if (strcmp(g->output[i]->name, o) == 0)
                return unsupported(im, "output %zu ('%.100s') is a graph output: %s", k, o, what);
        for (size_t i = 0; i < g->n_node; i++)
            for (size_t j = 0; j < g->node[i]->n_input; j++)
                if (strcmp(g->node[i]->input[j], o) == 0)
                    return unsupported(im, "output %zu ('%.100s') is read by node '%.100s': %s", k, o,
                                       g->node[i]->name ? g->node[i]->name : "", what);
    }
    return AIC_OK;
}

static void set_act(importer *im, const Onnx__NodeProto *n, aic_value v) {
    slot *s = table_get(&im->nt, n->output[0]);
    s->kind = V_ACT;
    s->v = v;
}

/* Binds output k of n to the value made from y, when the graph names it. */
static void set_output(importer *im, const Onnx__NodeProto *n, size_t k, aic_value y) {
    slot *s = k < n->n_output && n->output[k][0] ? table_get(&im->nt, n->output[k]) : NULL;
    if (s) {
        s->kind = V_ACT;
        s->v = y;
    }
}

/* A builder's failure: out of memory stays fatal; anything else makes the node unsupported, with the
 * builder's own message as the reason. */
static aic_status built(importer *im, aic_status st) {
    if (st == AIC_OK || st == AIC_ERR_NOMEM)
        return st;
    return unsupported(im, "%s", aic_last_error());
}

/* The values made since value `first` must stay within SAMPLE_LIMIT elements per sample. */
static aic_status check_sizes(importer *im, int first) {
    for (int v = first; v < im->m->n_values; v++)
        if (im->m->values[v].numel > SAMPLE_LIMIT)
            return unsupported(im, "'%.100s' would hold %" PRId64 " elements per sample; aicon takes at most %" PRId64
                               " (1 GiB) from a file",
                               im->m->values[v].name, im->m->values[v].numel, SAMPLE_LIMIT);
    return AIC_OK;
}

/* ---- ops -------------------------------------------------------------------------------------- */

/* An importer either takes the whole node (node_fn) or, as most do, maps activation input 0 (x, with
 * its info xi) to the activation y that import_node binds to output 0 (act_fn). import_node checks
 * first what its row in node_importers says: the opset, the attributes and the outputs. */
typedef aic_status (*node_fn)(importer *im, const Onnx__NodeProto *n, const char *name, int variant);
typedef aic_status (*act_fn)(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                             const aic_value_info *xi, aic_value *y);

static const attr_spec NO_ATTRS[] = {{NULL, 0}};
static const attr_spec AXIS_ATTRS[] = {{"axis", A_INT}, {NULL, 0}};

static const attr_spec gemm_attrs[] = {{"alpha", A_FLOAT}, {"beta", A_FLOAT}, {"transA", A_INT},
                                       {"transB", A_INT}, {"broadcast", A_INT}, {NULL, 0}};

static aic_status op_gemm(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                          const aic_value_info *xi, aic_value *y) {
    const Onnx__TensorProto *b, *c;
    AIC_TRY(const_in(im, n, 1, false, &b));
    AIC_TRY(const_in(im, n, 2, true, &c));
    if (attr_int(n, "transA", 0) != 0)
        return unsupported(im, "transA=1 is not supported");
    bool tb = attr_int(n, "transB", 0) != 0;
    float alpha = attr_float(n, "alpha", 1.0f), beta = attr_float(n, "beta", 1.0f);
    if (xi->ndim != 1)
        return unsupported(im, "A must be N x K (per-sample rank 1), it has per-sample rank %d", xi->ndim);
    AIC_TRY(need_float(im, b, "B"));
    if (b->n_dims != 2)
        return unsupported(im, "B must have rank 2, it has %zu", b->n_dims);
    int64_t K = xi->shape[0];
    int64_t bk = tb ? b->dims[1] : b->dims[0], M = tb ? b->dims[0] : b->dims[1];
    if (bk != K || M <= 0)
        return unsupported(im, "B is %" PRId64 "x%" PRId64 " (transB=%d) but A has %" PRId64 " features", b->dims[0],
                           b->dims[1], tb, K);
    if (c) {
        AIC_TRY(need_float(im, c, "C"));
        bool ok = (c->n_dims == 1 && c->dims[0] == M) || (c->n_dims == 2 && c->dims[0] == 1 && c->dims[1] == M);
        if (!ok && tensor_numel(c) == 1) { /* one value for every column: the bias it broadcasts to */
            Onnx__TensorProto *full = NULL;
            AIC_TRY(new_const(im, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, &M, &full));
            for (int64_t i = 0; i < M; i++)
                full->float_data[i] = float_at(c, 0);
            c = full;
            ok = true;
        }
        if (!ok)
            return unsupported(im, "C must have shape [%" PRId64 "], [1, %" PRId64 "] or one value", M, M);
    }
    AIC_TRY(built(im, aic_dense(im->m, name, x, M, c != NULL, y)));
    AIC_TRY(add_job(im, name, "weight", false, b, !tb, b->dims[0], b->dims[1], alpha));
    return c ? add_job(im, name, "bias", false, c, false, 1, M, beta) : AIC_OK;
}

static bool graph_output(const importer *im, const char *name) {
    for (size_t i = 0; i < im->g->n_output; i++)
        if (im->g->output[i]->name && strcmp(im->g->output[i]->name, name) == 0)
            return true;
    return false;
}

/* The node that is the only reader of tensor `name`, or -1 (none, several, or a graph output). */
static long sole_reader(const importer *im, const char *name) {
    const Onnx__GraphProto *g = im->g;
    long found = -1;
    if (graph_output(im, name))
        return -1;
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t j = 0; j < g->node[i]->n_input; j++)
            if (strcmp(g->node[i]->input[j], name) == 0) {
                if (found >= 0)
                    return -1;
                found = (long)i;
            }
    return found;
}

/* Whether node n is one of type `type` (a file's node may lack its op_type). */
static bool is_op(const Onnx__NodeProto *n, const char *type) { return n && n->op_type && !strcmp(n->op_type, type); }

/* Node k if it is a default-domain node of type `type` with two inputs, one of them tensor `in`:
 * the other input's name; else NULL. */
static const char *binary_with(const importer *im, long k, const char *type, const char *in) {
    const Onnx__NodeProto *n = k >= 0 ? im->g->node[k] : NULL;
    if (!is_op(n, type) || n->n_input != 2 || n->n_output < 1 || (n->domain && n->domain[0]))
        return NULL;
    return strcmp(n->input[0], in) == 0 ? n->input[1] : strcmp(n->input[1], in) == 0 ? n->input[0] : NULL;
}

/* The node that adds a bias to the output of MatMul node n (M columns): the only reader of that
 * output, an Add of it and a float constant of M values along the last axis ([M], [1, M], ...), which
 * *bias receives; -1 where there is none (nn.Linear exports MatMul then Add for inputs of rank 3 and
 * more: together they are one dense op, the bias trained). */
static long bias_add(importer *im, const Onnx__NodeProto *n, int64_t M, const Onnx__TensorProto **bias) {
    const long add = sole_reader(im, n->output[0]);
    const char *other = binary_with(im, add, "Add", n->output[0]);
    const slot *s = other ? table_get(&im->nt, other) : NULL;
    if (!s || s->kind != V_CONST || !is_float(s->t) || tensor_numel(s->t) != M || s->t->n_dims < 1 ||
        s->t->dims[s->t->n_dims - 1] != M)
        return -1;
    *bias = s->t;
    return add;
}

/* The parameter an earlier op already fills with initializer t as it stands (an embedding's table), or
 * NULL. PyTorch exports a language model's head tied to its token embedding as Gather and
 * MatMul(Transpose) of the one table: the head then becomes aic_dense_tied, so that both ops' gradients
 * add into one parameter as they do in PyTorch, instead of training two copies apart. */
static const copy_job *tied_job(const importer *im, const Onnx__TensorProto *t) {
    for (size_t i = 0; i < im->n_jobs; i++)
        if (im->jobs[i].t == t && !im->jobs[i].buffer && !im->jobs[i].transpose)
            return &im->jobs[i];
    return NULL;
}

/* MatMul: of an activation [..., K] and a constant K x M, a dense op (with the bias of an Add that
 * follows: bias_add; tied to an earlier op's parameter of the same initializer: tied_job); of two activations,
 * aic_matmul, which needs equal ranks (so that the batch dims, dimension 0 of both, line up) of at
 * least 3 (a matrix per sample). */
static aic_status op_matmul(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                            const aic_value_info *xi, aic_value *y) {
    const slot *s1 = in_name(n, 1) ? table_get(&im->nt, in_name(n, 1)) : NULL;
    if (s1 && s1->kind == V_ACT) {
        const aic_value_info *bi = &im->m->values[s1->v];
        if (xi->ndim != bi->ndim)
            return unsupported(im, "operands of ranks %d and %d: a product of two activations needs equal ranks (the "
                                   "batch dimensions must line up)", xi->ndim + 1, bi->ndim + 1);
        if (xi->ndim < 2)
            return unsupported(im, "operands of rank %d: a product of two activations needs rank 3 or more (the "
                                   "batch, then a matrix)", xi->ndim + 1);
        return built(im, aic_matmul(im->m, name, x, s1->v, y));
    }
    const Onnx__TensorProto *b;
    const bool bt = s1 && s1->kind == V_CONST_T; /* b is the weight as dense holds it, M x K */
    if (bt)
        b = s1->t;
    else
        AIC_TRY(const_in(im, n, 1, false, &b));
    if (xi->ndim < 1 || xi->batch_axis == xi->ndim)
        return unsupported(im, "the left operand's last axis holds the batch; it must hold the K features");
    const int64_t K = xi->shape[xi->ndim - 1];
    AIC_TRY(need_float(im, b, "the right operand"));
    if (b->n_dims != 2 || b->dims[bt ? 1 : 0] != K || b->dims[bt ? 0 : 1] <= 0)
        return unsupported(im, "the right operand must be [%" PRId64 ", M]", K);
    const int64_t M = b->dims[bt ? 0 : 1];
    const Onnx__TensorProto *c = NULL;
    const long add = bias_add(im, n, M, &c);
    const copy_job *tie = bt ? tied_job(im, b) : NULL;
    if (tie) {
        AIC_TRY(built(im, aic_dense_tied(im->m, name, x, tie->name, c != NULL, y)));
    } else {
        AIC_TRY(built(im, aic_dense(im->m, name, x, M, c != NULL, y)));
        AIC_TRY(add_job(im, name, "weight", false, b, !bt, bt ? M : K, bt ? K : M, 1.0f));
    }
    if (!c)
        return AIC_OK;
    im->fused[add] = true; /* its output is this dense op's */
    slot *s = table_get(&im->nt, im->g->node[add]->output[0]);
    s->kind = V_ACT;
    s->v = *y;
    return add_job(im, name, "bias", false, c, false, 1, M, 1.0f);
}

/* An ints attribute of exactly `count` entries each in [lo, ATTR_LIMIT] (def when absent). */
static aic_status ints_attr(importer *im, const Onnx__NodeProto *n, const char *name, size_t count, int lo,
                            int def, int *out) {
    const Onnx__AttributeProto *a = attr(n, name);
    for (size_t i = 0; i < count; i++)
        out[i] = def;
    if (!a)
        return AIC_OK;
    if (a->n_ints != count)
        return unsupported(im, "%s has %zu entries; aicon runs 2-D ops (%zu expected)", name, a->n_ints, count);
    for (size_t i = 0; i < count; i++) {
        if (a->ints[i] < lo || a->ints[i] > ATTR_LIMIT)
            return unsupported(im, "%s[%zu] = %" PRId64 " is outside %d..%d", name, i, a->ints[i], lo, ATTR_LIMIT);
        out[i] = (int)a->ints[i];
    }
    return AIC_OK;
}

/* Symmetric padding from pads / auto_pad for a 2-D window op over an H x W input. */
/* An ints attribute of a 1-D, 2-D or 3-D window op (rank entries, each in [lo, ATTR_LIMIT], def when
 * absent) as the op aicon runs: a 1-D window is the 2-D 1 x k, so its height entry is 1. */
static aic_status window_attr(importer *im, const Onnx__NodeProto *n, const char *name, int rank, int lo, int def,
                              int *out) {
    if (rank >= 2)
        return ints_attr(im, n, name, (size_t)rank, lo, def, out);
    out[0] = 1;
    return ints_attr(im, n, name, 1, lo, def, out + 1);
}

/* hw, k, s, d and pad hold an entry per axis aicon runs: 2 for a 1-D or 2-D window, 3 for a 3-D one. */
static aic_status window_pads(importer *im, const Onnx__NodeProto *n, int rank, const int64_t *hw, const int *k,
                              const int *s, const int *d, int *pad) {
    char buf[32];
    const char *ap = attr_string(n, "auto_pad", "NOTSET", buf, sizeof buf);
    const int axes = rank == 3 ? 3 : 2;
    int p[6] = {0};
    if (rank == 1) { /* a 1-D window runs as 1 x k: no padding on the height */
        int p1[2];
        AIC_TRY(ints_attr(im, n, "pads", 2, 0, 0, p1));
        p[1] = p1[0];
        p[3] = p1[1];
    } else {
        AIC_TRY(ints_attr(im, n, "pads", 2 * (size_t)axes, 0, 0, p));
    }
    if (strcmp(ap, "NOTSET") == 0) {
        bool symmetric = true;
        for (int i = 0; i < axes; i++) {
            symmetric = symmetric && p[i] == p[i + axes];
            pad[i] = p[i];
        }
        if (!symmetric) {
            char list[96];
            int len = 0;
            for (int i = 0; i < 2 * axes; i++)
                len += snprintf(list + len, sizeof list - (size_t)len, "%s%d", i ? ", " : "", p[i]);
            return unsupported(im, "pads [%s] are not symmetric", list);
        }
    } else if (strcmp(ap, "VALID") == 0) {
        for (int i = 0; i < axes; i++)
            pad[i] = 0;
    } else if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
        for (int i = 0; i < axes; i++) {
            int64_t out = (hw[i] + s[i] - 1) / s[i];
            int64_t total = (out - 1) * s[i] + (int64_t)(k[i] - 1) * d[i] + 1 - hw[i];
            if (total < 0)
                total = 0;
            if (total % 2 || total / 2 > ATTR_LIMIT)
                return unsupported(im, "auto_pad %s needs %" PRId64 " padding on axis %d, which is not symmetric", ap,
                                   total, i + 2);
            pad[i] = (int)(total / 2);
        }
    } else {
        return unsupported(im, "auto_pad '%s' is not supported", ap);
    }
    return AIC_OK;
}

static const attr_spec conv_attrs[] = {{"auto_pad", A_STRING}, {"dilations", A_INTS}, {"group", A_INT},
                                       {"kernel_shape", A_INTS}, {"pads", A_INTS}, {"strides", A_INTS},
                                       {NULL, 0}};

/* What Conv and ConvTranspose read alike: W, a float constant of rank 4 over an X of per-sample rank
 * 3, [out, in / group, kh, kw] for Conv and [in, out / group, kh, kw] for ConvTranspose; kernel_shape,
 * which must repeat W's kernel; group, strides, dilations; and B, if any, of the *OC output channels. */
static aic_status conv_common(importer *im, const Onnx__NodeProto *n, const aic_value_info *xi, bool transposed,
                              const Onnx__TensorProto **w, const Onnx__TensorProto **b, int64_t *g, int64_t *OC,
                              int k[2], int s[2], int d[2]) {
    AIC_TRY(const_in(im, n, 1, false, w));
    AIC_TRY(const_in(im, n, 2, true, b));
    AIC_TRY(need_float(im, *w, "W"));
    const int rank = xi->ndim - 1; /* spatial axes */
    if ((*w)->n_dims != (size_t)rank + 2 || (rank != 2 && (rank != 1 || transposed)))
        return unsupported(im, "only 2-D convolutions and 1-D ones are supported (W has rank %zu, X per-sample rank "
                           "%d)", (*w)->n_dims, xi->ndim);
    const int64_t wd[4] = {(*w)->dims[0], (*w)->dims[1], rank == 2 ? (*w)->dims[2] : 1, (*w)->dims[rank + 1]};
    *g = attr_int(n, "group", 1);
    if (*g < 1 || *g > ATTR_LIMIT)
        return unsupported(im, "group %" PRId64 " is out of range", *g);
    const int64_t C = xi->shape[0];
    *OC = transposed ? wd[1] * *g : wd[0];
    const bool fits = transposed ? wd[0] == C && C % *g == 0 : wd[1] * *g == C && *OC % *g == 0;
    if (*OC < 1 || *OC > INT_MAX || !fits)
        return unsupported(im, "W is [%" PRId64 ", %" PRId64 ", ...] but X has %" PRId64 " channels and group is %" PRId64,
                           wd[0], wd[1], C, *g);
    if (wd[2] < 1 || wd[2] > ATTR_LIMIT || wd[3] < 1 || wd[3] > ATTR_LIMIT)
        return unsupported(im, "kernel %" PRId64 "x%" PRId64 " is out of range", wd[2], wd[3]);
    k[0] = (int)wd[2];
    k[1] = (int)wd[3];
    int ks[2];
    AIC_TRY(window_attr(im, n, "kernel_shape", rank, 1, 0, ks));
    if (attr(n, "kernel_shape") && (ks[0] != k[0] || ks[1] != k[1]))
        return unsupported(im, "kernel_shape %dx%d differs from W's %dx%d", ks[0], ks[1], k[0], k[1]);
    AIC_TRY(window_attr(im, n, "strides", rank, 1, 1, s));
    AIC_TRY(window_attr(im, n, "dilations", rank, 1, 1, d));
    if (*b) {
        AIC_TRY(need_float(im, *b, "B"));
        if ((*b)->n_dims != 1 || (*b)->dims[0] != *OC)
            return unsupported(im, "B must have shape [%" PRId64 "]", *OC);
    }
    return AIC_OK;
}

/* A 1-D window op (X per-sample C x L) runs as the 2-D one on C x 1 x L: *x2 is x so reshaped (named
 * "<name>.2d"), hw its H and W. A 2-D one's x as it is. */
static aic_status window_input(importer *im, const char *name, aic_value x, const aic_value_info *xi, aic_value *x2,
                               int64_t hw[2]) {
    *x2 = x;
    if (xi->ndim != 2) {
        hw[0] = xi->ndim == 3 ? xi->shape[1] : 0;
        hw[1] = xi->ndim == 3 ? xi->shape[2] : 0;
        return AIC_OK;
    }
    char n2[AIC_MAX_NAME];
    snprintf(n2, sizeof n2, "%.*s.2d", AIC_MAX_NAME - 8, name);
    hw[0] = 1;
    hw[1] = xi->shape[1];
    return built(im, aic_reshape(im->m, n2, x, 3, (int64_t[]){xi->shape[0], 1, xi->shape[1]}, x2));
}

/* The output y2 of a window op on window_input's x2, back to 1-D (C x 1 x L' -> C x L') where x, of
 * per-sample rank x_ndim, was. (A rank, not x's value info: building ops moves the values array.) */
static aic_status window_output(importer *im, const char *name, int x_ndim, aic_value y2, aic_value *y) {
    *y = y2;
    if (x_ndim != 2)
        return AIC_OK;
    const aic_value_info *v = &im->m->values[y2];
    char n1[AIC_MAX_NAME];
    snprintf(n1, sizeof n1, "%.*s.1d", AIC_MAX_NAME - 8, name);
    return built(im, aic_reshape(im->m, n1, y2, 2, (int64_t[]){v->shape[0], v->shape[2]}, y));
}

/* Conv over three spatial axes (X per-sample C x D x H x W): conv3d, W [out, in / group, kd, kh, kw]. */
static aic_status op_conv3d(importer *im, const Onnx__NodeProto *n, const char *name, aic_value x,
                            const aic_value_info *xi, aic_value *y) {
    const Onnx__TensorProto *w, *b;
    AIC_TRY(const_in(im, n, 1, false, &w));
    AIC_TRY(const_in(im, n, 2, true, &b));
    AIC_TRY(need_float(im, w, "W"));
    if (w->n_dims != 5)
        return unsupported(im, "W has rank %zu; a 3-D convolution's has rank 5", w->n_dims);
    const int64_t g = attr_int(n, "group", 1), C = xi->shape[0], OC = w->dims[0];
    if (g < 1 || g > ATTR_LIMIT)
        return unsupported(im, "group %" PRId64 " is out of range", g);
    if (OC < 1 || OC > INT_MAX || OC % g || w->dims[1] * g != C)
        return unsupported(im, "W is [%" PRId64 ", %" PRId64 ", ...] but X has %" PRId64 " channels and group is %" PRId64,
                           OC, w->dims[1], C, g);
    aic_conv3d_opts o = {.out_channels = OC, .groups = (int)g, .no_bias = b == NULL};
    for (int a = 0; a < 3; a++) {
        if (w->dims[2 + a] < 1 || w->dims[2 + a] > ATTR_LIMIT)
            return unsupported(im, "W's kernel %" PRId64 " on axis %d is out of range", w->dims[2 + a], a + 2);
        o.kernel[a] = (int)w->dims[2 + a];
    }
    int ks[3];
    AIC_TRY(window_attr(im, n, "kernel_shape", 3, 1, 0, ks));
    if (attr(n, "kernel_shape") && (ks[0] != o.kernel[0] || ks[1] != o.kernel[1] || ks[2] != o.kernel[2]))
        return unsupported(im, "kernel_shape %dx%dx%d differs from W's %dx%dx%d", ks[0], ks[1], ks[2], o.kernel[0],
                           o.kernel[1], o.kernel[2]);
    AIC_TRY(window_attr(im, n, "strides", 3, 1, 1, o.stride));
    AIC_TRY(window_attr(im, n, "dilations", 3, 1, 1, o.dilation));
    AIC_TRY(window_pads(im, n, 3, xi->shape + 1, o.kernel, o.stride, o.dilation, o.pad));
    if (b) {
        AIC_TRY(need_float(im, b, "B"));
        if (b->n_dims != 1 || b->dims[0] != OC)
            return unsupported(im, "B must have shape [%" PRId64 "]", OC);
    }
    AIC_TRY(built(im, aic_conv3d(im->m, name, x, &o, y)));
    AIC_TRY(add_job(im, name, "weight", false, w, false, 1, tensor_numel(w), 1.0f));
    return b ? add_job(im, name, "bias", false, b, false, 1, OC, 1.0f) : AIC_OK;
}

static aic_status op_conv(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                          const aic_value_info *xi, aic_value *y) {
    if (xi->ndim == 4)
        return op_conv3d(im, n, name, x, xi, y);
    const int x_ndim = xi->ndim; /* xi moves once ops are built */
    const Onnx__TensorProto *w, *b;
    int64_t g, OC, hw[2];
    int k[2], s[2], d[2], pad[2];
    AIC_TRY(conv_common(im, n, xi, false, &w, &b, &g, &OC, k, s, d));
    aic_value x2, y2;
    AIC_TRY(window_input(im, name, x, xi, &x2, hw));
    AIC_TRY(window_pads(im, n, x_ndim - 1, hw, k, s, d, pad));
    aic_conv2d_opts o = {.out_channels = OC,
                         .kernel = {k[0], k[1]},
                         .stride = {s[0], s[1]},
                         .pad = {pad[0], pad[1]},
                         .dilation = {d[0], d[1]},
                         .groups = (int)g,
                         .no_bias = b == NULL};
    AIC_TRY(built(im, aic_conv2d(im->m, name, x2, &o, &y2)));
    AIC_TRY(window_output(im, name, x_ndim, y2, y));
    AIC_TRY(add_job(im, name, "weight", false, w, false, 1, tensor_numel(w), 1.0f));
    return b ? add_job(im, name, "bias", false, b, false, 1, OC, 1.0f) : AIC_OK;
}

static const attr_spec convt_attrs[] = {{"auto_pad", A_STRING}, {"dilations", A_INTS}, {"group", A_INT},
                                        {"kernel_shape", A_INTS}, {"output_padding", A_INTS},
                                        {"output_shape", A_INTS}, {"pads", A_INTS}, {"strides", A_INTS},
                                        {NULL, 0}};

/* ConvTranspose (2-D). The padding at each axis's start becomes aicon's pad; more at the end is its
 * pad_end, less moves into output_padding. output_shape (auto_pad VALID aside) and auto_pad SAME_*
 * give the total padding, stride (in - 1) + output_padding + (k - 1) dilation + 1 - out, as ONNX says:
 * an odd one's extra at the end for SAME_UPPER, at the start otherwise; a negative total adds the
 * positions at the end (onnxruntime's reading, and the backend tests'). */
static aic_status op_conv_transpose(importer *im, const Onnx__NodeProto *n, const char *name, int variant,
                                    aic_value x, const aic_value_info *xi, aic_value *y) {
    const Onnx__TensorProto *w, *b;
    int64_t g, OC;
    int k[2], s[2], d[2], opad[2], p[4], shape[2];
    AIC_TRY(conv_common(im, n, xi, true, &w, &b, &g, &OC, k, s, d));
    AIC_TRY(ints_attr(im, n, "output_padding", 2, 0, 0, opad));
    AIC_TRY(ints_attr(im, n, "pads", 4, 0, 0, p));
    AIC_TRY(ints_attr(im, n, "output_shape", 2, 1, 0, shape));
    char buf[32];
    const char *ap = attr_string(n, "auto_pad", "NOTSET", buf, sizeof buf);
    const bool upper = strcmp(ap, "SAME_UPPER") == 0, same = upper || strcmp(ap, "SAME_LOWER") == 0;
    if (!same && strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0)
        return unsupported(im, "auto_pad '%s' is not supported", ap);
    if (strcmp(ap, "VALID") == 0)
        p[0] = p[1] = p[2] = p[3] = 0;
    const bool given = attr(n, "output_shape") != NULL;
    aic_conv_transpose2d_opts o = {.out_channels = OC, .groups = (int)g, .no_bias = b == NULL};
    for (int i = 0; i < 2; i++) {
        o.kernel[i] = k[i];
        o.stride[i] = s[i];
        o.dilation[i] = d[i];
        const int64_t in = xi->shape[1 + i];
        const int64_t natural = (in - 1) * s[i] + opad[i] + (int64_t)(k[i] - 1) * d[i] + 1;
        if (given || same) {
            const int64_t total = natural - (given ? shape[i] : in * s[i]);
            if (total > 2 * (int64_t)ATTR_LIMIT)
                return unsupported(im, "the output on axis %d would need %" PRId64 " padding", i + 2, total);
            const int64_t more = total > 0 ? total - total / 2 : 0, less = total > 0 ? total / 2 : 0;
            p[i] = (int)(upper ? less : more);
            p[i + 2] = (int)(upper ? more : less);
            if (total < 0)
                opad[i] += (int)-total;
        }
        o.pad[i] = p[i];
        o.pad_end[i] = p[i + 2] > p[i] ? p[i + 2] - p[i] : 0;
        o.output_padding[i] = opad[i] + (p[i + 2] < p[i] ? p[i] - p[i + 2] : 0);
    }
    AIC_TRY(built(im, aic_conv_transpose2d(im->m, name, x, &o, y)));
    AIC_TRY(add_job(im, name, "weight", false, w, false, 1, tensor_numel(w), 1.0f));
    return b ? add_job(im, name, "bias", false, b, false, 1, OC, 1.0f) : AIC_OK;
}

static const attr_spec maxpool_attrs[] = {{"auto_pad", A_STRING}, {"ceil_mode", A_INT}, {"dilations", A_INTS},
                                          {"kernel_shape", A_INTS}, {"pads", A_INTS}, {"storage_order", A_INT},
                                          {"strides", A_INTS}, {NULL, 0}};
static const attr_spec avgpool_attrs[] = {{"auto_pad", A_STRING}, {"ceil_mode", A_INT}, {"count_include_pad", A_INT},
                                          {"dilations", A_INTS}, {"kernel_shape", A_INTS}, {"pads", A_INTS},
                                          {"strides", A_INTS}, {NULL, 0}};

/* MaxPool and AveragePool: 1-D (as 2-D, window_input), 2-D and 3-D. */
static aic_status op_pool(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                          const aic_value_info *xi, aic_value *y) {
    const bool avg = variant == AIC_OP_AVGPOOL2D;
    if (xi->ndim < 2 || xi->ndim > 4)
        return unsupported(im, "only 3-D, 2-D and 1-D pooling are supported (X has per-sample rank %d)", xi->ndim);
    const int rank = xi->ndim - 1, axes = rank == 3 ? 3 : 2;
    int k[3], s[3], d[3], pad[3];
    if (!attr(n, "kernel_shape"))
        return unsupported(im, "kernel_shape is missing");
    AIC_TRY(window_attr(im, n, "kernel_shape", rank, 1, 1, k));
    AIC_TRY(window_attr(im, n, "strides", rank, 1, 1, s));
    AIC_TRY(window_attr(im, n, "dilations", rank, 1, 1, d));
    for (int a = 0; a < axes; a++)
        if (d[a] != 1)
            return unsupported(im, "dilation %d is not supported (only 1)", d[a]);
    aic_value x2 = x, y2;
    int64_t hw[3];
    if (rank == 3)
        memcpy(hw, xi->shape + 1, sizeof hw);
    else
        AIC_TRY(window_input(im, name, x, xi, &x2, hw));
    AIC_TRY(window_pads(im, n, rank, hw, k, s, d, pad));
    for (int a = 0; a < axes; a++)
        if (pad[a] > k[a] / 2)
            return unsupported(im, "padding %d is more than half the kernel %d", pad[a], k[a]);
    int64_t ceil_mode = attr_int(n, "ceil_mode", 0), cip = attr_int(n, "count_include_pad", 0);
    if (rank == 3) {
        aic_pool3d_opts o3 = {.kernel = {k[0], k[1], k[2]},
                              .stride = {s[0], s[1], s[2]},
                              .pad = {pad[0], pad[1], pad[2]},
                              .ceil_mode = ceil_mode != 0,
                              .count_include_pad = cip != 0};
        return built(im, avg ? aic_avgpool3d(im->m, name, x, &o3, y) : aic_maxpool3d(im->m, name, x, &o3, y));
    }
    aic_pool2d_opts o = {.kernel = {k[0], k[1]},
                         .stride = {s[0], s[1]},
                         .pad = {pad[0], pad[1]},
                         .ceil_mode = ceil_mode != 0,
                         .count_include_pad = cip != 0};
    AIC_TRY(built(im, avg ? aic_avgpool2d(im->m, name, x2, &o, &y2) : aic_maxpool2d(im->m, name, x2, &o, &y2)));
    return window_output(im, name, rank + 1, y2, y);
}

static aic_status op_global_avgpool(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                                    const aic_value_info *xi, aic_value *y) {
    if (xi->ndim != 3)
        return unsupported(im, "only N x C x H x W inputs are supported (per-sample rank %d)", xi->ndim);
    return built(im, aic_global_avgpool(im->m, name, x, y));
}

static const attr_spec batchnorm_attrs[] = {{"epsilon", A_FLOAT}, {"momentum", A_FLOAT}, {"spatial", A_INT},
                                            {"training_mode", A_INT}, {"is_test", A_INT}, {"consumed_inputs", A_INTS},
                                            {NULL, 0}};

/* Training mode (training_mode=1 from opset 14, or the running-statistics outputs named before it,
 * as torch.onnx.export with TrainingMode.TRAINING writes) is what aicon does anyway: batch statistics
 * while training, running ones in evaluation. The extra outputs (updated running mean and variance,
 * saved batch statistics) must be unused (node_importers); aicon updates its own running buffers. */
static aic_status op_batchnorm(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                               const aic_value_info *xi, aic_value *y) {
    if (attr_int(n, "spatial", 1) != 1)
        return unsupported(im, "spatial=0 is not supported");
    if (xi->ndim < 1)
        return unsupported(im, "X must be N x C x ...");
    int64_t C = xi->shape[0];
    const Onnx__TensorProto *t[4];
    static const char *const roles[4] = {"scale", "B", "mean", "var"};
    for (int i = 0; i < 4; i++) {
        AIC_TRY(const_in(im, n, (size_t)i + 1, false, &t[i]));
        AIC_TRY(need_float(im, t[i], roles[i]));
        if (t[i]->n_dims != 1 || t[i]->dims[0] != C)
            return unsupported(im, "%s must have shape [%" PRId64 "]", roles[i], C);
    }
    im->training_mode = im->training_mode || attr_int(n, "training_mode", 0) != 0 ||
                        (n->n_output > 1 && n->output[1][0] && opset_of(im, n->domain) < 14);
    float eps = attr_float(n, "epsilon", 1e-5f), mom = 1.0f - attr_float(n, "momentum", 0.9f);
    if (!(eps > 0.0f) || !(mom >= 0.0f && mom <= 1.0f))
        return unsupported(im, "epsilon %g must be positive and momentum %g in [0, 1]", eps, 1.0f - mom);
    AIC_TRY(built(im, aic_batchnorm(im->m, name, x, mom, eps, y)));
    AIC_TRY(add_job(im, name, "weight", false, t[0], false, 1, C, 1.0f));
    AIC_TRY(add_job(im, name, "bias", false, t[1], false, 1, C, 1.0f));
    AIC_TRY(add_job(im, name, "running_mean", true, t[2], false, 1, C, 1.0f));
    return add_job(im, name, "running_var", true, t[3], false, 1, C, 1.0f);
}

static const attr_spec layernorm_attrs[] = {{"axis", A_INT}, {"epsilon", A_FLOAT}, {"stash_type", A_INT},
                                            {NULL, 0}};

/* The attribute `axis` (default def) of a node on input x, counted on the full shape and made
 * non-negative: out of range or the batch axis is refused, since aicon's ops work within a sample. */
static aic_status sample_axis(importer *im, const Onnx__NodeProto *n, const aic_value_info *xi, int64_t def,
                              int64_t *out) {
    const int64_t rank = xi->ndim + 1;
    int64_t axis = attr_int(n, "axis", def);
    if (axis < -rank || axis >= rank)
        return unsupported(im, "axis %" PRId64 " is out of range for rank %" PRId64, axis, rank);
    *out = axis < 0 ? axis + rank : axis;
    if (*out == xi->batch_axis)
        return unsupported(im, "axis %" PRId64 " holds the batch; aicon's %s works within each sample", axis,
                           n->op_type);
    return AIC_OK;
}

/* LayerNormalization (opset 17): over the axes from `axis` (default -1) to the last; Scale and the
 * optional B are float constants of the normalized shape (leading 1s aside), copied into the op's
 * weight and bias (no B: the bias stays 0). The statistics are summed in double whatever stash_type
 * says (float or double: at least its precision); the Mean and InvStdDev outputs must be unused
 * (node_importers). */
/* Whether constant t has the shape of full's axes from `axis` on (leading 1s aside). */
static bool normalized_shape(const Onnx__TensorProto *t, const int64_t *full, int64_t rank, int64_t axis) {
    size_t lead = 0; /* leading 1s */
    while (lead < t->n_dims && t->dims[lead] == 1 && (int64_t)(t->n_dims - lead) > rank - axis)
        lead++;
    int64_t cols = 1;
    for (int64_t i = axis; i < rank; i++)
        cols *= full[i];
    bool ok = tensor_numel(t) == cols && (int64_t)(t->n_dims - lead) <= rank - axis;
    for (size_t k = lead; ok && k < t->n_dims; k++)
        ok = t->dims[k] == full[rank - (int64_t)(t->n_dims - k)];
    return ok;
}

static aic_status op_layernorm(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                               const aic_value_info *xi, aic_value *y) {
    const int64_t stash = attr_int(n, "stash_type", 1);
    int64_t axis = 0, full[AIC_MAX_DIMS];
    const int64_t rank = sym_shape(xi, full);
    AIC_TRY(sample_axis(im, n, xi, -1, &axis));
    if (stash != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && stash != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
        return unsupported(im, "stash_type %" PRId64 " is not float or double", stash);
    const float eps = attr_float(n, "epsilon", 1e-5f);
    if (!(eps >= 0.0f))
        return unsupported(im, "epsilon %g is negative", eps);
    if (axis < xi->batch_axis)
        return unsupported(im, "the normalized axes from %" PRId64 " on include the batch axis %d", axis,
                           xi->batch_axis);
    int64_t cols = 1;
    for (int64_t i = axis; i < rank; i++)
        cols *= full[i];
    const Onnx__TensorProto *t[2];
    static const char *const roles[2] = {"Scale", "B"};
    for (int i = 0; i < 2; i++) {
        AIC_TRY(const_in(im, n, (size_t)i + 1, i == 1, &t[i]));
        if (!t[i])
            continue;
        AIC_TRY(need_float(im, t[i], roles[i]));
        if (!normalized_shape(t[i], full, rank, axis))
            return unsupported(im, "%s must have X's shape from axis %" PRId64 " on (%" PRId64 " values)", roles[i],
                               axis, cols);
    }
    AIC_TRY(built(im, aic_layernorm(im->m, name, x, (int)axis, eps, true, y)));
    AIC_TRY(add_job(im, name, "weight", false, t[0], false, 1, cols, 1.0f));
    return t[1] ? add_job(im, name, "bias", false, t[1], false, 1, cols, 1.0f) : AIC_OK;
}

/* Tensor `name` as a float constant of n values (a scalar: n 1), or NULL; also the value of a
 * Constant node not imported yet (a fusion looks ahead of the import order). */
static const Onnx__TensorProto *float_const(const importer *im, const char *name, int64_t n) {
    const slot *s = name ? table_get(&im->nt, name) : NULL;
    const Onnx__TensorProto *t = s && s->kind == V_CONST ? s->t : NULL;
    if (s && s->kind == V_NONE && s->maker >= 0 && is_op(im->g->node[s->maker], "Constant")) {
        const Onnx__AttributeProto *a = attr(im->g->node[s->maker], "value");
        t = a ? a->t : NULL;
    }
    return t && is_float(t) && tensor_numel(t) == n ? t : NULL;
}

/* Node k if it has type `type`, reads tensor `in` as input `pos` and has `n_in` inputs; else NULL. */
static const Onnx__NodeProto *node_of(const importer *im, long k, const char *type, const char *in, size_t pos,
                                      size_t n_in) {
    const Onnx__NodeProto *n = k >= 0 ? im->g->node[k] : NULL;
    if (!is_op(n, type) || n->n_input != n_in || strcmp(n->input[pos], in) != 0 ||
        n->n_output < 1 || (n->domain && n->domain[0]))
        return NULL;
    return n;
}

/* Whether ReduceMean node r reduces exactly the axes from `axis` to the last of a rank-`rank` input,
 * keeping them (its axes an attribute, as below opset 18). */
static bool mean_over_tail(const Onnx__NodeProto *r, int64_t rank, int64_t *axis) {
    const Onnx__AttributeProto *a = attr(r, "axes");
    if (!a || a->n_ints < 1 || a->n_ints >= (size_t)rank || r->n_input != 1 || attr_int(r, "keepdims", 1) != 1)
        return false;
    unsigned seen = 0;
    for (size_t i = 0; i < a->n_ints; i++) {
        const int64_t v = a->ints[i] < 0 ? a->ints[i] + rank : a->ints[i];
        if (v < 0 || v >= rank)
            return false;
        seen |= 1u << v;
    }
    *axis = rank - (int64_t)a->n_ints;
    return seen == ((1u << rank) - 1) - ((1u << *axis) - 1);
}

/* PyTorch below opset 17 writes nn.LayerNorm as ReduceMean, Sub, Pow(2), ReduceMean, Add(eps), Sqrt,
 * Div, then Mul(weight) and Add(bias). From its first ReduceMean (node n) that chain is imported as one
 * aic_layernorm, the weight and bias trained as the file's LayerNormalization's would be; the other
 * nodes are marked fused (their intermediate values must have no other reader). *matched stays false
 * where n does not start the chain, and n is imported as itself. */
static aic_status fuse_layernorm(importer *im, const Onnx__NodeProto *n, const char *name, bool *matched) {
    *matched = false;
    const slot *xs = in_name(n, 0) ? table_get(&im->nt, in_name(n, 0)) : NULL;
    if (!xs || xs->kind != V_ACT)
        return AIC_OK;
    const aic_value_info *xi = &im->m->values[xs->v];
    int64_t full[AIC_MAX_DIMS], axis, axis2;
    const int64_t rank = sym_shape(xi, full);
    if (!mean_over_tail(n, rank, &axis) || axis <= xi->batch_axis)
        return AIC_OK;
    const char *x = n->input[0];
    long k[8]; /* Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add */
    const Onnx__NodeProto *sub = node_of(im, k[0] = sole_reader(im, n->output[0]), "Sub", n->output[0], 1, 2);
    if (!sub || strcmp(sub->input[0], x) != 0)
        return AIC_OK;
    const char *d = sub->output[0];
    const Onnx__GraphProto *g = im->g;
    k[1] = k[5] = -1; /* d's two readers: Pow(d, 2) and Div(d, .) */
    int readers = 0;
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t j = 0; j < g->node[i]->n_input; j++)
            if (strcmp(g->node[i]->input[j], d) == 0) {
                readers++;
                *(is_op(g->node[i], "Pow") ? &k[1] : &k[5]) = (long)i;
            }
    const Onnx__NodeProto *pow = node_of(im, k[1], "Pow", d, 0, 2), *div = node_of(im, k[5], "Div", d, 0, 2);
    const Onnx__TensorProto *two = pow ? float_const(im, pow->input[1], 1) : NULL;
    if (readers != 2 || !div || !two || float_at(two, 0) != 2.0f || graph_output(im, d))
        return AIC_OK;
    const Onnx__NodeProto *var = node_of(im, k[2] = sole_reader(im, pow->output[0]), "ReduceMean", pow->output[0],
                                         0, 1);
    if (!var || !mean_over_tail(var, rank, &axis2) || axis2 != axis)
        return AIC_OK;
    const Onnx__NodeProto *add = node_of(im, k[3] = sole_reader(im, var->output[0]), "Add", var->output[0], 0, 2);
    const Onnx__TensorProto *eps = add ? float_const(im, add->input[1], 1) : NULL;
    const Onnx__NodeProto *sq = add ? node_of(im, k[4] = sole_reader(im, add->output[0]), "Sqrt", add->output[0], 0, 1)
                                    : NULL;
    if (!eps || !(float_at(eps, 0) >= 0.0f) || !sq || sole_reader(im, sq->output[0]) != k[5] ||
        strcmp(div->input[1], sq->output[0]) != 0)
        return AIC_OK;
    int64_t cols = 1;
    for (int64_t i = axis; i < rank; i++)
        cols *= full[i];
    const char *wname = binary_with(im, k[6] = sole_reader(im, div->output[0]), "Mul", div->output[0]);
    const Onnx__TensorProto *w = float_const(im, wname, cols), *b = NULL;
    if (w && normalized_shape(w, full, rank, axis)) {
        const char *bname = binary_with(im, k[7] = sole_reader(im, g->node[k[6]]->output[0]), "Add",
                                        g->node[k[6]]->output[0]);
        b = float_const(im, bname, cols);
        if (!b || !normalized_shape(b, full, rank, axis))
            w = b = NULL;
    } else {
        w = NULL;
    }
    aic_value y;
    AIC_TRY(built(im, aic_layernorm(im->m, name, xs->v, (int)axis, float_at(eps, 0), w != NULL, &y)));
    if (w) {
        AIC_TRY(add_job(im, name, "weight", false, w, false, 1, cols, 1.0f));
        AIC_TRY(add_job(im, name, "bias", false, b, false, 1, cols, 1.0f));
    }
    const int last = w ? 7 : 5;
    for (int i = 0; i <= last; i++)
        im->fused[k[i]] = true;
    slot *o = table_get(&im->nt, g->node[k[last]]->output[0]);
    o->kind = V_ACT;
    o->v = y;
    *matched = true;
    return AIC_OK;
}

/* The unary ops of layers/unary_ops.def by aic_unary_kind: aicon's name, float attributes and their
 * defaults (the ONNX type, the first opset and the attributes known are in node_importers). */
static const struct {
    const char *op;
    const char *attr[AIC_UNARY_MAX_ATTRS];
    float def[AIC_UNARY_MAX_ATTRS];
} unary_ops[] = {
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) {#name, {a0, a1}, {d0, d1}},
#include "layers/unary_ops.def"
#undef AIC_UNARY
};

/* Pow(X, Y) with Y a scalar constant (floating or integer: torch exports x.pow(2) with a float
 * one) on an activation X: the unary op pow with attribute exponent = Y; with Y an activation or a
 * constant of more values, the binary op pow. */
static aic_status op_pow(importer *im, const Onnx__NodeProto *n, const char *name, aic_value x, aic_value *y) {
    if (attr(n, "exponent"))
        return unsupported(im, "Pow has no attribute 'exponent'; the exponent is input Y");
    const slot *s1 = in_name(n, 1) ? table_get(&im->nt, in_name(n, 1)) : NULL;
    if (s1 && s1->kind == V_ACT)
        return built(im, aic_binary(im->m, name, AIC_BINOP_POW, x, s1->v, y));
    const Onnx__TensorProto *t;
    AIC_TRY(const_in(im, n, 1, false, &t));
    if (tensor_numel(t) != 1 && is_float(t) && t->n_dims <= AIC_MAX_DIMS) {
        AIC_TRY(built(im, aic_binary_const(im->m, name, AIC_BINOP_POW, x, (int)t->n_dims, t->dims, false, y)));
        return add_job(im, name, "constant", true, t, false, 1, tensor_numel(t), 1.0f);
    }
    if (tensor_numel(t) != 1)
        return unsupported(im, "the exponent Y must be a scalar constant (it has %" PRId64 " values)",
                           tensor_numel(t));
    float e;
    if (is_float(t))
        e = float_at(t, 0);
    else if (t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
        e = (float)int64_at(t, 0);
    else
        return unsupported(im, "the exponent Y has element type %" PRId32 "; aicon reads a floating type or int64",
                           t->data_type);
    return built(im, aic_unary(im->m, "pow", name, x, &e, y));
}

static aic_status op_unary(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                           const aic_value_info *xi, aic_value *y) {
    const int u = variant; /* its aic_unary_kind */
    float attrs[AIC_UNARY_MAX_ATTRS];
    if (u == AIC_UNARY_POW) /* the exponent is input Y, not an attribute */
        return op_pow(im, n, name, x, y);
    for (int i = 0; i < AIC_UNARY_MAX_ATTRS && unary_ops[u].attr[i]; i++) {
        const Onnx__AttributeProto *a = attr(n, unary_ops[u].attr[i]);
        /* IsInf's detect_positive and detect_negative are ints (its row in node_importers) */
        attrs[i] = a && a->has_i ? (float)(a->i != 0) : attr_float(n, unary_ops[u].attr[i], unary_ops[u].def[i]);
    }
    return built(im, aic_unary(im->m, unary_ops[u].op, name, x, attrs, y));
}

static const attr_spec reduce_attrs[] = {{"axes", A_INTS}, {"keepdims", A_INT}, {"noop_with_empty_axes", A_INT},
                                         {NULL, 0}};

/* Reduce* (layers/reduce_ops.def): the axes an attribute, or an int64 constant input (ReduceSum from
 * opset 13, the others from 18); keepdims (default 1). No axes means every axis, the batch among them,
 * which is refused as any axis over the batch is; with noop_with_empty_axes, the input unchanged. */
static aic_status op_reduce(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                            const aic_value_info *xi, aic_value *y) {
    static const char *const names[AIC_REDUCE_COUNT] = {
#define AIC_REDUCE(E, rname, onnx) [AIC_REDUCE_##E] = #rname,
#include "layers/reduce_ops.def"
#undef AIC_REDUCE
    };
    const int64_t rank = xi->ndim + 1;
    int axes[AIC_MAX_DIMS];
    size_t n_axes = 0;
    const Onnx__AttributeProto *a = attr(n, "axes");
    const Onnx__TensorProto *t = NULL;
    if (in_name(n, 1)) {
        AIC_TRY(const_in(im, n, 1, false, &t));
        if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || t->n_dims > 1)
            return unsupported(im, "axes must be an int64 constant of rank 0 or 1");
        if (a)
            return unsupported(im, "axes is both an attribute and an input");
    }
    const size_t count = t ? (size_t)tensor_numel(t) : a ? a->n_ints : 0;
    if (count > (size_t)rank)
        return unsupported(im, "%zu axes for rank %" PRId64, count, rank);
    for (; n_axes < count; n_axes++) {
        const int64_t v = t ? int64_at(t, (int64_t)n_axes) : a->ints[n_axes];
        if (v < -rank || v >= rank)
            return unsupported(im, "axis %" PRId64 " is out of range for rank %" PRId64, v, rank);
        if (v == 0 || v == -rank)
            return unsupported(im, "axis %" PRId64 " reduces over the batch; aicon reduces within each sample", v);
        axes[n_axes] = (int)v;
    }
    if (n_axes == 0 && attr_int(n, "noop_with_empty_axes", 0)) { /* the identity */
        int64_t shape[AIC_MAX_DIMS];
        memcpy(shape, xi->shape, sizeof shape);
        return built(im, aic_reshape(im->m, name, x, xi->ndim, shape, y));
    }
    if (n_axes == 0)
        return unsupported(im, "no axes: ONNX reduces over every axis, the batch included; aicon reduces within "
                               "each sample");
    return built(im, aic_reduce(im->m, names[variant], name, x, (int)n_axes, axes, attr_int(n, "keepdims", 1) != 0,
                                y));
}

/* Softmax, LogSoftmax and Hardmax over one per-sample axis. Before opset 13 the ops flattened the axes
 * from `axis` on (default 1), which is the same only when `axis` is the last one. */
static aic_status op_softmax(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                             const aic_value_info *xi, aic_value *y) {
    const int64_t rank = xi->ndim + 1, opset = opset_of(im, n->domain);
    int64_t axis = 0;
    AIC_TRY(sample_axis(im, n, xi, opset >= 13 ? -1 : 1, &axis));
    if (opset < 13 && axis != rank - 1)
        return unsupported(im, "before opset 13 %s on axis %" PRId64 " of rank %" PRId64
                               " flattens the axes after it; aicon runs only the last axis there",
                           n->op_type, axis, rank);
    aic_status (*build)(aic_model_t *, const char *, aic_value, int, aic_value *) =
        variant == AIC_OP_LOG_SOFTMAX ? aic_log_softmax : variant == AIC_OP_HARDMAX ? aic_hardmax : aic_softmax;
    return built(im, build(im->m, name, x, (int)axis, y));
}

static const attr_spec argmax_attrs[] = {{"axis", A_INT}, {"keepdims", A_INT}, {"select_last_index", A_INT},
                                         {NULL, 0}};

/* ArgMax, and ArgMin (variant 1): int64 in ONNX, int32 in aicon. The default axis 0 is the batch,
 * refused as any axis over the batch is. */
static aic_status op_argmax(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                            const aic_value_info *xi, aic_value *y) {
    int64_t axis = 0;
    AIC_TRY(sample_axis(im, n, xi, 0, &axis));
    return built(im, aic_argmax(im->m, name, x, (int)axis, variant == 1, attr_int(n, "select_last_index", 0) != 0,
                                attr_int(n, "keepdims", 1) != 0, y));
}

static const attr_spec clip_attrs[] = {{"min", A_FLOAT}, {"max", A_FLOAT}, {NULL, 0}};

/* Clip: bounds are attributes before opset 11 and optional scalar constant inputs from it on. */
static aic_status op_clip(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                          const aic_value_info *xi, aic_value *y) {
    float bound[2] = {attr_float(n, "min", -INFINITY), attr_float(n, "max", INFINITY)};
    for (size_t i = 0; i < 2; i++) {
        if (!in_name(n, i + 1))
            continue;
        const Onnx__TensorProto *t;
        AIC_TRY(const_in(im, n, i + 1, false, &t));
        if (!is_float(t) || tensor_numel(t) != 1)
            return unsupported(im, "%s must be a float scalar constant", i ? "max" : "min");
        bound[i] = float_at(t, 0);
    }
    return built(im, aic_clip(im->m, name, x, bound[0], bound[1], y));
}

static const attr_spec dropout_attrs[] = {{"ratio", A_FLOAT}, {"seed", A_INT}, {"is_test", A_INT}, {NULL, 0}};

static aic_status op_dropout(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                             const aic_value_info *xi, aic_value *y) {
    float p = attr_float(n, "ratio", 0.5f);
    if (in_name(n, 1)) {
        const Onnx__TensorProto *r;
        AIC_TRY(const_in(im, n, 1, false, &r));
        if (!is_float(r) || tensor_numel(r) != 1)
            return unsupported(im, "ratio must be a float scalar constant");
        p = float_at(r, 0);
    }
    if (in_name(n, 2)) {
        /* training_mode: false in an eval export, true in a training export. Either way aicon drops
         * out while it trains and passes values through when it evaluates, as PyTorch's module does
         * in train() and eval(); it needs only to be a known constant. */
        const Onnx__TensorProto *tm;
        AIC_TRY(const_in(im, n, 2, false, &tm));
        if (tm->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__BOOL || tensor_numel(tm) != 1)
            return unsupported(im, "training_mode must be a boolean scalar constant");
    }
    if (!(p >= 0.0f && p < 1.0f))
        return unsupported(im, "ratio %g is outside [0, 1)", p);
    return built(im, aic_dropout(im->m, name, x, p, y));
}

/* A new value (op `name`) holding x's elements in x's shape: a reshape to the same shape, no copy. */
static aic_status same_value(importer *im, const char *name, aic_value x, aic_value *y) {
    const aic_value_info *xi = &im->m->values[x];
    int64_t shape[AIC_MAX_DIMS];
    memcpy(shape, xi->shape + xi->batch_axis, sizeof(int64_t) * (size_t)(xi->ndim - xi->batch_axis));
    return built(im, aic_reshape(im->m, name, x, xi->ndim - xi->batch_axis, shape, y));
}

static aic_status op_identity(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    const char *in = in_name(n, 0);
    slot *s = in ? table_get(&im->nt, in) : NULL;
    if (s && s->kind == V_CONST) { /* a constant stays a constant */
        slot *o = table_get(&im->nt, n->output[0]);
        o->kind = V_CONST;
        o->t = s->t;
        return AIC_OK;
    }
    aic_value x, y;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    AIC_TRY(same_value(im, name, x, &y));
    set_act(im, n, y);
    return AIC_OK;
}

static aic_status op_flatten(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                             const aic_value_info *xi, aic_value *y) {
    int64_t axis = attr_int(n, "axis", 1), rank = xi->ndim + 1, full[AIC_MAX_DIMS];
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis > rank)
        return unsupported(im, "axis %" PRId64 " is out of range for rank %" PRId64, attr_int(n, "axis", 1), rank);
    if (axis == 1 && xi->batch_axis == 0)
        return built(im, aic_flatten(im->m, name, x, y));
    /* two axes, the batch in the one that holds the batch axis with what else it merges */
    aic_value_full_shape(xi, 1, full);
    int64_t side[2] = {1, 1};
    for (int64_t i = 0; i < rank; i++)
        if (i != xi->batch_axis)
            side[i >= axis] *= full[i];
    side[xi->batch_axis >= axis] = AIC_DIM_BATCH;
    return built(im, aic_reshape_full(im->m, name, x, 2, side, y));
}

/* ---- shape computations, folded at import ------------------------------------------------------ */

/* Whether input k is an int64 scalar or vector known at import (a V_SHAPE or an int64 constant). */
static bool shape_like(const importer *im, const Onnx__NodeProto *n, size_t k) {
    const char *name = in_name(n, k);
    const slot *s = name ? table_get(&im->nt, name) : NULL;
    if (!s)
        return false;
    if (s->kind == V_SHAPE)
        return true;
    return s->kind == V_CONST && s->t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && s->t->n_dims <= 1 &&
           tensor_numel(s->t) <= SHAPE_MAX;
}

/* Input k as an int64 scalar (rank 0) or vector (rank 1) known at import. */
static aic_status shape_in(importer *im, const Onnx__NodeProto *n, size_t k, int64_t v[SHAPE_MAX], int *len,
                           int *rank) {
    if (!shape_like(im, n, k))
        return unsupported(im, "input %zu must be an int64 constant or shape computation of at most %d entries", k,
                           SHAPE_MAX);
    const slot *s = table_get(&im->nt, in_name(n, k));
    if (s->kind == V_SHAPE) {
        memcpy(v, s->sh, sizeof s->sh);
        *len = s->sh_len;
        *rank = s->sh_rank;
    } else {
        *len = (int)tensor_numel(s->t);
        *rank = (int)s->t->n_dims;
        for (int i = 0; i < *len; i++)
            v[i] = int64_at(s->t, i);
    }
    return AIC_OK;
}

static void set_shape(importer *im, const Onnx__NodeProto *n, const int64_t *v, int len, int rank) {
    slot *s = table_get(&im->nt, n->output[0]);
    s->kind = V_SHAPE;
    s->sh_len = len;
    s->sh_rank = rank;
    memcpy(s->sh, v, (size_t)len * sizeof *v);
}

static const attr_spec shape_attrs[] = {{"start", A_INT}, {"end", A_INT}, {NULL, 0}};

/* Shape of an activation: its full shape, the batch axis marked, sliced by start and end (opset 15). */
static aic_status op_shape(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    aic_value x;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    int64_t full[SHAPE_MAX];
    const int64_t rank = sym_shape(xi, full);
    int64_t start = attr_int(n, "start", 0), end = attr_int(n, "end", rank);
    if (start < 0)
        start += rank;
    if (end < 0)
        end += rank;
    start = start < 0 ? 0 : start > rank ? rank : start;
    end = end < 0 ? 0 : end > rank ? rank : end;
    if (end <= start)
        return unsupported(im, "an empty shape (start %" PRId64 ", end %" PRId64 ")", start, end);
    set_shape(im, n, full + start, (int)(end - start), 1);
    return AIC_OK;
}

/* Gather along axis 0 of a shape vector, at constant indices. */
static aic_status op_gather_shape(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    if (attr_int(n, "axis", 0) != 0)
        return unsupported(im, "axis %" PRId64 " (only 0, on a shape vector)", attr_int(n, "axis", 0));
    int64_t d[SHAPE_MAX], idx[SHAPE_MAX], out[SHAPE_MAX];
    int dl, dr, il, ir;
    AIC_TRY(shape_in(im, n, 0, d, &dl, &dr));
    AIC_TRY(shape_in(im, n, 1, idx, &il, &ir));
    if (dr != 1)
        return unsupported(im, "the data must be a 1-D shape vector");
    for (int i = 0; i < il; i++) {
        int64_t k = idx[i];
        if (IS_BATCH_TIMES(k) || k < -dl || k >= dl)
            return unsupported(im, "index %d is outside the %d entries", i, dl);
        out[i] = d[k < 0 ? k + dl : k];
    }
    set_shape(im, n, out, il, ir);
    return AIC_OK;
}

/* Gather of a float initializer [vocab, dim] (axis 0) at int ids, an activation: an embedding op whose
 * table is the initializer (ONNX's negative ids are refused at run time, as torch.nn.Embedding does). */
static aic_status op_embedding(importer *im, const Onnx__NodeProto *n, const char *name, const Onnx__TensorProto *t) {
    if (attr_int(n, "axis", 0) != 0)
        return unsupported(im, "axis %" PRId64 ": a Gather of an initializer at activation indices is an embedding "
                           "lookup, along axis 0", attr_int(n, "axis", 0));
    if (t->n_dims != 2)
        return unsupported(im, "the table '%.100s' has rank %zu; an embedding table is [vocab, dim]",
                           t->name ? t->name : "", t->n_dims);
    aic_value ids, y;
    const aic_value_info *ii;
    AIC_TRY(act_in(im, n, 1, &ids, &ii));
    if (ii->dtype != AIC_I32)
        return unsupported(im, "the indices '%.100s' are not integers", in_name(n, 1));
    AIC_TRY(built(im, aic_embedding(im->m, name, ids, t->dims[0], t->dims[1], &y)));
    AIC_TRY(add_job(im, name, "weight", false, t, false, 1, tensor_numel(t), 1.0f));
    set_act(im, n, y);
    return AIC_OK;
}

/* Gather of a float activation along a per-sample axis at constant int indices: aic_gather, the axis
 * dropped for a scalar index; indices of rank 2 or more gather their flat list, then a Reshape gives
 * the axis their shape. */
/* Gather from x whose batch is not its first axis (aicon's gather needs it there): the batch moved to
 * the front, the gather, and the batch moved back to where ONNX's output has it. */
static aic_status gather_batch_moved(importer *im, const Onnx__NodeProto *n, const char *name, aic_value x,
                                     const aic_value_info *xi, int axis, int count, const int64_t *idx, bool scalar) {
    const int rank = xi->ndim + 1, ba = xi->batch_axis, at = axis < ba ? ba - scalar : ba;
    int perm[AIC_MAX_DIMS], k = 0;
    perm[k++] = ba;
    for (int i = 0; i < rank; i++)
        if (i != ba)
            perm[k++] = i;
    char aux[AIC_MAX_NAME];
    aic_value xt, g, y;
    AIC_TRY(unique_name(im, name, aux));
    AIC_TRY(built(im, aic_transpose(im->m, aux, x, perm, &xt)));
    AIC_TRY(unique_name(im, name, aux));
    AIC_TRY(built(im, aic_gather(im->m, aux, xt, axis < ba ? axis + 1 : axis, count, idx, scalar, &g)));
    for (int j = 0; j < rank - scalar; j++) /* g: the batch, then the other axes in order */
        perm[j] = j == at ? 0 : j < at ? j + 1 : j;
    AIC_TRY(built(im, aic_transpose(im->m, name, g, perm, &y)));
    set_act(im, n, y);
    return AIC_OK;
}

static aic_status op_gather_act(importer *im, const Onnx__NodeProto *n, const char *name) {
    aic_value x, y;
    const aic_value_info *xi;
    const Onnx__TensorProto *t;
    int64_t axis = 0;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    if (xi->dtype != AIC_F32)
        return unsupported(im, "the data '%.100s' are integers; aicon gathers float activations", in_name(n, 0));
    AIC_TRY(sample_axis(im, n, xi, 0, &axis));
    AIC_TRY(const_in(im, n, 1, false, &t));
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
        return unsupported(im, "the indices have element type %" PRId32 "; ONNX's are int32 or int64", t->data_type);
    const int64_t count = tensor_numel(t);
    if (count < 1 || count > AIC_GATHER_MAX_INDICES)
        return unsupported(im, "%" PRId64 " indices; aicon gathers 1..%d at constant indices", count,
                           AIC_GATHER_MAX_INDICES);
    if (xi->ndim - 1 + (int)t->n_dims > AIC_MAX_DIMS - 1)
        return unsupported(im, "indices of rank %zu on data of rank %d give more than %d dimensions", t->n_dims,
                           xi->ndim + 1, AIC_MAX_DIMS);
    int64_t idx[AIC_GATHER_MAX_INDICES];
    for (int64_t k = 0; k < count; k++)
        idx[k] = aic_onnx_int_at(t, k);
    if (xi->batch_axis != 0 && t->n_dims <= 1) /* LSTM's Y_h[-1]: dirs x N x H */
        return gather_batch_moved(im, n, name, x, xi, (int)axis, (int)count, idx, t->n_dims == 0);
    if (t->n_dims <= 1)
        AIC_TRY(built(im, aic_gather(im->m, name, x, (int)axis, (int)count, idx, t->n_dims == 0, &y)));
    else {
        char flat[AIC_MAX_NAME];
        int64_t shape[AIC_MAX_DIMS];
        int nd = 0;
        aic_value g;
        AIC_TRY(unique_name(im, name, flat));
        AIC_TRY(built(im, aic_gather(im->m, flat, x, (int)axis, (int)count, idx, false, &g)));
        for (int i = 0; i < xi->ndim; i++) {
            if (i != axis - 1)
                shape[nd++] = xi->shape[i];
            for (size_t k = 0; i == axis - 1 && k < t->n_dims; k++)
                shape[nd++] = t->dims[k];
        }
        AIC_TRY(built(im, aic_reshape(im->m, name, g, nd, shape, &y)));
    }
    set_act(im, n, y);
    return AIC_OK;
}

/* Gather: an embedding lookup, a gather of an activation, or a shape computation folded at import. */
static aic_status op_gather_any(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    const slot *data = in_name(n, 0) ? table_get(&im->nt, in_name(n, 0)) : NULL;
    const slot *ids = in_name(n, 1) ? table_get(&im->nt, in_name(n, 1)) : NULL;
    if (data && ids && data->kind == V_CONST && aic_onnx_is_floating(data->t) && ids->kind == V_ACT)
        return op_embedding(im, n, name, data->t);
    if (data && data->kind == V_ACT)
        return op_gather_act(im, n, name);
    return op_gather_shape(im, n, name, variant);
}

static const attr_spec class_loss_attrs[] = {{"ignore_index", A_INT}, {"reduction", A_STRING}, {NULL, 0}};

/* SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss (opset 12 on): scores N x C x d1 x ... and int
 * labels N x d1 x ..., reduction 'mean' (the default), 'sum' or 'none', an optional ignore_index, and
 * optional class weights: a float constant of C values, copied into the op's buffer. Where
 * SoftmaxCrossEntropyLoss's log_prob output is named, it is log_softmax over the classes, which nll
 * then reads: both outputs made, the loss as the fused op computes it. */
static aic_status op_class_loss(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                                const aic_value_info *xi, aic_value *y) {
    AIC_TRY(check_attrs(im, n, class_loss_attrs));
    const bool log_prob = variant == AIC_OP_SOFTMAX_XENT && n->n_output > 1 && n->output[1][0];
    AIC_TRY(outputs_at_most(im, n, variant == AIC_OP_SOFTMAX_XENT ? 2 : 1, "the op has no more"));
    char buf[16];
    const char *reduction = attr_string(n, "reduction", "mean", buf, sizeof buf);
    int r = 0;
    while (aic_xent_reduction_name(r) && strcmp(reduction, aic_xent_reduction_name(r)) != 0)
        r++;
    if (!aic_xent_reduction_name(r))
        return unsupported(im, "reduction '%s' is not 'mean', 'sum' or 'none'", reduction);
    const Onnx__TensorProto *w;
    AIC_TRY(const_in(im, n, 2, true, &w));
    if (w) {
        AIC_TRY(need_float(im, w, "the class weights"));
        if (w->n_dims != 1 || xi->ndim < 1 || w->dims[0] != xi->shape[0])
            return unsupported(im, "the class weights '%.100s' are not a vector of the %" PRId64 " classes",
                               in_name(n, 2), xi->shape[0]);
    }
    aic_value labels;
    const aic_value_info *li;
    AIC_TRY(act_in(im, n, 1, &labels, &li));
    if (li->dtype != AIC_I32)
        return unsupported(im, "the labels '%.100s' are not integers (an int32 or int64 graph input)", in_name(n, 1));
    const int64_t ignore = attr_int(n, "ignore_index", 0);
    if (ignore < INT32_MIN || ignore > INT32_MAX)
        return unsupported(im, "ignore_index %" PRId64 " is outside int32, which aicon's labels are", ignore);
    const aic_xent_opts o = {.class_axis = 1, .has_ignore = attr(n, "ignore_index") != NULL,
                             .ignore_index = (int)ignore, .reduction = (aic_loss_reduction)r,
                             .class_weights = w != NULL};
    if (log_prob) {
        char lsm[AIC_MAX_NAME];
        AIC_TRY(unique_name(im, n->output[1], lsm));
        AIC_TRY(built(im, aic_log_softmax(im->m, lsm, x, 1, &x)));
        set_output(im, n, 1, x);
    }
    aic_status (*build)(aic_model_t *, const char *, aic_value, aic_value, const aic_xent_opts *, aic_value *) =
        variant == AIC_OP_NLL || log_prob ? aic_nll : aic_cross_entropy;
    AIC_TRY(built(im, build(im->m, name, x, labels, &o, y)));
    return w ? add_job(im, name, "weight", true, w, false, 1, xi->shape[0], 1.0f) : AIC_OK;
}

static const attr_spec unsqueeze_attrs[] = {{"axes", A_INTS}, {NULL, 0}};

/* Unsqueeze of a scalar into a 1-element vector (axes [0]: an attribute before opset 13, an input from 13). */
static aic_status op_unsqueeze_shape(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    int64_t v[SHAPE_MAX], axes[SHAPE_MAX];
    int len, rank, na = 0, ar;
    AIC_TRY(shape_in(im, n, 0, v, &len, &rank));
    const Onnx__AttributeProto *a = attr(n, "axes");
    if (a) {
        if (a->n_ints > SHAPE_MAX)
            return unsupported(im, "too many axes");
        na = (int)a->n_ints;
        for (int i = 0; i < na; i++)
            axes[i] = a->ints[i];
    } else if (in_name(n, 1)) {
        AIC_TRY(shape_in(im, n, 1, axes, &na, &ar));
    }
    if (rank != 0 || na != 1 || (axes[0] != 0 && axes[0] != -1))
        return unsupported(im, "only a scalar shape entry unsqueezed at axis 0 is folded");
    set_shape(im, n, v, 1, 1);
    return AIC_OK;
}

/* Concat (axis 0) of shape vectors and int64 constants. */
static aic_status op_concat_shape(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    int64_t axis = attr_int(n, "axis", 0);
    if (axis != 0 && axis != -1)
        return unsupported(im, "axis %" PRId64 " of 1-D shape vectors", axis);
    int64_t out[SHAPE_MAX], v[SHAPE_MAX];
    int len = 0;
    for (size_t k = 0; k < n->n_input; k++) {
        int l, r;
        AIC_TRY(shape_in(im, n, k, v, &l, &r));
        if (r != 1)
            return unsupported(im, "input %zu is a scalar; Concat needs vectors", k);
        if (len + l > SHAPE_MAX)
            return unsupported(im, "more than %d entries", SHAPE_MAX);
        memcpy(out + len, v, (size_t)l * sizeof *v);
        len += l;
    }
    if (len == 0)
        return unsupported(im, "an empty shape");
    set_shape(im, n, out, len, 1);
    return AIC_OK;
}

static const attr_spec cast_attrs[] = {{"to", A_INT}, {"saturate", A_INT}, {NULL, 0}};

/* Input 0 cast to element type `to`: a float activation to bool (x != 0) or to any floating type (the
 * identity: aicon computes in float32, as it reads every floating input), a shape computation to int64
 * (nothing to do). */
static aic_status cast_to(importer *im, const Onnx__NodeProto *n, const char *name, int64_t to) {
    const slot *s = in_name(n, 0) ? table_get(&im->nt, in_name(n, 0)) : NULL;
    if (s && s->kind == V_ACT && im->m->values[s->v].dtype == AIC_F32 && to == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL) {
        /* bools are floats 0 and 1: x != 0 is x or 0 */
        aic_value y;
        AIC_TRY(built(im, aic_binary_const(im->m, name, AIC_BINOP_OR, s->v, 0, NULL, false, &y)));
        set_act(im, n, y);
        return AIC_OK;
    }
    if (s && s->kind == V_ACT && im->m->values[s->v].dtype == AIC_F32 &&
        aic_onnx_is_floating(&(const Onnx__TensorProto){.data_type = (int32_t)to})) {
        /* aicon computes in float32 whatever the file's floating type: a Cast between them is the identity */
        aic_value y;
        AIC_TRY(same_value(im, name, s->v, &y));
        set_act(im, n, y);
        return AIC_OK;
    }
    if (s && s->kind == V_ACT && im->m->values[s->v].dtype == AIC_I32 &&
        (to == ONNX__TENSOR_PROTO__DATA_TYPE__INT32 || to == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)) {
        /* aicon holds int64 indices as int32 (ArgMax's; its export casts them to int32) */
        aic_value y;
        AIC_TRY(same_value(im, name, s->v, &y));
        set_act(im, n, y);
        return AIC_OK;
    }
    if (to != ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
        return unsupported(im, "only a Cast between float and double of an activation, to int32 or int64 of an "
                               "int activation, or to int64 of a shape computation, is supported");
    int64_t v[SHAPE_MAX];
    int len, rank;
    AIC_TRY(shape_in(im, n, 0, v, &len, &rank));
    set_shape(im, n, v, len, rank);
    return AIC_OK;
}

static aic_status op_cast(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    return cast_to(im, n, name, attr_int(n, "to", 0));
}

static const attr_spec castlike_attrs[] = {{"saturate", A_INT}, {NULL, 0}};

/* The element type the graph declares for value `name` (a graph input or output, a value_info), or 0. */
static int32_t declared_type(const Onnx__GraphProto *g, const char *name) {
    const struct { Onnx__ValueInfoProto **v; size_t n; } lists[] = {
        {g->input, g->n_input}, {g->value_info, g->n_value_info}, {g->output, g->n_output}};
    for (size_t l = 0; l < sizeof lists / sizeof *lists; l++)
        for (size_t i = 0; i < lists[l].n; i++) {
            const Onnx__TypeProto *tp = lists[l].v[i]->type;
            if (lists[l].v[i]->name && strcmp(lists[l].v[i]->name, name) == 0 && tp &&
                tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type &&
                tp->tensor_type->has_elem_type)
                return tp->tensor_type->elem_type;
        }
    return 0;
}

/* CastLike (opset 15): Cast to the element type of input 1, a constant's, else the one the graph declares
 * for it, else the one aicon holds it as. */
static aic_status op_castlike(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    const char *like = in_name(n, 1);
    const slot *s = like ? table_get(&im->nt, like) : NULL;
    if (!s)
        return unsupported(im, "input 1 (like) is missing");
    int32_t to = s->kind == V_CONST ? s->t->data_type : declared_type(im->g, like);
    if (!to && s->kind == V_ACT)
        to = im->m->values[s->v].dtype == AIC_F32 ? ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
                                                  : ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    if (!to && s->kind == V_SHAPE)
        to = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    if (!to)
        return unsupported(im, "the element type of input 'like' ('%.100s') is not known", like);
    return cast_to(im, n, name, to);
}

/* ---- constants computed at import ------------------------------------------------------------- */

#define T_FLOAT ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
#define T_INT64 ONNX__TENSOR_PROTO__DATA_TYPE__INT64
#define T_BOOL ONNX__TENSOR_PROTO__DATA_TYPE__BOOL

/* Element i of a constant: floating types as float32 reads them, integers, bool. */
static double elem_at(const Onnx__TensorProto *t, int64_t i) {
    switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
        return t->has_raw_data ? t->raw_data.data[i] : t->int32_data[i];
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        return (double)int64_at(t, i);
    default:
        return float_at(t, i);
    }
}

/* The type a folded constant holds for one of t's type: float, int64 or bool (0: none of these). */
static int32_t fold_type(const Onnx__TensorProto *t) {
    if (is_float(t))
        return T_FLOAT;
    switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return T_INT64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return T_BOOL;
    default: return 0;
    }
}

/* A constant computed at import, owned by the importer: type T_FLOAT (float_data), T_INT64
 * (int64_data) or T_BOOL (int32_data), its values 0. */
static aic_status new_const(importer *im, int32_t type, int ndim, const int64_t *dims, Onnx__TensorProto **out) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || (dims[i] && n > SAMPLE_LIMIT / dims[i]))
            return unsupported(im, "a constant computed at import would hold more than %" PRId64 " values",
                               (int64_t)SAMPLE_LIMIT);
        n *= dims[i];
    }
    if (!aic_grow((void **)&im->owned, &im->cap_owned, im->n_owned + 1, sizeof *im->owned, 16))
        return nomem();
    Onnx__TensorProto *t = calloc(1, sizeof *t);
    if (!t)
        return nomem();
    im->owned[im->n_owned++] = t;
    onnx__tensor_proto__init(t);
    t->data_type = type;
    t->dims = malloc(sizeof *t->dims * (size_t)(ndim ? ndim : 1));
    const size_t count = (size_t)(n ? n : 1);
    if (type == T_FLOAT)
        t->float_data = calloc(count, sizeof *t->float_data);
    else if (type == T_INT64)
        t->int64_data = calloc(count, sizeof *t->int64_data);
    else
        t->int32_data = calloc(count, sizeof *t->int32_data);
    if (!t->dims || (!t->float_data && !t->int64_data && !t->int32_data))
        return nomem();
    t->n_dims = (size_t)ndim;
    if (ndim)
        memcpy(t->dims, dims, sizeof *dims * (size_t)ndim);
    t->n_float_data = type == T_FLOAT ? (size_t)n : 0;
    t->n_int64_data = type == T_INT64 ? (size_t)n : 0;
    t->n_int32_data = type == T_BOOL ? (size_t)n : 0;
    *out = t;
    return AIC_OK;
}

/* Element i of a folded constant; values past the type's range saturate (no undefined conversion). */
static void set_at(Onnx__TensorProto *t, int64_t i, double v) {
    if (t->data_type == T_FLOAT)
        t->float_data[i] = v != v || fabs(v) <= FLT_MAX ? (float)v : v > 0 ? INFINITY : -INFINITY;
    else if (t->data_type == T_INT64)
        t->int64_data[i] = v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? INT64_MIN : v != v ? 0 : (int64_t)v;
    else
        t->int32_data[i] = v != 0;
}

/* numpy broadcasting of k constants: the output's rank and dims, or unsupported. */
static aic_status broadcast_dims(importer *im, const Onnx__TensorProto *const *in, int k, int *ndim, int64_t *dims) {
    *ndim = 0;
    for (int j = 0; j < k; j++)
        *ndim = (int)in[j]->n_dims > *ndim ? (int)in[j]->n_dims : *ndim;
    if (*ndim > AIC_MAX_DIMS)
        return unsupported(im, "constants of rank %d (at most %d)", *ndim, AIC_MAX_DIMS);
    for (int d = 0; d < *ndim; d++) {
        dims[d] = 1;
        for (int j = 0; j < k; j++) {
            const int off = *ndim - (int)in[j]->n_dims;
            const int64_t v = d < off ? 1 : in[j]->dims[d - off];
            if (v != 1 && dims[d] != 1 && v != dims[d])
                return unsupported(im, "constants of shapes that do not broadcast");
            if (v != 1)
                dims[d] = v;
        }
    }
    return AIC_OK;
}

/* Offset in t of the output element at multi-index idx (broadcast: t's dims of 1 stay at 0). */
static int64_t broadcast_offset(const Onnx__TensorProto *t, int ndim, const int64_t *idx) {
    int64_t off = 0;
    const int lead = ndim - (int)t->n_dims;
    for (int d = lead; d < ndim; d++)
        off = off * t->dims[d - lead] + (t->dims[d - lead] == 1 ? 0 : idx[d]);
    return off;
}

/* Elementwise ops over constants (numpy broadcasting): comparisons and logic give bool, Cast the
 * type asked, arithmetic the inputs' type (integer division truncates, as ONNX's). */
static aic_status fold_elementwise(importer *im, const Onnx__NodeProto *n, const Onnx__TensorProto *const *in,
                                   int k, Onnx__TensorProto **out) {
    const char *op = n->op_type;
    const bool logic = !strcmp(op, "Equal") || !strcmp(op, "Less") || !strcmp(op, "Greater") ||
                       !strcmp(op, "Not") || !strcmp(op, "And") || !strcmp(op, "Or") || !strcmp(op, "Xor") ||
                       !strcmp(op, "LessOrEqual") || !strcmp(op, "GreaterOrEqual");
    const int want = !strcmp(op, "Where") ? 3 : !strcmp(op, "Not") || !strcmp(op, "Cast") || !strcmp(op, "Neg") ||
                                                    !strcmp(op, "Sqrt") || !strcmp(op, "Reciprocal")
                                                    ? 1
                                                    : 2;
    if (k != want)
        return unsupported(im, "%d inputs; %s takes %d", k, op, want);
    for (int j = 0; j < k; j++)
        if (!in[j])
            return unsupported(im, "input %d is missing", j);
    int32_t type = fold_type(in[!strcmp(op, "Where") ? 1 : 0]);
    if (logic)
        type = T_BOOL;
    if (!strcmp(op, "Cast")) {
        const int64_t to = attr_int(n, "to", 0);
        const Onnx__TensorProto probe = {.data_type = (int32_t)to};
        type = fold_type(&probe);
        if (type == T_BOOL) /* a float constant of 0 and 1, as aicon's bool activations, usable as weights */
            type = T_FLOAT;
    }
    for (int j = 0; j < k; j++)
        if (!fold_type(in[j]))
            return unsupported(im, "a constant of element type %" PRId32 " aicon cannot compute with",
                               in[j]->data_type);
    if (!type)
        return unsupported(im, "a Cast to element type %" PRId64, attr_int(n, "to", 0));
    int ndim;
    int64_t dims[AIC_MAX_DIMS], idx[AIC_MAX_DIMS] = {0};
    AIC_TRY(broadcast_dims(im, in, k, &ndim, dims));
    AIC_TRY(new_const(im, type, ndim, dims, out));
    const int64_t total = tensor_numel(*out);
    for (int64_t o = 0; o < total; o++) {
        double v[3] = {0};
        for (int j = 0; j < k; j++)
            v[j] = elem_at(in[j], broadcast_offset(in[j], ndim, idx));
        double r;
        if (!strcmp(op, "Equal")) r = v[0] == v[1];
        else if (!strcmp(op, "Less")) r = v[0] < v[1];
        else if (!strcmp(op, "Greater")) r = v[0] > v[1];
        else if (!strcmp(op, "Not")) r = v[0] == 0;
        else if (!strcmp(op, "Xor")) r = (v[0] != 0) != (v[1] != 0);
        else if (!strcmp(op, "LessOrEqual")) r = v[0] <= v[1];
        else if (!strcmp(op, "GreaterOrEqual")) r = v[0] >= v[1];
        else if (!strcmp(op, "And")) r = v[0] != 0 && v[1] != 0;
        else if (!strcmp(op, "Or")) r = v[0] != 0 || v[1] != 0;
        else if (!strcmp(op, "Where")) r = v[0] != 0 ? v[1] : v[2];
        else if (!strcmp(op, "Add")) r = v[0] + v[1];
        else if (!strcmp(op, "Sub")) r = v[0] - v[1];
        else if (!strcmp(op, "Mul")) r = v[0] * v[1];
        else if (!strcmp(op, "Div")) r = type == T_INT64 ? (v[1] ? trunc(v[0] / v[1]) : 0) : v[0] / v[1];
        else if (!strcmp(op, "Pow")) r = type == T_FLOAT ? powf((float)v[0], (float)v[1]) : pow(v[0], v[1]);
        else if (!strcmp(op, "Reciprocal")) r = 1.0f / (float)v[0];
        else if (!strcmp(op, "Sqrt")) r = sqrtf((float)v[0]);
        else if (!strcmp(op, "Neg")) r = -v[0];
        else r = !strcmp(op, "Cast") && attr_int(n, "to", 0) == T_BOOL ? v[0] != 0 : v[0]; /* Cast */
        if (!strcmp(op, "Div") && type == T_INT64 && v[1] == 0)
            return unsupported(im, "an integer division by 0");
        if (type == T_INT64 && !(fabs(r) < 9.0e18))
            return unsupported(im, "an integer constant out of range");
        set_at(*out, o, r);
        for (int d = ndim - 1; d >= 0 && ++idx[d] == dims[d]; d--)
            idx[d] = 0;
    }
    return AIC_OK;
}

/* Slice of a constant (starts, ends, axes, steps constant or shape computations without the batch). */
static aic_status fold_slice(importer *im, const Onnx__NodeProto *n, const Onnx__TensorProto *x,
                             Onnx__TensorProto **out) {
    int64_t v[4][SHAPE_MAX];
    int len[4] = {0, 0, -1, -1}, r;
    for (int i = 0; i < 4; i++)
        if (in_name(n, (size_t)i + 1))
            AIC_TRY(shape_in(im, n, (size_t)i + 1, v[i], &len[i], &r));
    const int ndim = (int)x->n_dims;
    if (opset_of(im, n->domain) < 10 || len[0] != len[1] || (len[2] >= 0 && len[2] != len[0]) ||
        (len[3] >= 0 && len[3] != len[0]) || ndim > AIC_MAX_DIMS)
        return unsupported(im, "a Slice of a constant needs starts, ends (and axes, steps) of one length as inputs");
    int64_t start[AIC_MAX_DIMS], step[AIC_MAX_DIMS], dims[AIC_MAX_DIMS];
    for (int d = 0; d < ndim; d++) {
        start[d] = 0;
        step[d] = 1;
        dims[d] = x->dims[d];
    }
    for (int i = 0; i < len[0]; i++) {
        int64_t a = len[2] >= 0 ? v[2][i] : i, st = len[3] >= 0 ? v[3][i] : 1, b = v[0][i], e = v[1][i];
        if (a < 0)
            a += ndim;
        if (a < 0 || a >= ndim || st <= 0 || IS_BATCH_TIMES(b) || IS_BATCH_TIMES(e))
            return unsupported(im, "a Slice of a constant on axis %" PRId64 " with step %" PRId64 " (positive steps "
                                   "within the constant's rank, no batch size)", a, st);
        const int64_t size = x->dims[a];
        b = b < 0 ? b + size : b;
        e = e < 0 ? e + size : e;
        b = b < 0 ? 0 : b > size ? size : b;
        e = e < 0 ? 0 : e > size ? size : e;
        start[a] = b;
        step[a] = st;
        dims[a] = e > b ? (e - b - 1) / st + 1 : 0;
    }
    AIC_TRY(new_const(im, fold_type(x), ndim, dims, out));
    int64_t idx[AIC_MAX_DIMS] = {0};
    for (int64_t o = 0; o < tensor_numel(*out); o++) {
        int64_t src = 0;
        for (int d = 0; d < ndim; d++)
            src = src * x->dims[d] + start[d] + idx[d] * step[d];
        set_at(*out, o, elem_at(x, src));
        for (int d = ndim - 1; d >= 0 && ++idx[d] == dims[d]; d--)
            idx[d] = 0;
    }
    return AIC_OK;
}

/* Trilu of a constant (the last two axes; k from the optional input). */
static aic_status fold_trilu(importer *im, const Onnx__NodeProto *n, const Onnx__TensorProto *x,
                             Onnx__TensorProto **out) {
    int64_t k = 0, kv[SHAPE_MAX];
    int len, r;
    if (in_name(n, 1)) {
        AIC_TRY(shape_in(im, n, 1, kv, &len, &r));
        k = kv[0];
    }
    if (x->n_dims < 2)
        return unsupported(im, "Trilu needs a constant of rank 2 or more");
    const bool upper = attr_int(n, "upper", 1) != 0;
    const int64_t rows = x->dims[x->n_dims - 2], cols = x->dims[x->n_dims - 1];
    AIC_TRY(new_const(im, fold_type(x), (int)x->n_dims, x->dims, out));
    for (int64_t o = 0; o < tensor_numel(x); o++) {
        const int64_t i = o / cols % rows, j = o % cols;
        set_at(*out, o, (upper ? j - i >= k : j - i <= k) ? elem_at(x, o) : 0);
    }
    return AIC_OK;
}

/* Slice of a shape computation (x.shape[:1]): its entries, the batch size's markers kept. */
static aic_status fold_shape_slice(importer *im, const Onnx__NodeProto *n) {
    int64_t x[SHAPE_MAX], v[4][SHAPE_MAX], out[SHAPE_MAX];
    int len[4] = {0, 0, -1, -1}, xl, xr, r, k = 0;
    AIC_TRY(shape_in(im, n, 0, x, &xl, &xr));
    for (int i = 0; i < 4; i++)
        if (in_name(n, (size_t)i + 1))
            AIC_TRY(shape_in(im, n, (size_t)i + 1, v[i], &len[i], &r));
    if (xr != 1 || len[0] != 1 || len[1] != 1 || (len[2] >= 0 && (len[2] != 1 || (v[2][0] != 0 && v[2][0] != -1))))
        return unsupported(im, "a Slice of a shape vector needs one start and end (axis 0)");
    const int64_t step = len[3] > 0 ? v[3][0] : 1;
    int64_t b = v[0][0] < 0 ? v[0][0] + xl : v[0][0], e = v[1][0] < 0 ? v[1][0] + xl : v[1][0];
    if (step != 1 || IS_BATCH_TIMES(b) || IS_BATCH_TIMES(e))
        return unsupported(im, "a Slice of a shape vector with step %" PRId64 " (only 1)", step);
    b = b < 0 ? 0 : b > xl ? xl : b;
    e = e < 0 ? 0 : e > xl ? xl : e;
    for (int64_t i = b; i < e; i++)
        out[k++] = x[i];
    if (k == 0)
        return unsupported(im, "an empty shape");
    set_shape(im, n, out, k, 1);
    return AIC_OK;
}

/* Whether input k is a shape computation that holds the batch size. */
static bool holds_batch(const importer *im, const Onnx__NodeProto *n, size_t k) {
    const slot *s = in_name(n, k) ? table_get(&im->nt, in_name(n, k)) : NULL;
    for (int i = 0; s && s->kind == V_SHAPE && i < s->sh_len; i++)
        if (IS_BATCH_TIMES(s->sh[i]))
            return true;
    return false;
}

/* Ops on shape vectors that hold the batch size, as torch exports x.expand(x.size(0), -1, -1): Shape
 * of one (its length), Reshape of one to 1-D (itself), Equal (the batch size is never 0 or negative,
 * so it equals no such number; equal to a positive one it may be: refused) and Where, entry by entry
 * (a one-entry operand broadcasts). *done false: not one of these. */
static aic_status fold_batch_shape(importer *im, const Onnx__NodeProto *n, bool *done) {
    const char *op = n->op_type;
    const bool eq = !strcmp(op, "Equal"), where = !strcmp(op, "Where");
    *done = false;
    bool any = false; /* Shape and Reshape: of such a vector; Equal and Where: any operand one */
    for (size_t k = 0; k < (eq || where ? n->n_input : 1); k++)
        any = any || holds_batch(im, n, k);
    if (!any || (!eq && !where && strcmp(op, "Shape") != 0 && strcmp(op, "Reshape") != 0))
        return AIC_OK;
    int64_t v[3][SHAPE_MAX], out[SHAPE_MAX];
    int len[3] = {1, 1, 1}, rank[3] = {0, 0, 0}, n_len = 1;
    for (size_t k = 0; k < n->n_input && k < 3; k++) {
        AIC_TRY(shape_in(im, n, k, v[k], &len[k], &rank[k]));
        if (len[k] > n_len)
            n_len = len[k];
    }
    *done = true;
    if (!strcmp(op, "Shape")) {
        set_shape(im, n, (int64_t[]){len[0]}, 1, 1);
        return AIC_OK;
    }
    if (!strcmp(op, "Reshape")) {
        if (len[1] != 1 || (v[1][0] != -1 && v[1][0] != len[0]))
            return unsupported(im, "a Reshape of a shape vector to other than 1-D");
        set_shape(im, n, v[0], len[0], 1);
        return AIC_OK;
    }
    for (int i = 0; i < n_len; i++) {
        const int64_t a = v[0][len[0] == 1 ? 0 : i], b = v[1][len[1] == 1 ? 0 : i];
        if (where) {
            if (IS_BATCH_TIMES(a))
                return unsupported(im, "a Where whose condition is the batch size");
            out[i] = a ? b : v[2][len[2] == 1 ? 0 : i];
        } else if (IS_BATCH_TIMES(a) && IS_BATCH_TIMES(b)) {
            out[i] = a == b;
        } else if (IS_BATCH_TIMES(a) || IS_BATCH_TIMES(b)) {
            const int64_t other = IS_BATCH_TIMES(a) ? b : a;
            if (other > 0)
                return unsupported(im, "an Equal of the batch size and %" PRId64 " (true for one batch size only)",
                                   other);
            out[i] = 0;
        } else {
            out[i] = a == b;
        }
    }
    set_shape(im, n, out, n_len, 1);
    return AIC_OK;
}

/* A node all of whose inputs are constants, computed at import where it is one of the ops below:
 * what PyTorch exports for masks (tril, masked_fill's condition) and small arithmetic. *done false:
 * not one of them, or an input is not a constant. */
/* A copy of constant x with new dims (the same number of values). */
static aic_status reshaped_const(importer *im, const Onnx__TensorProto *x, int ndim, const int64_t *dims,
                                 Onnx__TensorProto **out) {
    AIC_TRY(new_const(im, fold_type(x), ndim, dims, out));
    if (tensor_numel(*out) != tensor_numel(x))
        return unsupported(im, "a reshape of a constant of %" PRId64 " values to %" PRId64, tensor_numel(x),
                           tensor_numel(*out));
    for (int64_t i = 0; i < tensor_numel(x); i++)
        set_at(*out, i, elem_at(x, i));
    return AIC_OK;
}

/* Flatten, Reshape, Squeeze, Unsqueeze and Concat of constants (not of shape computations, which
 * their own importers follow): computed at import. *done false: not one of these. */
static aic_status fold_layout(importer *im, const Onnx__NodeProto *n, bool *done) {
    const char *op = n->op_type;
    *done = false;
    const bool concat = !strcmp(op, "Concat");
    if (!concat && strcmp(op, "Flatten") && strcmp(op, "Reshape") && strcmp(op, "Squeeze") && strcmp(op, "Unsqueeze"))
        return AIC_OK;
    const Onnx__TensorProto *x[AIC_MAX_OP_INPUTS];
    const size_t n_data = concat ? n->n_input : 1;
    if (n_data < 1 || n_data > AIC_MAX_OP_INPUTS)
        return AIC_OK;
    bool all_shapes = true;
    for (size_t k = 0; k < n_data; k++) {
        const slot *s = in_name(n, k) ? table_get(&im->nt, in_name(n, k)) : NULL;
        if (!s || s->kind != V_CONST || !fold_type(s->t))
            return AIC_OK;
        x[k] = s->t;
        all_shapes = all_shapes && shape_like(im, n, k);
    }
    if (all_shapes && (concat || !strcmp(op, "Unsqueeze")))
        return AIC_OK; /* shape vectors: op_concat_shape, op_unsqueeze_shape */
    const int r = (int)x[0]->n_dims;
    int64_t dims[AIC_MAX_DIMS], v[SHAPE_MAX];
    int nd = 0, len = 0, vr;
    if (!strcmp(op, "Flatten")) {
        int64_t axis = attr_int(n, "axis", 1), a = 1, b = 1;
        axis = axis < 0 ? axis + r : axis;
        for (int i = 0; i < r; i++)
            *(i < axis ? &a : &b) *= x[0]->dims[i];
        dims[0] = a, dims[1] = b, nd = 2;
    } else if (!strcmp(op, "Reshape")) {
        AIC_TRY(shape_in(im, n, 1, v, &len, &vr));
        if (len > AIC_MAX_DIMS)
            return unsupported(im, "a Reshape of a constant to rank %d", len);
        int64_t known = 1;
        int minus = -1;
        for (int i = 0; i < len && i < AIC_MAX_DIMS; i++) {
            dims[i] = v[i] == 0 && i < r ? x[0]->dims[i] : v[i];
            if (dims[i] == -1)
                minus = i;
            else if (dims[i] < 0 || (dims[i] && known > SAMPLE_LIMIT / dims[i]))
                return unsupported(im, "a Reshape of a constant to dimension %" PRId64, dims[i]);
            else
                known *= dims[i];
        }
        if (minus >= 0)
            dims[minus] = known ? tensor_numel(x[0]) / known : 0;
        nd = len;
    } else if (!concat) { /* Squeeze, Unsqueeze: axes from the attribute or input 1 */
        const Onnx__AttributeProto *a = attr(n, "axes");
        if (a) {
            len = (int)(a->n_ints < SHAPE_MAX ? a->n_ints : SHAPE_MAX);
            for (int i = 0; i < len; i++)
                v[i] = a->ints[i];
        } else if (in_name(n, 1)) {
            AIC_TRY(shape_in(im, n, 1, v, &len, &vr));
        }
        const bool unsq = !strcmp(op, "Unsqueeze");
        const int out_r = unsq ? r + len : r;
        unsigned mark = 0;
        for (int i = 0; i < len; i++) {
            const int64_t ax = v[i] < 0 ? v[i] + out_r : v[i];
            if (ax < 0 || ax >= out_r || out_r > AIC_MAX_DIMS || (mark & 1u << ax))
                return unsupported(im, "axis %" PRId64 " of a %s of a constant of rank %d", v[i], op, r);
            mark |= 1u << ax;
        }
        for (int i = 0, j = 0; i < out_r && nd < AIC_MAX_DIMS; i++) {
            if (unsq)
                dims[nd++] = mark & 1u << i ? 1 : x[0]->dims[j++];
            else if (!(len ? mark & 1u << i : x[0]->dims[i] == 1))
                dims[nd++] = x[0]->dims[i];
        }
    }
    Onnx__TensorProto *t;
    if (concat) {
        int64_t axis = attr_int(n, "axis", 0), inner = 1, outer = 1, total = 0;
        axis = axis < 0 ? axis + r : axis;
        if (axis < 0 || axis >= r || r > AIC_MAX_DIMS)
            return unsupported(im, "Concat axis %" PRId64 " of constants of rank %d", attr_int(n, "axis", 0), r);
        for (int i = 0; i < r; i++) {
            dims[i] = x[0]->dims[i];
            if (i > axis)
                inner *= dims[i];
            if (i < axis)
                outer *= dims[i];
        }
        for (size_t k = 0; k < n_data; k++) {
            bool fits = x[k]->n_dims == (size_t)r;
            for (int i = 0; fits && i < r; i++)
                fits = i == axis || x[k]->dims[i] == dims[i];
            if (!fits)
                return unsupported(im, "a Concat of constants whose shapes differ off axis %" PRId64, axis);
            total += x[k]->dims[axis];
        }
        dims[axis] = total;
        AIC_TRY(new_const(im, fold_type(x[0]), r, dims, &t));
        int64_t o = 0;
        for (int64_t q = 0; q < outer; q++)
            for (size_t k = 0; k < n_data; k++) {
                const int64_t run = x[k]->dims[axis] * inner;
                for (int64_t i = 0; i < run; i++)
                    set_at(t, o++, elem_at(x[k], q * run + i));
            }
    } else {
        AIC_TRY(reshaped_const(im, x[0], nd, dims, &t));
    }
    slot *s = table_get(&im->nt, n->output[0]);
    s->kind = V_CONST;
    s->t = t;
    *done = true;
    return AIC_OK;
}

static aic_status fold_node(importer *im, const Onnx__NodeProto *n, bool *done) {
    static const char *const ops[] = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or",
                                      "Xor", "Where", "Cast", "Add", "Sub",
                                      "Mul", "Div", "Pow", "Reciprocal", "Sqrt", "Neg", "Slice", "Trilu",
                                      "ConstantOfShape"};
    AIC_TRY(fold_batch_shape(im, n, done));
    if (*done)
        return AIC_OK;
    AIC_TRY(fold_layout(im, n, done));
    if (*done)
        return AIC_OK;
    size_t o = 0;
    while (o < sizeof ops / sizeof *ops && strcmp(n->op_type, ops[o]) != 0)
        o++;
    if (o == sizeof ops / sizeof *ops || n->n_input > 3 + 2 * !strcmp(n->op_type, "Slice") || n->n_output != 1)
        return AIC_OK;
    const bool cos = !strcmp(n->op_type, "ConstantOfShape"), index_inputs = cos || !strcmp(n->op_type, "Slice") ||
                                                                            !strcmp(n->op_type, "Trilu");
    if (!strcmp(n->op_type, "Cast") && shape_like(im, n, 0) && attr_int(n, "to", 0) == T_INT64)
        return AIC_OK; /* a shape computation's Cast (op_cast) */
    const slot *s0 = in_name(n, 0) ? table_get(&im->nt, in_name(n, 0)) : NULL;
    if (!strcmp(n->op_type, "Slice") && s0 && s0->kind == V_SHAPE) {
        AIC_TRY(fold_shape_slice(im, n));
        *done = true;
        return AIC_OK;
    }
    const Onnx__TensorProto *in[5] = {NULL};
    for (size_t k = 0; k < n->n_input; k++) {
        const slot *s = in_name(n, k) ? table_get(&im->nt, in_name(n, k)) : NULL;
        if (index_inputs && (k > 0 || cos))
            continue; /* read by shape_in */
        if (s && s->kind == V_CONST) {
            in[k] = s->t;
            continue;
        }
        if (!s || s->kind != V_SHAPE) /* an activation: imported as such */
            return AIC_OK;
        int64_t v[SHAPE_MAX]; /* a shape computation without the batch size is a constant too */
        int len, rank;
        AIC_TRY(shape_in(im, n, k, v, &len, &rank));
        for (int i = 0; i < len; i++)
            if (IS_BATCH_TIMES(v[i]))
                return AIC_OK; /* the batch size: op_arith_shape and the like follow it */
        Onnx__TensorProto *t;
        AIC_TRY(new_const(im, T_INT64, rank, (int64_t[]){len}, &t));
        memcpy(t->int64_data, v, sizeof *v * (size_t)len);
        in[k] = t;
    }
    for (size_t k = 0; index_inputs && k < n->n_input; k++)
        if ((k > 0 || cos) && in_name(n, k) && !shape_like(im, n, k))
            return AIC_OK;
    Onnx__TensorProto *t;
    if (cos) {
        int64_t dims[SHAPE_MAX];
        int len, r;
        AIC_TRY(shape_in(im, n, 0, dims, &len, &r));
        const Onnx__AttributeProto *a = attr(n, "value");
        const Onnx__TensorProto *value = a ? a->t : NULL;
        if (value && (tensor_numel(value) != 1 || !fold_type(value)))
            return unsupported(im, "value must be a one-element tensor");
        for (int i = 0; i < len; i++) {
            if (!IS_BATCH_TIMES(dims[i]))
                continue;
            if (value && elem_at(value, 0) != 0.0)
                return unsupported(im, "a constant as large as the batch (aicon makes no batch-sized constants; "
                                   "zeros only as LSTM's and GRU's initial states)");
            table_get(&im->nt, n->output[0])->kind = V_ZEROS;
            *done = true;
            return AIC_OK;
        }
        AIC_TRY(new_const(im, value ? fold_type(value) : T_FLOAT, len, dims, &t));
        for (int64_t i = 0; value && i < tensor_numel(t); i++)
            set_at(t, i, elem_at(value, 0));
    } else if (!strcmp(n->op_type, "Slice")) {
        AIC_TRY(fold_slice(im, n, in[0], &t));
    } else if (!strcmp(n->op_type, "Trilu")) {
        AIC_TRY(fold_trilu(im, n, in[0], &t));
    } else {
        AIC_TRY(fold_elementwise(im, n, in, (int)n->n_input, &t));
    }
    slot *s = table_get(&im->nt, n->output[0]);
    s->kind = V_CONST;
    s->t = t;
    *done = true;
    return AIC_OK;
}

/* Expand of a float initializer [1, ...] to [N, ...] (the batch first, the rest its own dims, which
 * Expand may write as 1s): a parameter repeated for every sample (aic_expand_param), as a ViT's
 * cls_token.expand(N, -1, -1) exports; trained, as PyTorch trains it. */
static aic_status op_expand(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    const Onnx__TensorProto *t;
    AIC_TRY(const_in(im, n, 0, false, &t));
    AIC_TRY(need_float(im, t, "the input"));
    int64_t s[SHAPE_MAX];
    int len, rank;
    AIC_TRY(shape_in(im, n, 1, s, &len, &rank));
    /* the initializer right-aligned against the target: [1, dims] or [dims] */
    const int lead = (int)t->n_dims == len && t->n_dims >= 1 && t->dims[0] == 1 ? 1 : 0;
    const int nd = (int)t->n_dims - lead;
    bool ok = rank == 1 && nd == len - 1 && nd >= 1 && nd <= 4 && s[0] == BATCH_TIMES(1);
    for (int i = 0; ok && i < nd; i++)
        ok = s[i + 1] == t->dims[lead + i] || s[i + 1] == 1;
    if (!ok)
        return unsupported(im, "only an initializer [1, ...] expanded to the batch, [N, its own dims], is supported");
    aic_value y;
    AIC_TRY(built(im, aic_expand_param(im->m, name, nd, t->dims + lead, &y)));
    AIC_TRY(add_job(im, name, "weight", false, t, false, 1, tensor_numel(t), 1.0f));
    set_act(im, n, y);
    return AIC_OK;
}

/* LayerNormalization's optional outputs Mean and InvStdDev, where a node reads them: computed beside
 * the op, as ReduceMean of x, and 1 / sqrt(ReduceMean((x - mean)^2) + epsilon), over its axes with
 * the dims kept (the op keeps its own statistics in its saved memory). */
static aic_status layernorm_stats(importer *im, const Onnx__NodeProto *n, const char *name, aic_value x,
                                  const aic_value_info *xi, int64_t axis) {
    const bool want_mean = n->n_output > 1 && n->output[1][0], want_inv = n->n_output > 2 && n->output[2][0];
    if (!want_mean && !want_inv)
        return AIC_OK;
    int axes[AIC_MAX_DIMS], n_axes = 0;
    for (int64_t a = axis; a <= xi->ndim; a++)
        axes[n_axes++] = (int)a;
    char nm[AIC_MAX_NAME - 16]; /* room for add_job's ".constant" */
    aic_value mean, d, sq, var, ve, inv;
    snprintf(nm, sizeof nm, "%.*s.mean", AIC_MAX_NAME - 32, name);
    AIC_TRY(built(im, aic_reduce(im->m, "mean", nm, x, n_axes, axes, true, &mean)));
    if (want_mean) {
        slot *s = table_get(&im->nt, n->output[1]);
        s->kind = V_ACT;
        s->v = mean;
    }
    if (!want_inv)
        return AIC_OK;
    const float eps = attr_float(n, "epsilon", 1e-5f);
    snprintf(nm, sizeof nm, "%.*s.centered", AIC_MAX_NAME - 32, name);
    AIC_TRY(built(im, aic_binary(im->m, nm, AIC_BINOP_SUB, x, mean, &d)));
    snprintf(nm, sizeof nm, "%.*s.squared", AIC_MAX_NAME - 32, name);
    AIC_TRY(built(im, aic_unary(im->m, "pow", nm, d, (const float[]){2.0f}, &sq)));
    snprintf(nm, sizeof nm, "%.*s.var", AIC_MAX_NAME - 32, name);
    AIC_TRY(built(im, aic_reduce(im->m, "mean", nm, sq, n_axes, axes, true, &var)));
    snprintf(nm, sizeof nm, "%.*s.var_eps", AIC_MAX_NAME - 32, name);
    AIC_TRY(built(im, aic_binary_const(im->m, nm, AIC_BINOP_ADD, var, 0, NULL, false, &ve)));
    Onnx__TensorProto *e = NULL;
    AIC_TRY(new_const(im, T_FLOAT, 0, NULL, &e));
    e->float_data[0] = eps;
    AIC_TRY(add_job(im, nm, "constant", true, e, false, 1, 1, 1.0f));
    snprintf(nm, sizeof nm, "%.*s.inv_std", AIC_MAX_NAME - 32, name);
    AIC_TRY(built(im, aic_unary(im->m, "pow", nm, ve, (const float[]){-0.5f}, &inv)));
    slot *s = table_get(&im->nt, n->output[2]);
    s->kind = V_ACT;
    s->v = inv;
    return AIC_OK;
}

static aic_status op_layernorm_node(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    AIC_TRY(check_attrs(im, n, layernorm_attrs));
    if (n->n_output > 3)
        return unsupported(im, "LayerNormalization has at most three outputs");
    aic_value x, y;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    AIC_TRY(op_layernorm(im, n, name, variant, x, xi, &y));
    set_act(im, n, y);
    int64_t axis;
    AIC_TRY(sample_axis(im, n, &im->m->values[x], -1, &axis));
    return layernorm_stats(im, n, name, x, &im->m->values[x], axis);
}

/* Sum, Mean, Max and Min of one or more inputs (numpy broadcasting), a chain of binary ops from the
 * first activation on, constants joining as the ops' constant operands; Mean divides the sum by the
 * count. */
static aic_status op_variadic(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    const bool mean = variant < 0;
    const aic_binary_op kind = mean ? AIC_BINOP_ADD : (aic_binary_op)variant;
    int first = -1;
    for (size_t k = 0; k < n->n_input && first < 0; k++) {
        const slot *s = in_name(n, k) ? table_get(&im->nt, in_name(n, k)) : NULL;
        if (s && s->kind == V_ACT)
            first = (int)k;
    }
    if (first < 0)
        return unsupported(im, "no input is an activation");
    aic_value acc = table_get(&im->nt, in_name(n, (size_t)first))->v;
    char nm[AIC_MAX_NAME - 16]; /* room for add_job's ".constant" */
    for (size_t k = 0; k < n->n_input; k++) {
        if ((int)k == first)
            continue;
        const bool last = k + 1 == n->n_input || (k + 2 == n->n_input && (int)k + 1 == first);
        if (last && !mean) /* the op the output is named after */
            snprintf(nm, sizeof nm, "%.*s", AIC_MAX_NAME - 32, name);
        else
            snprintf(nm, sizeof nm, "%.*s.%d", AIC_MAX_NAME - 40, name, (int)(k % 1000));
        const slot *s = in_name(n, k) ? table_get(&im->nt, in_name(n, k)) : NULL;
        if (s && s->kind == V_ACT) {
            AIC_TRY(built(im, aic_binary(im->m, nm, kind, acc, s->v, &acc)));
            continue;
        }
        const Onnx__TensorProto *t;
        AIC_TRY(const_in(im, n, k, false, &t));
        AIC_TRY(need_float(im, t, "a constant input"));
        if (t->n_dims > AIC_MAX_DIMS)
            return unsupported(im, "a constant of rank %zu", t->n_dims);
        AIC_TRY(built(im, aic_binary_const(im->m, nm, kind, acc, (int)t->n_dims, t->dims, (int)k < first, &acc)));
        AIC_TRY(add_job(im, nm, "constant", true, t, false, 1, tensor_numel(t), 1.0f));
    }
    if (mean) {
        Onnx__TensorProto *c = NULL;
        AIC_TRY(new_const(im, T_FLOAT, 0, NULL, &c));
        c->float_data[0] = (float)n->n_input;
        snprintf(nm, sizeof nm, "%.*s", AIC_MAX_NAME - 32, name);
        AIC_TRY(built(im, aic_binary_const(im->m, nm, AIC_BINOP_DIV, acc, 0, NULL, false, &acc)));
        AIC_TRY(add_job(im, nm, "constant", true, c, false, 1, 1, 1.0f));
    } else if (n->n_input == 1) {
        AIC_TRY(same_value(im, name, acc, &acc));
    }
    set_act(im, n, acc);
    return AIC_OK;
}

/* ---- ops imported as compositions of aicon's ---------------------------------------------------- */

/* GlobalMaxPool of N x C x H x W: max pooling with an H x W window (N x C x 1 x 1). */
static aic_status op_global_maxpool(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                                    const aic_value_info *xi, aic_value *y) {
    if (xi->ndim != 3)
        return unsupported(im, "only N x C x H x W inputs are supported (per-sample rank %d)", xi->ndim);
    const aic_pool2d_opts o = {.kernel = {(int)xi->shape[1], (int)xi->shape[2]}};
    return built(im, aic_maxpool2d(im->m, name, x, &o, y));
}

/* A float constant of the given values and dims, owned by the importer. */
static aic_status float_tensor(importer *im, int ndim, const int64_t *dims, const float *v, Onnx__TensorProto **t) {
    AIC_TRY(new_const(im, T_FLOAT, ndim, dims, t));
    for (int64_t i = 0; i < tensor_numel(*t); i++)
        (*t)->float_data[i] = v ? v[i] : 0.0f;
    return AIC_OK;
}

/* x (op) c for a constant tensor t: the op named name (a buffer copied from t after compile). */
static aic_status with_constant(importer *im, const char *name, aic_binary_op op, aic_value x,
                                const Onnx__TensorProto *t, aic_value *y) {
    AIC_TRY(built(im, aic_binary_const(im->m, name, op, x, (int)t->n_dims, t->dims, false, y)));
    return add_job(im, name, "constant", true, t, false, 1, tensor_numel(t), 1.0f);
}

/* InstanceNormalization of N x C x ...: each sample's channel normalized over its other axes (a
 * layer normalization of the axes behind C), then scale and B per channel as constants [C, 1, ...]. */
static aic_status op_instancenorm(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                                  const aic_value_info *xi, aic_value *y) {
    if (xi->ndim < 2 || xi->batch_axis != 0)
        return unsupported(im, "X must be N x C x D1 x ...");
    const int64_t C = xi->shape[0];
    const Onnx__TensorProto *t[2];
    for (int i = 0; i < 2; i++) {
        AIC_TRY(const_in(im, n, (size_t)i + 1, false, &t[i]));
        AIC_TRY(need_float(im, t[i], i ? "B" : "scale"));
        if (tensor_numel(t[i]) != C)
            return unsupported(im, "%s must hold %" PRId64 " values", i ? "B" : "scale", C);
    }
    int64_t dims[AIC_MAX_DIMS] = {C};
    for (int i = 1; i < xi->ndim; i++)
        dims[i] = 1;
    char nm[AIC_MAX_NAME - 16];
    aic_value norm, scaled;
    snprintf(nm, sizeof nm, "%.*s.norm", AIC_MAX_NAME - 32, name);
    AIC_TRY(built(im, aic_layernorm(im->m, nm, x, 2, attr_float(n, "epsilon", 1e-5f), false, &norm)));
    Onnx__TensorProto *s, *b;
    float *sv = malloc(sizeof(float) * (size_t)C), *bv = malloc(sizeof(float) * (size_t)C);
    if (!sv || !bv) {
        free(sv);
        free(bv);
        return nomem();
    }
    for (int64_t c = 0; c < C; c++) {
        sv[c] = float_at(t[0], c);
        bv[c] = float_at(t[1], c);
    }
    aic_status st = float_tensor(im, xi->ndim, dims, sv, &s);
    if (st == AIC_OK)
        st = float_tensor(im, xi->ndim, dims, bv, &b);
    free(sv);
    free(bv);
    AIC_TRY(st);
    snprintf(nm, sizeof nm, "%.*s.scale", AIC_MAX_NAME - 32, name);
    AIC_TRY(with_constant(im, nm, AIC_BINOP_MUL, norm, s, &scaled));
    snprintf(nm, sizeof nm, "%.*s", AIC_MAX_NAME - 32, name);
    return with_constant(im, nm, AIC_BINOP_ADD, scaled, b, y);
}

/* PRelu: relu(x) + slope min(x, 0) (exact: one side is 0), slope a constant broadcast as ONNX says. */
static aic_status op_prelu(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                           const aic_value_info *xi, aic_value *y) {
    const Onnx__TensorProto *slope;
    AIC_TRY(const_in(im, n, 1, false, &slope));
    AIC_TRY(need_float(im, slope, "slope"));
    if (slope->n_dims > AIC_MAX_DIMS)
        return unsupported(im, "slope of rank %zu", slope->n_dims);
    char nm[AIC_MAX_NAME - 16];
    aic_value pos, neg, scaled;
    snprintf(nm, sizeof nm, "%.*s.relu", AIC_MAX_NAME - 32, name);
    AIC_TRY(built(im, aic_relu(im->m, nm, x, &pos)));
    snprintf(nm, sizeof nm, "%.*s.negative", AIC_MAX_NAME - 32, name);
    AIC_TRY(built(im, aic_binary_const(im->m, nm, AIC_BINOP_MIN, x, 0, NULL, false, &neg))); /* min(x, 0) */
    snprintf(nm, sizeof nm, "%.*s.slope", AIC_MAX_NAME - 32, name);
    AIC_TRY(with_constant(im, nm, AIC_BINOP_MUL, neg, slope, &scaled));
    return built(im, aic_binary(im->m, name, AIC_BINOP_ADD, pos, scaled, y));
}

/* DepthToSpace (DCR or CRD) and SpaceToDepth of N x C x H x W with block b: a reshape to rank 6, a
 * transpose and a reshape back, as the ONNX spec writes them. */
static aic_status op_depth_space(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                                 const aic_value_info *xi, aic_value *y) {
    const int64_t b = attr_int(n, "blocksize", 0);
    if (xi->ndim != 3 || xi->batch_axis != 0 || xi->fold != 1 || xi->outer != 1 || b < 1 || b > ATTR_LIMIT)
        return unsupported(im, "needs N x C x H x W and a positive blocksize");
    const int64_t C = xi->shape[0], H = xi->shape[1], W = xi->shape[2];
    char mode[8];
    const bool crd = variant == 0 && strcmp(attr_string(n, "mode", "DCR", mode, sizeof mode), "CRD") == 0;
    int64_t s1[5], s2[3];
    int perm[6];
    if (variant == 0) { /* depth to space */
        if (C % (b * b))
            return unsupported(im, "C %" PRId64 " is not a multiple of blocksize^2", C);
        const int64_t c = C / (b * b);
        const int64_t dcr[5] = {b, b, c, H, W}, crd_s[5] = {c, b, b, H, W};
        const int p_dcr[6] = {0, 3, 4, 1, 5, 2}, p_crd[6] = {0, 1, 4, 2, 5, 3};
        memcpy(s1, crd ? crd_s : dcr, sizeof s1);
        memcpy(perm, crd ? p_crd : p_dcr, sizeof perm);
        s2[0] = c, s2[1] = H * b, s2[2] = W * b;
    } else { /* space to depth */
        if (H % b || W % b)
            return unsupported(im, "H and W must be multiples of blocksize");
        const int64_t v[5] = {C, H / b, b, W / b, b};
        const int p[6] = {0, 3, 5, 1, 2, 4};
        memcpy(s1, v, sizeof s1);
        memcpy(perm, p, sizeof perm);
        s2[0] = C * b * b, s2[1] = H / b, s2[2] = W / b;
    }
    char nm[AIC_MAX_NAME];
    aic_value r, t;
    snprintf(nm, sizeof nm, "%.*s.split", AIC_MAX_NAME - 16, name);
    AIC_TRY(built(im, aic_reshape(im->m, nm, x, 5, s1, &r)));
    snprintf(nm, sizeof nm, "%.*s.permute", AIC_MAX_NAME - 16, name);
    AIC_TRY(built(im, aic_transpose(im->m, nm, r, perm, &t)));
    return built(im, aic_reshape(im->m, name, t, 3, s2, y));
}

/* Tile: each axis behind the batch repeated as concatenated copies (the batch axis's repeat must be 1). */
static aic_status op_tile(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                          const aic_value_info *xi, aic_value *y) {
    int64_t rep[SHAPE_MAX];
    int len, rank;
    AIC_TRY(shape_in(im, n, 1, rep, &len, &rank));
    if (len != xi->ndim + 1 || xi->batch_axis != 0 || rep[0] != 1)
        return unsupported(im, "repeats must have one entry per axis, 1 for the batch");
    aic_value cur = x;
    char nm[AIC_MAX_NAME];
    for (int a = 1; a <= xi->ndim; a++) {
        if (rep[a] < 1 || rep[a] > AIC_MAX_OP_INPUTS)
            return unsupported(im, "repeat %" PRId64 " on axis %d (aicon concatenates 1..%d copies)", rep[a], a,
                               AIC_MAX_OP_INPUTS);
        if (rep[a] == 1)
            continue;
        aic_value copies[AIC_MAX_OP_INPUTS];
        for (int k = 0; k < rep[a]; k++)
            copies[k] = cur;
        snprintf(nm, sizeof nm, "%.*s.%d", AIC_MAX_NAME - 16, name, a);
        AIC_TRY(built(im, aic_concat(im->m, nm, (int)rep[a], copies, a, &cur)));
    }
    return same_value(im, name, cur, y);
}

/* Size: the element count, a multiple of the batch size for an activation (a shape computation). */
static aic_status op_size(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    const slot *s = in_name(n, 0) ? table_get(&im->nt, in_name(n, 0)) : NULL;
    if (s && s->kind == V_SHAPE) {
        set_shape(im, n, (int64_t[]){s->sh_len}, 1, 0);
        return AIC_OK;
    }
    aic_value x;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    set_shape(im, n, (int64_t[]){BATCH_TIMES(xi->outer * xi->fold * xi->numel)}, 1, 0);
    return AIC_OK;
}

/* Trilu of an activation whose last two axes are behind the batch: times a constant 0/1 mask of
 * those two axes (a constant's Trilu folds at import). */
static aic_status op_trilu(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    aic_value x;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    if (xi->ndim < 2 || xi->batch_axis > xi->ndim - 2)
        return unsupported(im, "the two matrix axes must be behind the batch axis (X has per-sample rank %d)",
                           xi->ndim);
    int64_t k = 0, kv[SHAPE_MAX];
    int len, r;
    if (in_name(n, 1)) {
        AIC_TRY(shape_in(im, n, 1, kv, &len, &r));
        k = kv[0];
    }
    const bool upper = attr_int(n, "upper", 1) != 0;
    const int64_t dims[2] = {xi->shape[xi->ndim - 2], xi->shape[xi->ndim - 1]};
    Onnx__TensorProto *mask = NULL;
    AIC_TRY(new_const(im, T_FLOAT, 2, dims, &mask));
    for (int64_t i = 0; i < dims[0]; i++)
        for (int64_t j = 0; j < dims[1]; j++)
            mask->float_data[i * dims[1] + j] = (upper ? j - i >= k : j - i <= k) ? 1.0f : 0.0f;
    aic_value y;
    AIC_TRY(with_constant(im, name, AIC_BINOP_MUL, x, mask, &y));
    set_act(im, n, y);
    return AIC_OK;
}

/* Input k as an int activation (indices): an int32 or int64 graph input, or an int op's output. */
static aic_status int_act_in(importer *im, const Onnx__NodeProto *n, size_t k, aic_value *v) {
    const aic_value_info *vi;
    AIC_TRY(act_in(im, n, k, v, &vi));
    if (vi->dtype != AIC_I32)
        return unsupported(im, "the indices '%.100s' are not integers (an int32 or int64 input or computation)",
                           in_name(n, k));
    return AIC_OK;
}

static const attr_spec scatter_attrs[] = {{"axis", A_INT}, {"reduction", A_STRING}, {NULL, 0}};

/* GatherElements (variant 0), ScatterElements and Scatter (1) of a float activation at int indices
 * along an axis behind the batch; the updates an activation too; reductions none, add and mul. */
static aic_status op_elements(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    aic_value x, idx, upd, y;
    const aic_value_info *xi, *ui;
    int64_t axis;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    AIC_TRY(sample_axis(im, n, xi, 0, &axis));
    AIC_TRY(int_act_in(im, n, 1, &idx));
    if (variant == 0) {
        AIC_TRY(built(im, aic_gather_elements(im->m, name, x, idx, (int)axis, &y)));
    } else {
        char buf[16];
        const char *reduction = attr_string(n, "reduction", "none", buf, sizeof buf);
        if (strcmp(reduction, "none") != 0 && strcmp(reduction, "add") != 0 && strcmp(reduction, "mul") != 0)
            return unsupported(im, "reduction '%s'; aicon scatters with none, add and mul", reduction);
        AIC_TRY(act_in(im, n, 2, &upd, &ui));
        AIC_TRY(built(im, aic_scatter_elements(im->m, name, x, idx, upd, (int)axis, reduction, &y)));
    }
    set_act(im, n, y);
    return AIC_OK;
}

/* OneHot of int or float indices (an activation) with a constant depth and constant float values
 * [off, on]; the new axis behind the batch. */
static aic_status op_one_hot(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    aic_value x, y;
    const aic_value_info *xi;
    const Onnx__TensorProto *depth, *values;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    AIC_TRY(const_in(im, n, 1, false, &depth));
    AIC_TRY(const_in(im, n, 2, false, &values));
    const double dv = tensor_numel(depth) == 1 && fold_type(depth) ? elem_at(depth, 0) : 0;
    if (!(dv >= 1 && dv <= INT32_MAX))
        return unsupported(im, "depth must be one number in 1..2^31-1");
    if (tensor_numel(values) != 2 || !is_float(values))
        return unsupported(im, "values must be two floats [off, on]; aicon's one-hot output is float");
    const int64_t rank = xi->ndim + 2, axis = attr_int(n, "axis", -1); /* of the output */
    if (axis < -rank || axis >= rank)
        return unsupported(im, "axis %" PRId64 " is out of range for an output of rank %" PRId64, axis, rank);
    if ((axis < 0 ? axis + rank : axis) == 0)
        return unsupported(im, "axis %" PRId64 " would hold the batch; aicon's OneHot adds an axis behind it", axis);
    AIC_TRY(built(im, aic_one_hot(im->m, name, x, (int)axis, (int64_t)dv, float_at(values, 0), float_at(values, 1),
                                  &y)));
    set_act(im, n, y);
    return AIC_OK;
}

/* Compress of an activation along an axis behind the batch by a constant condition: a gather of the
 * positions it selects (the condition may be shorter than the axis). */
static aic_status op_compress(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    aic_value x, y;
    const aic_value_info *xi;
    const Onnx__TensorProto *cond;
    int64_t axis, idx[AIC_GATHER_MAX_INDICES];
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    if (!attr(n, "axis"))
        return unsupported(im, "without an axis Compress flattens the input, batch included");
    AIC_TRY(sample_axis(im, n, xi, 0, &axis));
    AIC_TRY(const_in(im, n, 1, false, &cond));
    if (cond->n_dims != 1 || !fold_type(cond))
        return unsupported(im, "the condition must be a 1-D constant");
    int64_t full[AIC_MAX_DIMS], count = 0;
    aic_value_full_shape(xi, 1, full);
    for (int64_t k = 0; k < tensor_numel(cond) && k < full[axis]; k++)
        if (elem_at(cond, k) != 0) {
            if (count == AIC_GATHER_MAX_INDICES)
                return unsupported(im, "more than %d positions selected; aicon gathers at most that many",
                                   AIC_GATHER_MAX_INDICES);
            idx[count++] = k;
        }
    if (count == 0)
        return unsupported(im, "the condition selects nothing (an empty output)");
    if (xi->batch_axis != 0)
        return gather_batch_moved(im, n, name, x, xi, (int)axis, (int)count, idx, false);
    AIC_TRY(built(im, aic_gather(im->m, name, x, (int)axis, (int)count, idx, false, &y)));
    set_act(im, n, y);
    return AIC_OK;
}

/* Ops aicon computes only at import, on constants (fold_node). */
static aic_status op_constant_only(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    return unsupported(im, "aicon computes %s only on constants, at import; an input is an activation", n->op_type);
}

static const attr_spec trilu_attrs[] = {{"upper", A_INT}, {NULL, 0}};
static const attr_spec constant_of_shape_attrs[] = {{"value", A_TENSOR}, {NULL, 0}};

/* Where(condition, X, Y) of a constant condition, a constant -inf on one side and an activation on the
 * other, read only by a Softmax (masked_fill(mask, -inf) before softmax, as causal attention writes
 * it): the activation plus a constant of 0 and -inf (aic_binary_const), equal to Where for every finite
 * activation, and in the gradient too, since softmax sends none back from where its output is 0. */
static aic_status op_where(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    if (n->n_input != 3)
        return unsupported(im, "Where has three inputs");
    const slot *c = table_get(&im->nt, in_name(n, 0)), *sx = table_get(&im->nt, in_name(n, 1)),
               *sy = table_get(&im->nt, in_name(n, 2));
    const bool act_y = sy && sy->kind == V_ACT;
    const slot *fill = act_y ? sx : sy;
    const long reader = sole_reader(im, n->output[0]);
    if (!c || c->kind != V_CONST || !fill || fill->kind != V_CONST || !is_float(fill->t) ||
        tensor_numel(fill->t) != 1 || !(isinf(float_at(fill->t, 0)) && float_at(fill->t, 0) < 0) ||
        reader < 0 || !is_op(im->g->node[reader], "Softmax"))
        return unsupported(im, "only a constant condition choosing between an activation and -inf, read by a "
                               "Softmax (an attention mask), is supported");
    aic_value x, y;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, act_y ? 2 : 1, &x, &xi));
    Onnx__TensorProto *mask;
    const Onnx__TensorProto *cond = c->t;
    AIC_TRY(new_const(im, T_FLOAT, (int)cond->n_dims, cond->dims, &mask));
    for (int64_t i = 0; i < tensor_numel(cond); i++) /* -inf where the fill is chosen */
        mask->float_data[i] = (elem_at(cond, i) != 0) == act_y ? -INFINITY : 0.0f;
    AIC_TRY(built(im, aic_binary_const(im->m, name, AIC_BINOP_ADD, x, (int)cond->n_dims, cond->dims, false, &y)));
    AIC_TRY(add_job(im, name, "constant", true, mask, false, 1, tensor_numel(mask), 1.0f));
    set_act(im, n, y);
    return AIC_OK;
}

/* ---- attention -------------------------------------------------------------------------------- */

/* The attention PyTorch exports (nn.MultiheadAttention, or written out as GPT models do):
 * MatMul(q, Transpose(k)), scaled by a constant on q or on the scores, perhaps a causal mask (Where
 * with -inf, or the Add of 0 and -inf the export writes), Softmax over the last axis, MatMul(p, v).
 * find_attention finds these chains before the nodes are visited and marks every node but the last
 * fused, so the loop passes them by; at the last one, where the scale and mask constants (often
 * computed from shapes at import) are known, fuse_attention imports the chain as one aic_attention,
 * which never holds the T x S scores, or else visits the passed nodes after all, op by op. */
enum { AT_QSCALE, AT_KT, AT_QK, AT_SCALE, AT_MASK, AT_SOFTMAX, AT_PV, AT_NODES }; /* in visiting order */

typedef struct attn_chain {
    long k[AT_NODES]; /* node indices, -1 where absent */
} attn_chain;

static aic_status visit_node(importer *im, size_t i);

/* The node that makes tensor `name` if it is a default-domain node of type `type` with n_in inputs and
 * one output; else -1. */
static long made_by(const importer *im, const char *name, const char *type, size_t n_in) {
    const slot *s = table_get(&im->nt, name);
    const Onnx__NodeProto *n = s && s->maker >= 0 ? im->g->node[s->maker] : NULL;
    return is_op(n, type) && n->n_input == n_in && n->n_output == 1 && !(n->domain && n->domain[0]) ? s->maker : -1;
}

/* Whether tensor t, read only by node `reader`, is MatMul(q, Transpose(k)), or (unless already
 * scaled) that times or divided by something: fills c's QK, KT, QSCALE and SCALE. */
static bool match_scores(const importer *im, const char *t, long reader, bool scaled, attn_chain *c) {
    if (sole_reader(im, t) != reader)
        return false;
    long k = made_by(im, t, "MatMul", 2);
    if (k >= 0) {
        const Onnx__NodeProto *qk = im->g->node[k];
        c->k[AT_QK] = k;
        c->k[AT_KT] = made_by(im, qk->input[1], "Transpose", 1);
        c->k[AT_QSCALE] = -1;
        if (sole_reader(im, qk->input[0]) == k) {
            c->k[AT_QSCALE] = made_by(im, qk->input[0], "Div", 2);
            if (c->k[AT_QSCALE] < 0)
                c->k[AT_QSCALE] = made_by(im, qk->input[0], "Mul", 2);
        }
        return c->k[AT_KT] >= 0;
    }
    const bool div = (k = made_by(im, t, "Div", 2)) >= 0;
    if (scaled || (!div && (k = made_by(im, t, "Mul", 2)) < 0))
        return false;
    c->k[AT_SCALE] = k;
    const Onnx__NodeProto *n = im->g->node[k];
    return match_scores(im, n->input[0], k, true, c) || (!div && match_scores(im, n->input[1], k, true, c));
}

/* Records every attention chain (see above) and marks its nodes but the last fused; a Transpose of k
 * that others read too stays theirs. */
static aic_status find_attention(importer *im) {
    const Onnx__GraphProto *g = im->g;
    for (size_t s = 0; s < g->n_node; s++) {
        const Onnx__NodeProto *sm = g->node[s];
        if (!is_op(sm, "Softmax") || sm->n_input != 1 || sm->n_output != 1 || (sm->domain && sm->domain[0]))
            continue;
        attn_chain c;
        for (int i = 0; i < AT_NODES; i++)
            c.k[i] = -1;
        c.k[AT_SOFTMAX] = (long)s;
        const long pv = sole_reader(im, sm->output[0]);
        if (!node_of(im, pv, "MatMul", sm->output[0], 0, 2))
            continue;
        c.k[AT_PV] = pv;
        const char *x = sm->input[0];
        bool ok = match_scores(im, x, (long)s, false, &c);
        const long w = made_by(im, x, "Where", 3), mask = w >= 0 ? w : made_by(im, x, "Add", 2);
        if (!ok && mask >= 0 && sole_reader(im, x) == (long)s) {
            c.k[AT_MASK] = mask;
            for (size_t i = w >= 0 ? 1 : 0; i < g->node[mask]->n_input && !ok; i++)
                ok = match_scores(im, g->node[mask]->input[i], mask, false, &c);
        }
        if (!ok)
            continue;
        if (!aic_grow((void **)&im->chains, &im->cap_chains, im->n_chains + 1, sizeof *im->chains, 8))
            return nomem();
        if (sole_reader(im, g->node[c.k[AT_KT]]->output[0]) != c.k[AT_QK])
            c.k[AT_KT] = -1; /* imported as itself; fuse_attention reads its input again */
        im->chains[im->n_chains++] = c;
        for (int i = 0; i < AT_PV; i++)
            if (c.k[i] >= 0)
                im->fused[c.k[i]] = true;
    }
    return AIC_OK;
}

/* Whether node n (Mul or Div) multiplies or divides tensor x by a float scalar constant; *scale takes
 * the factor. */
static bool scaled_by_const(const importer *im, const Onnx__NodeProto *n, const char *x, float *scale) {
    const bool div = is_op(n, "Div");
    const char *other = strcmp(n->input[0], x) == 0 ? n->input[1] : div ? NULL : n->input[0];
    const slot *s = other ? table_get(&im->nt, other) : NULL;
    if (!s || s->kind != V_CONST || !is_float(s->t) || tensor_numel(s->t) != 1)
        return false;
    *scale = div ? *scale / float_at(s->t, 0) : *scale * float_at(s->t, 0);
    return true;
}

/* Whether mask node m leaves the T x S scores `scores` as they are but for -inf exactly where key j is
 * after query i + S - T (aic_attention's causal mask): Where(constant condition, -inf, scores) either
 * way round, or Add(scores, a constant of 0 and -inf); the constant T x S with leading 1s. */
static bool causal_mask(const importer *im, const Onnx__NodeProto *m, const char *scores, int64_t T, int64_t S,
                        int rank) {
    const bool where = is_op(m, "Where");
    const size_t a = strcmp(m->input[where ? 1 : 0], scores) == 0 ? (where ? 1 : 0) : (where ? 2 : 1);
    const slot *ts = table_get(&im->nt, m->input[where ? 0 : 1 - a]);
    const slot *fs = where ? table_get(&im->nt, m->input[3 - a]) : NULL;
    if (!ts || ts->kind != V_CONST || (!where && !is_float(ts->t)))
        return false;
    if (where && (!fs || fs->kind != V_CONST || !is_float(fs->t) || tensor_numel(fs->t) != 1 ||
                  float_at(fs->t, 0) != -INFINITY))
        return false;
    const Onnx__TensorProto *t = ts->t;
    const size_t nd = t->n_dims;
    if (nd < 2 || nd > (size_t)rank || t->dims[nd - 2] != T || t->dims[nd - 1] != S || tensor_numel(t) != T * S)
        return false;
    for (int64_t i = 0; i < T; i++)
        for (int64_t j = 0; j < S; j++) {
            const bool masked = where ? (elem_at(t, i * S + j) != 0) == (a == 2) : float_at(t, i * S + j) == -INFINITY;
            if (masked != (j > i + S - T) || (!where && !masked && float_at(t, i * S + j) != 0.0f))
                return false;
        }
    return true;
}

/* What aic_transpose makes of x by perm (a permutation of x's axes, the batch's among them). */
static aic_value_info transposed_info(const aic_value_info *x, const int *perm) {
    aic_value_info y = *x;
    int64_t full[AIC_MAX_DIMS];
    aic_value_full_shape(x, 1, full);
    for (int k = 0, j = 0; k <= x->ndim; k++) {
        if (perm[k] == x->batch_axis)
            y.batch_axis = k;
        else
            y.shape[j++] = full[perm[k]];
    }
    return y;
}

/* Whether aic_attention takes q, k and v as they are: float activations of one rank (2 or more),
 * the batch first and held alike, the same leading dims, k and v S x D with q's D. */
static bool attention_fits(const aic_value_info *q, const aic_value_info *k, const aic_value_info *v) {
    const aic_value_info *x[3] = {q, k, v};
    const int nd = q->ndim;
    for (int i = 0; i < 3; i++) {
        if (x[i]->dtype != AIC_F32 || x[i]->scalar || x[i]->ndim != nd || nd < 2 || x[i]->batch_axis != 0 ||
            x[i]->outer != q->outer || x[i]->fold != q->fold || x[i]->shape[nd - 1] != q->shape[nd - 1])
            return false;
        for (int d = 0; d < nd - 2; d++)
            if (x[i]->shape[d] != q->shape[d])
                return false;
    }
    return k->shape[nd - 2] == v->shape[nd - 2];
}

/* At node `at`, the last of an attention chain: the chain as one aic_attention (*fused), k given as
 * [..., S, D] by a transpose of the Transpose's input where that is not already it, or, where the
 * constants, the shapes or the Softmax's axis do not fit, its passed nodes visited in order. */
static aic_status fuse_attention(importer *im, size_t at, char opname[AIC_MAX_NAME], bool *fused) {
    *fused = false;
    attn_chain *c = NULL;
    for (size_t j = 0; j < im->n_chains && !c; j++)
        if (im->chains[j].k[AT_PV] == (long)at)
            c = &im->chains[j];
    if (!c)
        return AIC_OK;
    const Onnx__GraphProto *g = im->g;
    const Onnx__NodeProto *qk = g->node[c->k[AT_QK]], *pv = g->node[at], *sm = g->node[c->k[AT_SOFTMAX]];
    const long kt = made_by(im, qk->input[1], "Transpose", 1);
    const char *q = qk->input[0];
    float scale = 1.0f;
    if (c->k[AT_QSCALE] >= 0) {
        const Onnx__NodeProto *n = g->node[c->k[AT_QSCALE]];
        /* made already where another fusion ends in it (a LayerNorm without weights ends in a Div) */
        const bool own = table_get(&im->nt, n->output[0])->kind == V_NONE;
        if (own && scaled_by_const(im, n, n->input[0], &scale))
            q = n->input[0];
        else if (own && scaled_by_const(im, n, n->input[1], &scale))
            q = n->input[1];
        else if (own) /* not a scale: q is its output */
            AIC_TRY(visit_node(im, (size_t)c->k[AT_QSCALE]));
        if (q == qk->input[0])
            c->k[AT_QSCALE] = -1;
    }
    const slot *sq = table_get(&im->nt, q), *sk = table_get(&im->nt, g->node[kt]->input[0]),
               *sv = table_get(&im->nt, pv->input[1]);
    const Onnx__AttributeProto *pa = attr(g->node[kt], "perm");
    bool ok = sq && sq->kind == V_ACT && sk && sk->kind == V_ACT && sv && sv->kind == V_ACT &&
              (c->k[AT_SCALE] < 0 || scaled_by_const(im, g->node[c->k[AT_SCALE]], qk->output[0], &scale)) &&
              isfinite(scale) && scale > 0.0f;
    const aic_value_info *qi = ok ? &im->m->values[sq->v] : NULL, *ki = ok ? &im->m->values[sk->v] : NULL;
    const int rank = ok ? qi->ndim + 1 : 0;
    int perm[AIC_MAX_DIMS]; /* k's axes from the Transpose's input: its perm with the last two swapped */
    bool seen[AIC_MAX_DIMS] = {false}, identity = true;
    ok = ok && ki->ndim + 1 == rank && (!pa || pa->n_ints == (size_t)rank);
    for (int i = 0; ok && i < rank; i++) {
        const int src = i < rank - 2 ? i : 2 * rank - 3 - i;
        int64_t p = pa ? pa->ints[src] : rank - 1 - src;
        p += p < 0 ? rank : 0;
        ok = p >= 0 && p < rank && !seen[p];
        if (ok) {
            seen[p] = true;
            perm[i] = (int)p;
            identity = identity && p == i;
        }
    }
    aic_value_info kti;
    if (ok) {
        kti = transposed_info(ki, perm);
        ok = attention_fits(qi, &kti, &im->m->values[sv->v]);
    }
    const int64_t opset = opset_of(im, sm->domain), axis = attr_int(sm, "axis", opset >= 13 ? -1 : 1);
    ok = ok && (axis == -1 || axis == rank - 1);
    const int64_t T = ok ? qi->shape[rank - 3] : 0, S = ok ? kti.shape[rank - 3] : 0;
    const char *scores = c->k[AT_SCALE] >= 0 ? g->node[c->k[AT_SCALE]]->output[0] : qk->output[0];
    if (ok && c->k[AT_MASK] >= 0)
        ok = S >= T && causal_mask(im, g->node[c->k[AT_MASK]], scores, T, S, rank);
    if (!ok) {
        for (int i = 0; i < AT_PV; i++)
            if (c->k[i] >= 0)
                AIC_TRY(visit_node(im, (size_t)c->k[i]));
        return AIC_OK;
    }
    aic_value k = sk->v, y;
    if (!identity) {
        char kname[AIC_MAX_NAME];
        AIC_TRY(node_opname(im, (size_t)kt, kname));
        AIC_TRY(built(im, aic_transpose(im->m, kname, sk->v, perm, &k)));
    }
    AIC_TRY(node_opname(im, at, opname));
    AIC_TRY(built(im, aic_attention(im->m, opname, sq->v, k, sv->v, c->k[AT_MASK] >= 0, scale, &y)));
    set_act(im, pv, y);
    *fused = true;
    return AIC_OK;
}

static const attr_spec reshape_attrs[] = {{"allowzero", A_INT}, {NULL, 0}};

/* Reshape of an activation. aicon must know which target axis holds the batch: the one a shape
 * computation marks (x.size(0) * heads), else the -1 of a graph written with a symbolic batch, else,
 * for a graph written with a fixed batch B, the axis that can hold B with the rest of the elements
 * in front of and behind x's batch around it (x's own batch axis preferred; aic_reshape_full says
 * what fits). Where no axis can, a batch size other than B cannot be derived: refused. */
static aic_status op_reshape(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                             const aic_value_info *xi, aic_value *y) {
    if (!in_name(n, 1))
        return unsupported(im, "the shape must be given as an input (opset 5 and later)");
    int64_t st[SHAPE_MAX], full[AIC_MAX_DIMS];
    int r, srank;
    if (!shape_like(im, n, 1))
        return unsupported(im, "the shape must be a 1-D int64 constant or shape computation");
    AIC_TRY(shape_in(im, n, 1, st, &r, &srank));
    if (srank != 1)
        return unsupported(im, "the shape must be 1-D");
    if (r < 1 || r > AIC_MAX_DIMS)
        return unsupported(im, "target rank %d is outside 1..%d", r, AIC_MAX_DIMS);
    const int rank = sym_shape(xi, full);
    const int64_t front = aic_value_lead(xi) / xi->fold, behind = xi->fold * aic_value_behind(xi);
    const bool allowzero = attr_int(n, "allowzero", 0) != 0;
    int b = -1, minus = -1;
    int64_t known = 1; /* the product of the fixed sizes */
    for (int i = 0; i < r; i++) {
        if (st[i] == 0 && !allowzero) {
            if (i >= rank)
                return unsupported(im, "target dimension %d is 0 (copy) but the input has rank %d", i, rank);
            st[i] = full[i];
        }
        if (IS_BATCH_TIMES(st[i])) {
            if (b >= 0)
                return unsupported(im, "target dimensions %d and %d both hold the batch size", b, i);
            b = i;
        } else if (st[i] == -1 && minus < 0) {
            minus = i;
        } else if (st[i] <= 0) {
            return unsupported(im, "target dimension %d is %" PRId64, i, st[i]);
        } else if (known > SAMPLE_LIMIT * (int64_t)DIM_LIMIT / st[i]) {
            return unsupported(im, "the target holds more elements than any input can");
        } else {
            known *= st[i];
        }
    }
    const int64_t B = im->export_batch;
    int64_t times = b >= 0 ? BATCH_FACTOR(st[b]) : 0; /* the batch axis holds times x N; 0: what is left */
    if (b < 0 && minus >= 0 && !B) {
        b = minus; /* the batch is symbolic: only -1 can hold it */
        minus = -1;
    } else if (b < 0) {
        if (!B)
            return unsupported(im, "no target dimension holds the batch size (the graph's batch is symbolic and "
                                   "the target is all fixed sizes)");
        if (minus >= 0) {
            if ((front * behind * B) % known)
                return unsupported(im, "the target does not divide the input's elements");
            st[minus] = front * behind * B / known;
            known *= st[minus];
            minus = -1;
        }
        if (known != front * behind * B)
            return unsupported(im, "the target holds %" PRId64 " elements, the input %" PRId64, known,
                               front * behind * B);
        int64_t in_front = 1;
        for (int i = 0; i < r; i++) {
            const int64_t in_behind = known / in_front / st[i];
            const bool fits = front % in_front == 0 && behind % in_behind == 0 &&
                              st[i] == front / in_front * B * (behind / in_behind);
            if (fits && (b < 0 || i == xi->batch_axis))
                b = i;
            in_front *= st[i];
        }
        if (b < 0)
            return unsupported(im, "the export's batch size %" PRId64 " is folded into the target's axes so that "
                                   "another batch size cannot be derived; export with a dynamic batch axis "
                                   "(torch.onnx.export(..., dynamic_axes=...))", B);
        times = st[b] / B;
    }
    if (minus >= 0) {
        if (times > SAMPLE_LIMIT || known > SAMPLE_LIMIT || front * behind % (known * times))
            return unsupported(im, "the target does not divide the input's elements");
        st[minus] = front * behind / (known * times);
    }
    st[b] = AIC_DIM_BATCH;
    AIC_TRY(built(im, aic_reshape_full(im->m, name, x, r, st, y)));
    const aic_value_info *yi = &im->m->values[*y];
    if (times && yi->outer * yi->fold != times)
        return unsupported(im, "the target's batch axis holds %" PRId64 " x the batch, the input's elements %" PRId64
                               " x", times, yi->outer * yi->fold);
    return AIC_OK;
}

/* One entry of integer arithmetic on shapes: multiples of the batch size may be multiplied or divided
 * by sizes (x.size(0) * heads) and divided by each other; other arithmetic on them is refused. */
static aic_status shape_arith(importer *im, aic_binary_op kind, int64_t a, int64_t b, int64_t *out) {
    const bool sa = IS_BATCH_TIMES(a), sb = IS_BATCH_TIMES(b);
    if (!sa && !sb) {
        bool overflow;
        switch (kind) {
        case AIC_BINOP_ADD: overflow = __builtin_add_overflow(a, b, out); break;
        case AIC_BINOP_SUB: overflow = __builtin_sub_overflow(a, b, out); break;
        case AIC_BINOP_MUL: overflow = __builtin_mul_overflow(a, b, out); break;
        case AIC_BINOP_DIV:
            if (b == 0 || (a == INT64_MIN && b == -1))
                return unsupported(im, "an integer division by %" PRId64 " of %" PRId64, b, a);
            *out = a / b;
            overflow = false;
            break;
        default: return unsupported(im, "integer arithmetic aicon does not fold on shapes");
        }
        return overflow || IS_BATCH_TIMES(*out) ? unsupported(im, "an integer overflow in a shape computation")
                                                : AIC_OK;
    }
    const int64_t fa = sa ? BATCH_FACTOR(a) : a, fb = sb ? BATCH_FACTOR(b) : b;
    if (kind == AIC_BINOP_MUL && !(sa && sb) && fa > 0 && fb > 0 && fa <= SAMPLE_LIMIT / fb) {
        *out = BATCH_TIMES(fa * fb);
        return AIC_OK;
    }
    if (kind == AIC_BINOP_DIV && sa && fb > 0 && fa % fb == 0) {
        *out = sb ? fa / fb : BATCH_TIMES(fa / fb);
        return AIC_OK;
    }
    return unsupported(im, "integer arithmetic on the batch size that aicon cannot follow");
}

/* Add, Sub, Mul, Div of two shape computations or int64 constants (a scalar broadcasts). */
static aic_status op_arith_shape(importer *im, const Onnx__NodeProto *n, aic_binary_op kind) {
    int64_t a[SHAPE_MAX], b[SHAPE_MAX], out[SHAPE_MAX];
    int la, ra, lb, rb;
    AIC_TRY(shape_in(im, n, 0, a, &la, &ra));
    AIC_TRY(shape_in(im, n, 1, b, &lb, &rb));
    if (la != lb && la != 1 && lb != 1)
        return unsupported(im, "shape vectors of %d and %d entries", la, lb);
    const int len = la > lb ? la : lb;
    for (int i = 0; i < len; i++)
        AIC_TRY(shape_arith(im, kind, a[la == 1 ? 0 : i], b[lb == 1 ? 0 : i], &out[i]));
    set_shape(im, n, out, len, ra > rb ? ra : rb);
    return AIC_OK;
}

/* Whether t, an operand of an elementwise op on x, is trained: one of the graph's initializers (a
 * Constant node's value or a tensor computed at import is a constant) of x's full rank whose first
 * dim, 1, lines up with the batch. That is how torch.onnx writes an nn.Parameter of one value per
 * position of a sample, a ViT's position embedding torch.zeros(1, T, E), which PyTorch trains. The
 * shape keeps aicon's own exports constant (their constants are per-sample shaped, or scalars); a
 * PyTorch buffer of that shape is written the same way and trains too. */
static bool trained_operand(const importer *im, const Onnx__TensorProto *t, const aic_value_info *xi) {
    if ((int)t->n_dims != xi->ndim + 1 || t->dims[0] != 1 || xi->ndim > 4)
        return false;
    for (size_t i = 0; i < im->g->n_initializer; i++)
        if (im->g->initializer[i] == t)
            return true;
    return false;
}

/* x (op) t, or t (op) x when param_left, t a trained operand (trained_operand): a parameter of t's
 * dims without the leading 1, repeated for every sample (aic_expand_param, its gradient summed over
 * the batch), and an op of two activations. */
static aic_status arith_param(importer *im, const char *name, aic_binary_op kind, aic_value x,
                              const Onnx__TensorProto *t, bool param_left, aic_value *y) {
    char aux[AIC_MAX_NAME];
    aic_value p;
    AIC_TRY(unique_name(im, name, aux));
    AIC_TRY(built(im, aic_expand_param(im->m, aux, (int)t->n_dims - 1, t->dims + 1, &p)));
    AIC_TRY(add_job(im, aux, "weight", false, t, false, 1, tensor_numel(t), 1.0f));
    return built(im, aic_binary(im->m, name, kind, param_left ? p : x, param_left ? x : p, y));
}

static aic_status op_arith(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    const aic_binary_op kind = (aic_binary_op)variant;
    if (n->n_input != 2 || !in_name(n, 0) || !in_name(n, 1))
        return unsupported(im, "needs two inputs");
    if (shape_like(im, n, 0) && shape_like(im, n, 1))
        return op_arith_shape(im, n, kind);
    const slot *s0 = table_get(&im->nt, in_name(n, 0)), *s1 = table_get(&im->nt, in_name(n, 1));
    bool act0 = s0 && s0->kind == V_ACT, act1 = s1 && s1->kind == V_ACT;
    bool con0 = s0 && s0->kind == V_CONST, con1 = s1 && s1->kind == V_CONST;
    aic_value y;
    if (act0 && act1) {
        aic_value a, b;
        const aic_value_info *ai, *bi;
        AIC_TRY(act_in(im, n, 0, &a, &ai));
        AIC_TRY(act_in(im, n, 1, &b, &bi));
        bool same = ai->ndim == bi->ndim;
        for (int i = 0; same && i < ai->ndim; i++)
            same = ai->shape[i] == bi->shape[i];
        if (same && kind == AIC_BINOP_ADD) {
            AIC_TRY(built(im, aic_add(im->m, name, a, b, &y)));
        } else {
            if (ai->ndim != bi->ndim)
                return unsupported(im, "operands of ranks %d and %d: broadcasting two activations needs equal ranks "
                                       "(the batch dimensions must line up)", ai->ndim + 1, bi->ndim + 1);
            AIC_TRY(built(im, aic_binary(im->m, name, kind, a, b, &y)));
        }
    } else if ((act0 && con1) || (con0 && act1)) {
        aic_value x;
        const aic_value_info *xi;
        const Onnx__TensorProto *t;
        AIC_TRY(act_in(im, n, act0 ? 0 : 1, &x, &xi));
        AIC_TRY(const_in(im, n, act0 ? 1 : 0, false, &t));
        AIC_TRY(need_float(im, t, "the constant operand"));
        if (t->n_dims > AIC_MAX_DIMS)
            return unsupported(im, "constant of rank %zu (at most %d)", t->n_dims, AIC_MAX_DIMS);
        int64_t shape[AIC_MAX_DIMS];
        for (size_t i = 0; i < t->n_dims; i++)
            shape[i] = t->dims[i];
        if (kind <= AIC_BINOP_DIV && trained_operand(im, t, xi)) {
            AIC_TRY(arith_param(im, name, kind, x, t, con0, &y));
        } else {
            AIC_TRY(built(im, aic_binary_const(im->m, name, kind, x, (int)t->n_dims, shape, con0, &y)));
            AIC_TRY(add_job(im, name, "constant", true, t, false, 1, tensor_numel(t), 1.0f));
        }
    } else if (con0 && con1) {
        return unsupported(im, "both operands are constants; constant folding is not supported yet");
    } else {
        return unsupported(im, "an operand is not available");
    }
    set_act(im, n, y);
    return AIC_OK;
}

static const attr_spec mod_attrs[] = {{"fmod", A_INT}, {NULL, 0}};

/* Mod of floats: fmod 1 C's fmod, fmod 0 Python's % (which ONNX reserves for integers; numpy's mod). */
static aic_status op_mod(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    for (size_t k = 0; k < 2; k++) {
        const slot *s = in_name(n, k) ? table_get(&im->nt, in_name(n, k)) : NULL;
        if (s && ((s->kind == V_ACT && im->m->values[s->v].dtype != AIC_F32) || (s->kind == V_CONST && !is_float(s->t))))
            return unsupported(im, "Mod of integers: aicon's integer tensors are ids and labels, without arithmetic");
    }
    return op_arith(im, n, name, attr_int(n, "fmod", 0) ? AIC_BINOP_FMOD : AIC_BINOP_MOD);
}

static const attr_spec cumsum_attrs[] = {{"exclusive", A_INT}, {"reverse", A_INT}, {NULL, 0}};

/* CumSum along a constant axis (input 1: one int32 or int64 value); aic_cumsum refuses the batch. */
static aic_status op_cumsum(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                            const aic_value_info *xi, aic_value *y) {
    const Onnx__TensorProto *t;
    AIC_TRY(const_in(im, n, 1, false, &t));
    if ((t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT32 && t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64) ||
        tensor_numel(t) != 1)
        return unsupported(im, "the axis must be one int32 or int64 value");
    const int64_t axis = int64_at(t, 0), rank = xi->ndim + 1;
    if (axis < -rank || axis >= rank)
        return unsupported(im, "axis %" PRId64 " is outside -%" PRId64 "..%" PRId64, axis, rank, rank - 1);
    return built(im, aic_cumsum(im->m, name, x, (int)axis, attr_int(n, "exclusive", 0) != 0,
                                attr_int(n, "reverse", 0) != 0, y));
}

static aic_status op_concat(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    if (n->n_input < 1 || n->n_input > AIC_MAX_OP_INPUTS)
        return unsupported(im, "%zu inputs; aicon concatenates 1..%d", n->n_input, AIC_MAX_OP_INPUTS);
    aic_value xs[AIC_MAX_OP_INPUTS], y;
    const aic_value_info *xi = NULL, *ki = NULL;
    for (size_t k = 0; k < n->n_input; k++) {
        AIC_TRY(act_in(im, n, k, &xs[k], &ki));
        if (k == 0)
            xi = ki;
    }
    int64_t axis = attr_int(n, "axis", 1), rank = xi->ndim + 1;
    if (axis < 0)
        axis += rank;
    if (axis < 1 || axis >= rank)
        return unsupported(im, "axis %" PRId64 " is not supported (1..%" PRId64 "; 0 is the batch)",
                           attr_int(n, "axis", 1), rank - 1);
    AIC_TRY(built(im, aic_concat(im->m, name, (int)n->n_input, xs, (int)axis, &y)));
    set_act(im, n, y);
    return AIC_OK;
}

static const attr_spec transpose_attrs[] = {{"perm", A_INTS}, {NULL, 0}};

/* Transpose of an activation (no perm: the axes reversed), or of a 2-D float constant (V_CONST_T). */
static aic_status op_transpose(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    const Onnx__AttributeProto *a = attr(n, "perm");
    const slot *s = in_name(n, 0) ? table_get(&im->nt, in_name(n, 0)) : NULL;
    if (s && s->kind == V_CONST && is_float(s->t) && s->t->n_dims == 2 &&
        (!a || (a->n_ints == 2 && a->ints[0] == 1 && a->ints[1] == 0))) {
        slot *o = table_get(&im->nt, n->output[0]);
        o->kind = V_CONST_T;
        o->t = s->t;
        return AIC_OK;
    }
    aic_value x, yv;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    const int rank = xi->ndim + 1;
    if (a && a->n_ints != (size_t)rank)
        return unsupported(im, "perm has %zu entries but the input has rank %d", a->n_ints, rank);
    int perm[AIC_MAX_DIMS];
    for (int i = 0; i < rank; i++) {
        int64_t p = a ? a->ints[i] : rank - 1 - i;
        if (p < 0)
            p += rank;
        if (p < 0 || p >= rank)
            return unsupported(im, "perm entry %" PRId64 " is outside the rank %d", a->ints[i], rank);
        perm[i] = (int)p;
    }
    AIC_TRY(built(im, aic_transpose(im->m, name, x, perm, &yv)));
    set_act(im, n, yv);
    return AIC_OK;
}

static aic_status op_constant(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    static const attr_spec known[] = {{"value", A_TENSOR}, {NULL, 0}};
    AIC_TRY(check_attrs(im, n, known));
    const Onnx__AttributeProto *a = attr(n, "value");
    if (!a || !a->t)
        return unsupported(im, "only a tensor `value` is supported");
    if (n->n_output != 1)
        return unsupported(im, "Constant has one output");
    slot *o = table_get(&im->nt, n->output[0]);
    o->kind = V_CONST;
    o->t = a->t;
    return AIC_OK;
}

/* Concat of shapes is computed at import; of activations, an op. */
static aic_status op_concat_any(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    bool all = n->n_input > 0;
    for (size_t k = 0; k < n->n_input && all; k++)
        all = shape_like(im, n, k);
    return all ? op_concat_shape(im, n, name, variant) : op_concat(im, n, name, variant);
}

/* ---- slicing: Slice, Pad, Split, Squeeze, Unsqueeze ----------------------------------------------- */

#define SPLIT_MAX 64 /* outputs of one Split */

/* Input k as at most max integers: an int64 or int32 constant of rank 0 or 1 (Slice's starts and
 * ends, Pad's pads, Split's sizes, Squeeze's axes). */
static aic_status ints_in(importer *im, const Onnx__NodeProto *n, size_t k, const char *what, int max, int64_t *v,
                          int *len) {
    const Onnx__TensorProto *t;
    AIC_TRY(const_in(im, n, k, false, &t));
    const bool i32 = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    if ((!i32 && t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64) || t->n_dims > 1)
        return unsupported(im, "%s must be an int64 or int32 constant of rank 0 or 1", what);
    const int64_t count = tensor_numel(t);
    if (count > max)
        return unsupported(im, "%s has %" PRId64 " entries, at most %d", what, count, max);
    for (int64_t i = 0; i < count; i++) {
        if (!i32) {
            v[i] = int64_at(t, i);
        } else if (t->has_raw_data) { /* little-endian whatever the host */
            const uint8_t *b = t->raw_data.data + 4 * i;
            v[i] = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
        } else {
            v[i] = t->int32_data[i];
        }
    }
    *len = (int)count;
    return AIC_OK;
}

/* An ints attribute of at most max entries into v, *len its count (-1 when absent). */
static aic_status ints_attr_list(importer *im, const Onnx__NodeProto *n, const char *name, int max, int64_t *v,
                                 int *len) {
    const Onnx__AttributeProto *a = attr(n, name);
    *len = -1;
    if (!a)
        return AIC_OK;
    if (a->n_ints > (size_t)max)
        return unsupported(im, "attribute '%s' has %zu entries, at most %d", name, a->n_ints, max);
    for (size_t i = 0; i < a->n_ints; i++)
        v[i] = a->ints[i];
    *len = (int)a->n_ints;
    return AIC_OK;
}

static const attr_spec slice_attrs[] = {{"starts", A_INTS}, {"ends", A_INTS}, {"axes", A_INTS}, {NULL, 0}};

/* Slice: starts, ends and axes attributes before opset 10; from 10 on int constant inputs, and steps.
 * No axes: the first len(starts) axes, the batch's among them. An entry on the batch axis that keeps
 * it whole (start 0, end past any batch, step 1: x[:, 1:3] as exported) is dropped; any other there is
 * refused by aic_slice. */
static aic_status op_slice(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                           const aic_value_info *xi, aic_value *y) {
    static const char *const what[4] = {"starts", "ends", "axes", "steps"};
    const int64_t rank = xi->ndim + 1;
    int64_t v[4][AIC_MAX_DIMS];
    int len[4] = {-1, -1, -1, -1};
    const bool inputs = opset_of(im, n->domain) >= 10;
    for (int i = 0; i < 4; i++) {
        if (inputs && attr(n, what[i]))
            return unsupported(im, "attribute '%s': from opset 10 on it is an input", what[i]);
        if (inputs && (i < 2 || in_name(n, (size_t)i + 1)))
            AIC_TRY(ints_in(im, n, (size_t)i + 1, what[i], AIC_MAX_DIMS, v[i], &len[i]));
        else if (!inputs && i < 3)
            AIC_TRY(ints_attr_list(im, n, what[i], AIC_MAX_DIMS, v[i], &len[i]));
    }
    if (len[0] < 0 || len[1] != len[0] || (len[2] >= 0 && len[2] != len[0]) || (len[3] >= 0 && len[3] != len[0]))
        return unsupported(im, "starts and ends must be given, and starts, ends, axes and steps of one length");
    int axes[AIC_MAX_DIMS], k = 0;
    int64_t starts[AIC_MAX_DIMS], ends[AIC_MAX_DIMS], steps[AIC_MAX_DIMS];
    for (int i = 0; i < len[0]; i++) {
        const int64_t a = len[2] >= 0 ? v[2][i] : i, step = len[3] >= 0 ? v[3][i] : 1;
        if (a < -rank || a >= rank)
            return unsupported(im, "axis %" PRId64 " is out of range for rank %" PRId64, a, rank);
        if ((a < 0 ? a + rank : a) == xi->batch_axis && v[0][i] == 0 && v[1][i] >= INT32_MAX && step == 1)
            continue;
        axes[k] = (int)a;
        starts[k] = v[0][i];
        ends[k] = v[1][i];
        steps[k++] = step;
    }
    return built(im, aic_slice(im->m, name, x, k, axes, starts, ends, steps, y));
}

static const attr_spec pad_attrs[] = {{"mode", A_STRING}, {"pads", A_INTS}, {"value", A_FLOAT}, {NULL, 0}};

/* Pad: pads and value attributes before opset 11; from 11 on pads an int constant input and
 * constant_value an optional float scalar constant, and from 18 axes, the axes the pads are for. */
static aic_status op_pad(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                         const aic_value_info *xi, aic_value *y) {
    const int64_t rank = xi->ndim + 1;
    char buf[32];
    const char *ms = attr_string(n, "mode", "constant", buf, sizeof buf);
    int mode = 0;
    while (aic_pad_mode_name(mode) && strcmp(ms, aic_pad_mode_name(mode)) != 0)
        mode++;
    if (!aic_pad_mode_name(mode))
        return unsupported(im, "mode '%s' (aicon pads constant, reflect and edge)", ms);
    int64_t pads[2 * AIC_MAX_DIMS], axes[AIC_MAX_DIMS];
    int np = -1, na = -1;
    float value = attr_float(n, "value", 0.0f);
    if (opset_of(im, n->domain) < 11) {
        AIC_TRY(ints_attr_list(im, n, "pads", 2 * AIC_MAX_DIMS, pads, &np));
    } else {
        if (attr(n, "pads") || attr(n, "value"))
            return unsupported(im, "attributes 'pads' and 'value': from opset 11 on they are inputs");
        AIC_TRY(ints_in(im, n, 1, "pads", 2 * AIC_MAX_DIMS, pads, &np));
        if (in_name(n, 2)) {
            const Onnx__TensorProto *t;
            AIC_TRY(const_in(im, n, 2, false, &t));
            if (!is_float(t) || tensor_numel(t) != 1)
                return unsupported(im, "constant_value must be a float scalar constant");
            value = float_at(t, 0);
        }
        if (in_name(n, 3))
            AIC_TRY(ints_in(im, n, 3, "axes", AIC_MAX_DIMS, axes, &na));
    }
    const int count = na >= 0 ? na : (int)rank;
    if (np != 2 * count)
        return unsupported(im, "%d pads for %d axes (begins, then ends)", np, count);
    int64_t begin[AIC_MAX_DIMS] = {0}, end[AIC_MAX_DIMS] = {0};
    for (int i = 0; i < count; i++) {
        int64_t a = na >= 0 ? axes[i] : i;
        if (a < -rank || a >= rank)
            return unsupported(im, "axis %" PRId64 " is out of range for rank %" PRId64, a, rank);
        a += a < 0 ? rank : 0;
        begin[a] = pads[i];
        end[a] = pads[count + i];
    }
    return built(im, aic_pad(im->m, name, x, begin, end, (aic_pad_mode)mode, value, y));
}

static const attr_spec split_attrs[] = {{"axis", A_INT}, {"split", A_INTS}, {"num_outputs", A_INT}, {NULL, 0}};

/* Split: one aic_slice per output along a per-sample axis. The sizes come from `split` (an attribute
 * before opset 13, an int constant input from it on), else equal parts, one per output (num_outputs
 * from opset 18, the last part then smaller where they do not come out even). */
static aic_status op_split(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    AIC_TRY(check_attrs(im, n, split_attrs));
    aic_value x;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    const int64_t rank = xi->ndim + 1, outs = (int64_t)n->n_output;
    int64_t axis = attr_int(n, "axis", 0), size[SPLIT_MAX];
    if (axis < -rank || axis >= rank)
        return unsupported(im, "axis %" PRId64 " is out of range for rank %" PRId64, axis, rank);
    axis += axis < 0 ? rank : 0;
    if (axis == 0)
        return unsupported(im, "axis 0 is the batch; aicon splits within each sample");
    if (outs > SPLIT_MAX)
        return unsupported(im, "%" PRId64 " outputs, at most %d", outs, SPLIT_MAX);
    const int64_t dim = xi->shape[axis - 1];
    int ns = -1;
    if (in_name(n, 1))
        AIC_TRY(ints_in(im, n, 1, "split", SPLIT_MAX, size, &ns));
    else
        AIC_TRY(ints_attr_list(im, n, "split", SPLIT_MAX, size, &ns));
    if (ns < 0) {
        const int64_t parts = attr_int(n, "num_outputs", outs), chunk = (dim + outs - 1) / outs;
        if (parts != outs)
            return unsupported(im, "num_outputs is %" PRId64 " but the node has %" PRId64 " outputs", parts, outs);
        for (int64_t k = 0; k < outs; k++)
            size[k] = k < outs - 1 ? chunk : dim - chunk * (outs - 1);
        ns = (int)outs;
    }
    int64_t total = 0;
    for (int k = 0; k < ns; k++)
        total += size[k] > 0 ? size[k] : 0;
    if (ns != outs || total != dim)
        return unsupported(im, "sizes of %d parts adding up to %" PRId64 " for %" PRId64 " outputs of axis %" PRId64
                               " of size %" PRId64, ns, total, outs, axis, dim);
    int64_t start = 0;
    for (int64_t k = 0; k < outs; k++) {
        const int64_t end = start + size[k];
        const int ax = (int)axis;
        if (n->output[k][0]) {
            char base[AIC_MAX_NAME + 24], oname[AIC_MAX_NAME];
            snprintf(base, sizeof base, "%s_%" PRId64, name, k);
            if (k > 0)
                AIC_TRY(unique_name(im, base, oname));
            slot *s = table_get(&im->nt, n->output[k]);
            AIC_TRY(built(im, aic_slice(im->m, k > 0 ? oname : name, x, 1, &ax, &start, &end, NULL, &s->v)));
            s->kind = V_ACT;
        }
        start = end;
    }
    return AIC_OK;
}

/* Squeeze and (variant 1) Unsqueeze of an activation: a reshape of its full shape, no copy. The axes
 * are an attribute before opset 13 and an int constant input from it on. A squeezed axis must have
 * size 1 and not hold the batch; an axis inserted at 0 would put a 1 in front of the batch, which
 * aicon keeps first for now. */
static aic_status op_squeeze(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                             const aic_value_info *xi, aic_value *y) {
    const bool un = variant == 1;
    int64_t axes[AIC_MAX_DIMS], full[AIC_MAX_DIMS], shape[AIC_MAX_DIMS];
    int na = -1;
    if (in_name(n, 1))
        AIC_TRY(ints_in(im, n, 1, "axes", AIC_MAX_DIMS, axes, &na));
    else
        AIC_TRY(ints_attr_list(im, n, "axes", AIC_MAX_DIMS, axes, &na));
    if (na < 0 && un)
        return unsupported(im, "no axes");
    if (na < 0)
        return unsupported(im, "no axes: ONNX then squeezes every axis of size 1, the batch too when it is 1; "
                               "aicon needs the axes");
    const int rank = xi->ndim + 1, out_rank = un ? rank + na : rank - na;
    if (out_rank < 1 || out_rank > AIC_MAX_DIMS)
        return unsupported(im, "rank %d out, aicon has 1..%d", out_rank, AIC_MAX_DIMS);
    aic_value_full_shape(xi, 1, full);
    full[xi->batch_axis] = AIC_DIM_BATCH;
    bool listed[AIC_MAX_DIMS] = {false};
    for (int i = 0; i < na; i++) {
        const int r = un ? out_rank : rank;
        const int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
        if (a < 0 || a >= r)
            return unsupported(im, "axis %" PRId64 " is out of range for rank %d", axes[i], r);
        if (listed[a])
            return unsupported(im, "axis %" PRId64 " is listed twice", a);
        listed[a] = true;
        if (!un && a == xi->batch_axis)
            return unsupported(im, "axis %" PRId64 " holds the batch; aicon squeezes within each sample", a);
        if (!un && full[a] != 1)
            return unsupported(im, "axis %" PRId64 " has size %" PRId64 ", not 1", a, full[a]);
        if (un && a == 0)
            return unsupported(im, "a new axis 0 would stand in front of the batch; aicon keeps the batch first");
    }
    int r = 0;
    for (int i = 0, j = 0; i < (un ? out_rank : rank); i++)
        if (un)
            shape[r++] = listed[i] ? 1 : full[j++];
        else if (!listed[i])
            shape[r++] = full[i];
    return built(im, aic_reshape_full(im->m, name, x, r, shape, y));
}

/* Unsqueeze of a shape computation is folded at import; of an activation, a reshape. */
static aic_status op_unsqueeze_any(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    if (shape_like(im, n, 0))
        return op_unsqueeze_shape(im, n, name, variant);
    aic_value x, y;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    AIC_TRY(op_squeeze(im, n, name, 1, x, xi, &y));
    set_act(im, n, y);
    return AIC_OK;
}

static const attr_spec resize_attrs[] = {{"antialias", A_INT}, {"axes", A_INTS},
                                         {"coordinate_transformation_mode", A_STRING}, {"cubic_coeff_a", A_FLOAT},
                                         {"exclude_outside", A_INT}, {"extrapolation_value", A_FLOAT},
                                         {"keep_aspect_ratio_policy", A_STRING}, {"mode", A_STRING},
                                         {"nearest_mode", A_STRING}, {NULL, 0}};
static const attr_spec upsample_attrs[] = {{"mode", A_STRING}, {"scales", A_FLOATS}, {NULL, 0}};

/* A string attribute as the value i whose names(i) it is (def when absent), or unsupported. */
static aic_status attr_choice(importer *im, const Onnx__NodeProto *n, const char *name, const char *(*names)(int),
                              int def, int *out) {
    char buf[64];
    const char *v = attr_string(n, name, NULL, buf, sizeof buf);
    *out = def;
    for (int i = 0; v && names(i); i++)
        if (strcmp(v, names(i)) == 0) {
            *out = i;
            return AIC_OK;
        }
    return v ? unsupported(im, "%s '%s' is not supported", name, v) : AIC_OK;
}

/* Resize (variant 0; opset 10: X and scales; 11 on: X, roi, scales, sizes and the coordinate and
 * nearest modes; 18: axes) and Upsample (variant 1; opset 7: a scales attribute, 9: X and scales) of
 * N x C x H x W, nearest or linear over H and W: scales on N and C are 1, sizes keep C (its batch
 * entry is the exporter's batch, which aicon does not fix). Before opset 11 coordinates are asymmetric
 * and nearest takes the floor upsampling and the ceiling downsampling, as onnxruntime reads it. */
static aic_status op_resize(importer *im, const Onnx__NodeProto *n, const char *name, int variant, aic_value x,
                            const aic_value_info *xi, aic_value *y) {
    const bool modern = variant == 0 && opset_of(im, n->domain) >= 11;
    if (xi->ndim != 3)
        return unsupported(im, "only N x C x H x W inputs are resized (X has rank %d)", xi->ndim + 1);
    int mode, coord = AIC_RESIZE_ASYMMETRIC, nearest = AIC_RESIZE_FLOOR;
    AIC_TRY(attr_choice(im, n, "mode", aic_resize_mode_name, AIC_RESIZE_NEAREST, &mode));
    if (modern) {
        AIC_TRY(attr_choice(im, n, "coordinate_transformation_mode", aic_resize_coord_name, AIC_RESIZE_HALF_PIXEL,
                            &coord));
        AIC_TRY(attr_choice(im, n, "nearest_mode", aic_resize_nearest_name, AIC_RESIZE_ROUND_PREFER_FLOOR, &nearest));
    }
    char buf[32];
    if (attr_int(n, "antialias", 0) != 0 || attr_int(n, "exclude_outside", 0) != 0)
        return unsupported(im, "antialias and exclude_outside are not supported");
    if (strcmp(attr_string(n, "keep_aspect_ratio_policy", "stretch", buf, sizeof buf), "stretch") != 0)
        return unsupported(im, "keep_aspect_ratio_policy '%s' is not supported (only stretch)", buf);
    int axes[4] = {0, 1, 2, 3}, n_axes = 4; /* the axes scales or sizes give */
    const Onnx__AttributeProto *aa = attr(n, "axes");
    if (aa) {
        if (aa->n_ints < 1 || aa->n_ints > 4)
            return unsupported(im, "axes has %zu entries for rank 4", aa->n_ints);
        n_axes = (int)aa->n_ints;
        for (int i = 0; i < n_axes; i++) {
            const int64_t v = aa->ints[i] < 0 ? aa->ints[i] + 4 : aa->ints[i];
            if (v < 0 || v > 3)
                return unsupported(im, "axis %" PRId64 " is out of range for rank 4", aa->ints[i]);
            axes[i] = (int)v;
        }
    }
    float scale[4] = {1, 1, 1, 1};
    int64_t size[4] = {BATCH_TIMES(1), xi->shape[0], xi->shape[1], xi->shape[2]};
    bool sized = false;
    const Onnx__AttributeProto *sa = variant == 1 ? attr(n, "scales") : NULL;
    const Onnx__TensorProto *t = NULL;
    if (!sa && in_name(n, modern ? 2 : 1))
        AIC_TRY(const_in(im, n, modern ? 2 : 1, false, &t));
    if (t && tensor_numel(t) == 0)
        t = NULL; /* opset 11 asks for an empty scales beside sizes */
    if (sa || t) {
        if (t && !is_float(t))
            return unsupported(im, "scales has element type %" PRId32 "; it is float", t->data_type);
        const int64_t count = sa ? (int64_t)sa->n_floats : tensor_numel(t);
        if (count != n_axes)
            return unsupported(im, "%" PRId64 " scales for %d axes", count, n_axes);
        for (int i = 0; i < n_axes; i++)
            scale[axes[i]] = sa ? sa->floats[i] : float_at(t, i);
    }
    if (modern && in_name(n, 3)) {
        if (t)
            return unsupported(im, "both scales and sizes are given");
        int64_t v[SHAPE_MAX];
        int len, rank;
        AIC_TRY(shape_in(im, n, 3, v, &len, &rank));
        if (rank != 1 || len != n_axes)
            return unsupported(im, "sizes must be 1-D with an entry for each of %d axes", n_axes);
        for (int i = 0; i < n_axes; i++)
            size[axes[i]] = v[i];
        sized = true;
    } else if (!sa && !t) {
        return unsupported(im, "neither scales nor sizes is given");
    }
    aic_resize2d_opts o = {.mode = (aic_resize_mode)mode, .coord = (aic_resize_coord)coord};
    if (sized) {
        if (size[1] != xi->shape[0])
            return unsupported(im, "sizes resizes the channels (%" PRId64 " to %" PRId64 "); aicon resizes H and W",
                               xi->shape[0], size[1]);
        if (size[2] < 1 || size[2] > DIM_LIMIT || size[3] < 1 || size[3] > DIM_LIMIT)
            return unsupported(im, "sizes %" PRId64 "x%" PRId64 " is out of range", size[2], size[3]);
        o.size[0] = (int)size[2];
        o.size[1] = (int)size[3];
    } else {
        if (scale[0] != 1.0f || scale[1] != 1.0f)
            return unsupported(im, "scales on N and C must be 1 (they are %g and %g)", scale[0], scale[1]);
        for (int i = 2; i < 4; i++) {
            /* align_corners divides by the resized length less 1, pytorch_half_pixel tests it for 1:
             * onnxruntime and PyTorch take the output size, ONNX's reference in x scale unrounded */
            const float len = scale[i] * (float)xi->shape[i - 1];
            if ((coord == AIC_RESIZE_ALIGN_CORNERS || (coord == AIC_RESIZE_PYTORCH_HALF_PIXEL && len < 2.0f)) &&
                len != floorf(len))
                return unsupported(im, "%s with a scale that makes %g of %" PRId64 " positions: onnxruntime and "
                                   "PyTorch map by the %d output positions, ONNX's reference by %g",
                                   aic_resize_coord_name(coord), len, xi->shape[i - 1], (int)len, len);
        }
        o.scale[0] = scale[2];
        o.scale[1] = scale[3];
    }
    if (!modern && mode == AIC_RESIZE_NEAREST) { /* one rounding for both axes */
        if ((scale[2] < 1.0f && scale[3] > 1.0f) || (scale[2] > 1.0f && scale[3] < 1.0f))
            return unsupported(im, "nearest before opset 11 upsampling one axis and downsampling the other");
        nearest = scale[2] < 1.0f || scale[3] < 1.0f ? AIC_RESIZE_CEIL : AIC_RESIZE_FLOOR;
    }
    o.nearest = (aic_resize_nearest)nearest;
    return built(im, aic_resize2d(im->m, name, x, &o, y));
}

/* LSTM and GRU (opset 7 on; layout from 14): X sequence first (layout 0, T x N x I, the batch moved to
 * the front for aicon's op) or batch first (layout 1); W, R and B constants; no sequence_lens; initial
 * states absent or zeros (a constant, or PyTorch's ConstantOfShape of the batch-sized shape: V_ZEROS).
 * Y and Y_h are rebuilt from the op's N x T x (dirs H) output; Y_c must be unused. */
static const attr_spec rnn_attrs[] = {{"activation_alpha", A_FLOATS}, {"activation_beta", A_FLOATS},
                                      {"activations", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS},
                                      {"clip", A_FLOAT}, {"direction", A_STRING}, {"hidden_size", A_INT},
                                      {"input_forget", A_INT}, {"layout", A_INT}, {"linear_before_reset", A_INT},
                                      {NULL, 0}};

/* Optional input k is absent or zeros (an initial state, LSTM's peepholes). */
static aic_status rnn_zero_in(importer *im, const Onnx__NodeProto *n, size_t k, const char *what) {
    const slot *s = in_name(n, k) ? table_get(&im->nt, in_name(n, k)) : NULL;
    if (!in_name(n, k) || (s && s->kind == V_ZEROS))
        return AIC_OK;
    const Onnx__TensorProto *t;
    AIC_TRY(const_in(im, n, k, false, &t));
    for (int64_t i = 0; i < tensor_numel(t); i++)
        if (elem_at(t, i) != 0.0)
            return unsupported(im, "%s '%.100s' is not zeros; aicon's %s starts from zeros", what, in_name(n, k),
                               n->op_type);
    return AIC_OK;
}

static aic_status op_rnn(importer *im, const Onnx__NodeProto *n, const char *name, int variant) {
    const bool lstm = variant == AIC_OP_LSTM;
    AIC_TRY(check_attrs(im, n, rnn_attrs));
    if (lstm ? attr(n, "linear_before_reset") != NULL : attr(n, "input_forget") != NULL)
        return unsupported(im, "attribute '%s' is not one of %s's", lstm ? "linear_before_reset" : "input_forget",
                           n->op_type);
    if (attr(n, "activations") || attr(n, "activation_alpha") || attr(n, "activation_beta") || attr(n, "clip") ||
        attr_int(n, "input_forget", 0) != 0)
        return unsupported(im, "activations, clip and input_forget other than the defaults are not supported");
    AIC_TRY(outputs_at_most(im, n, lstm ? 3 : 2, "there are no more"));
    if (lstm)
        AIC_TRY(outputs_unused(im, n, 2, "aicon computes no Y_c (the last cell state)"));
    char dir_buf[32];
    const char *dir = attr_string(n, "direction", "forward", dir_buf, sizeof dir_buf);
    const int64_t layout = attr_int(n, "layout", 0), H = attr_int(n, "hidden_size", 0), G = lstm ? 4 : 3;
    if (strcmp(dir, "forward") != 0 && strcmp(dir, "bidirectional") != 0)
        return unsupported(im, "direction '%.20s'; aicon runs forward or bidirectional", dir);
    const int64_t D = strcmp(dir, "bidirectional") == 0 ? 2 : 1;
    if (layout != 0 && layout != 1)
        return unsupported(im, "layout %" PRId64 " is not 0 or 1", layout);
    if (layout == 1 && opset_of(im, n->domain) < 14)
        return unsupported(im, "layout is an attribute from opset 14");
    if (in_name(n, 4))
        return unsupported(im, "sequence_lens is not supported: every sequence runs its full length");
    AIC_TRY(rnn_zero_in(im, n, 5, "initial_h"));
    if (lstm) {
        AIC_TRY(rnn_zero_in(im, n, 6, "initial_c"));
        AIC_TRY(rnn_zero_in(im, n, 7, "the peepholes P"));
    }
    aic_value x, xb, y;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    if (xi->ndim != 2 || xi->batch_axis != 1 - layout || xi->outer != 1 || xi->fold != 1)
        return unsupported(im, "X must be %s with aicon's batch on axis %d (the recurrence runs along axis %d, "
                           "which cannot be the batch of a graph input or of the ops before)",
                           layout ? "N x T x I" : "T x N x I", (int)(1 - layout), (int)layout);
    const int64_t T = xi->shape[0], I = xi->shape[1];
    const Onnx__TensorProto *w, *r, *b;
    AIC_TRY(const_in(im, n, 1, false, &w));
    AIC_TRY(const_in(im, n, 2, false, &r));
    AIC_TRY(const_in(im, n, 3, true, &b));
    AIC_TRY(need_float(im, w, "W"));
    AIC_TRY(need_float(im, r, "R"));
    if (b)
        AIC_TRY(need_float(im, b, "B"));
    else
        AIC_TRY(new_const(im, T_FLOAT, 2, (int64_t[]){D, 2 * G * H}, (Onnx__TensorProto **)&b));
    if (H <= 0 || w->n_dims != 3 || w->dims[0] != D || w->dims[1] != G * H || w->dims[2] != I || r->n_dims != 3 ||
        r->dims[0] != D || r->dims[1] != G * H || r->dims[2] != H || b->n_dims != 2 || b->dims[0] != D ||
        b->dims[1] != 2 * G * H)
        return unsupported(im, "W, R and B must be [%" PRId64 ", %" PRId64 ", %" PRId64 "], [%" PRId64 ", %" PRId64
                           ", %" PRId64 "] and [%" PRId64 ", %" PRId64 "] for hidden_size %" PRId64,
                           D, G * H, I, D, G * H, H, D, 2 * G * H, H);
    char aux[AIC_MAX_NAME];
    xb = x;
    if (layout == 0) {
        AIC_TRY(unique_name(im, name, aux));
        AIC_TRY(built(im, aic_transpose(im->m, aux, x, (const int[]){1, 0, 2}, &xb)));
    }
    const aic_rnn_opts o = {.hidden = H, .bidirectional = D == 2,
                            .linear_before_reset = !lstm && attr_int(n, "linear_before_reset", 0) != 0};
    AIC_TRY(built(im, (lstm ? aic_lstm : aic_gru)(im->m, name, xb, &o, &y)));
    AIC_TRY(add_job(im, name, "W", false, w, false, 1, tensor_numel(w), 1.0f));
    AIC_TRY(add_job(im, name, "R", false, r, false, 1, tensor_numel(r), 1.0f));
    AIC_TRY(add_job(im, name, "B", false, b, false, 1, tensor_numel(b), 1.0f));
    if (n->n_output > 0 && n->output[0][0]) { /* Y: N x T x D x H, layout 0 T x D x N x H */
        aic_value y4, yo;
        AIC_TRY(unique_name(im, name, aux));
        AIC_TRY(built(im, aic_reshape_full(im->m, aux, y, 4, (int64_t[]){AIC_DIM_BATCH, T, D, H}, &y4)));
        yo = y4;
        if (layout == 0) {
            AIC_TRY(unique_name(im, name, aux));
            AIC_TRY(built(im, aic_transpose(im->m, aux, y4, (const int[]){1, 2, 0, 3}, &yo)));
        }
        set_output(im, n, 0, yo);
    }
    if (n->n_output > 1 && n->output[1][0]) { /* Y_h: the forward direction's last step, the reverse's first */
        aic_value last[2], hn, ho;
        for (int64_t d = 0; d < D; d++) {
            AIC_TRY(unique_name(im, name, aux));
            AIC_TRY(built(im, aic_slice(im->m, aux, y, 2, (const int[]){1, 2}, (int64_t[]){d ? 0 : T - 1, d * H},
                                        (int64_t[]){d ? 1 : T, (d + 1) * H}, NULL, &last[d])));
        }
        hn = last[0];
        if (D == 2) {
            AIC_TRY(unique_name(im, name, aux));
            AIC_TRY(built(im, aic_concat(im->m, aux, 2, last, 1, &hn)));
        }
        ho = hn;
        if (layout == 0) {
            AIC_TRY(unique_name(im, name, aux));
            AIC_TRY(built(im, aic_transpose(im->m, aux, hn, (const int[]){1, 0, 2}, &ho)));
        }
        set_output(im, n, 1, ho);
    }
    return AIC_OK;
}

/* Every ONNX op type aicon reads (default domain) and its importer. Before the importer runs,
 * import_node checks the opset and, where the row lists the attributes known, the attributes and the
 * outputs: only the first may be named, or with `unused` (why the others are refused) others too
 * where nothing reads them. A row without `known` checks its node itself. */
static const struct {
    const char *type;
    int since; /* the first opset aicon reads it from (0: any) */
    const attr_spec *known;
    const char *unused;
    node_fn node; /* or */
    act_fn act;
    int variant; /* handed to the importer: the op it builds where one importer builds several */
} node_importers[] = {
    {"Constant", .node = op_constant},
    {"Gemm", .known = gemm_attrs, .act = op_gemm},
    {"MatMul", .known = NO_ATTRS, .act = op_matmul},
    {"Conv", .known = conv_attrs, .act = op_conv},
    {"MaxPool", .known = maxpool_attrs, .act = op_pool, .variant = AIC_OP_MAXPOOL2D},
    {"AveragePool", .known = avgpool_attrs, .act = op_pool, .variant = AIC_OP_AVGPOOL2D},
    {"GlobalAveragePool", .known = NO_ATTRS, .act = op_global_avgpool},
    {"BatchNormalization", .known = batchnorm_attrs,
     .unused = "aicon keeps BatchNormalization's running statistics internally", .act = op_batchnorm},
    {"LayerNormalization", 17, .node = op_layernorm_node},
    {"Dropout", .known = dropout_attrs, .unused = "the mask output is not supported", .act = op_dropout},
    {"LogSoftmax", .known = AXIS_ATTRS, .act = op_softmax, .variant = AIC_OP_LOG_SOFTMAX},
    {"Softmax", .known = AXIS_ATTRS, .act = op_softmax, .variant = AIC_OP_SOFTMAX},
    {"Clip", .known = clip_attrs, .act = op_clip},
    {"Identity", .known = NO_ATTRS, .node = op_identity},
    {"Flatten", .known = AXIS_ATTRS, .act = op_flatten},
    {"Reshape", .known = reshape_attrs, .act = op_reshape},
    {"Add", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_ADD},
    {"Sub", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_SUB},
    {"Mul", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_MUL},
    {"Div", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_DIV},
    {"Concat", .known = AXIS_ATTRS, .node = op_concat_any},
    {"Where", 9, .known = NO_ATTRS, .node = op_where},
    {"Expand", 8, .known = NO_ATTRS, .node = op_expand},
    {"Sum", 8, .known = NO_ATTRS, .node = op_variadic, .variant = AIC_BINOP_ADD},
    {"GlobalMaxPool", .known = NO_ATTRS, .act = op_global_maxpool},
    {"InstanceNormalization", 6, .known = (const attr_spec[]){{"epsilon", A_FLOAT}, {NULL, 0}}, .act = op_instancenorm},
    {"PRelu", 9, .known = NO_ATTRS, .act = op_prelu},
    {"DepthToSpace", .known = (const attr_spec[]){{"blocksize", A_INT}, {"mode", A_STRING}, {NULL, 0}},
     .act = op_depth_space, .variant = 0},
    {"SpaceToDepth", .known = (const attr_spec[]){{"blocksize", A_INT}, {NULL, 0}}, .act = op_depth_space,
     .variant = 1},
    {"Tile", 6, .known = NO_ATTRS, .act = op_tile},
    {"Size", .known = NO_ATTRS, .node = op_size},
    {"Mean", 8, .known = NO_ATTRS, .node = op_variadic, .variant = -1},
    {"Max", 8, .known = NO_ATTRS, .node = op_variadic, .variant = AIC_BINOP_MAX},
    {"Min", 8, .known = NO_ATTRS, .node = op_variadic, .variant = AIC_BINOP_MIN},
    {"Equal", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_EQUAL},
    {"Less", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_LESS},
    {"Greater", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_GREATER},
    {"LessOrEqual", 12, .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_LESS_EQUAL},
    {"GreaterOrEqual", 12, .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_GREATER_EQUAL},
    {"And", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_AND},
    {"Or", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_OR},
    {"Xor", .known = NO_ATTRS, .node = op_arith, .variant = AIC_BINOP_XOR},
    {"Trilu", 14, .known = trilu_attrs, .node = op_trilu},
    {"ConstantOfShape", 9, .known = constant_of_shape_attrs, .node = op_constant_only},
    {"Shape", .known = shape_attrs, .node = op_shape},
    {"Gather", .known = AXIS_ATTRS, .node = op_gather_any},
    {"Unsqueeze", .known = unsqueeze_attrs, .node = op_unsqueeze_any},
    {"Cast", .known = cast_attrs, .node = op_cast},
    {"Transpose", .known = transpose_attrs, .node = op_transpose},
    {"Slice", .known = slice_attrs, .act = op_slice},
    {"Pad", 2, .known = pad_attrs, .act = op_pad},
    {"Split", .node = op_split},
    {"Squeeze", .known = unsqueeze_attrs, .act = op_squeeze},
    {"SoftmaxCrossEntropyLoss", 12, .act = op_class_loss, .variant = AIC_OP_SOFTMAX_XENT},
    {"NegativeLogLikelihoodLoss", 12, .act = op_class_loss, .variant = AIC_OP_NLL},
    {"LSTM", 7, .node = op_rnn, .variant = AIC_OP_LSTM},
    {"GRU", 7, .node = op_rnn, .variant = AIC_OP_GRU},
    {"ConvTranspose", .known = convt_attrs, .act = op_conv_transpose},
    {"Resize", 10, .known = resize_attrs, .act = op_resize},
    {"Upsample", 7, .known = upsample_attrs, .act = op_resize, .variant = 1},
#define AIC_REDUCE(E, name, onnx) {onnx, .known = reduce_attrs, .act = op_reduce, .variant = AIC_REDUCE_##E},
#include "layers/reduce_ops.def"
#undef AIC_REDUCE
    /* found before its unary_ops.def row, which would take its attributes as floats */
    {"IsInf", 10, .known = (const attr_spec[]){{"detect_positive", A_INT}, {"detect_negative", A_INT}, {NULL, 0}},
     .act = op_unary, .variant = AIC_UNARY_IS_INF},
#define AIC_UNARY(E, name, onnx, since, a0, d0, a1, d1) \
    {onnx, since, (const attr_spec[]){{a0, A_FLOAT}, {a1, A_FLOAT}, {NULL, 0}}, .act = op_unary, \
     .variant = AIC_UNARY_##E},
#include "layers/unary_ops.def"
#undef AIC_UNARY
    {"Mod", 10, .known = mod_attrs, .node = op_mod},
    {"CumSum", 11, .known = cumsum_attrs, .act = op_cumsum},
    {"CastLike", 15, .known = castlike_attrs, .node = op_castlike},
    {"ArgMax", 11, .known = argmax_attrs, .act = op_argmax, .variant = 0},
    {"ArgMin", 11, .known = argmax_attrs, .act = op_argmax, .variant = 1},
    {"Hardmax", .known = AXIS_ATTRS, .act = op_softmax, .variant = AIC_OP_HARDMAX},
    {"GatherElements", 11, .known = AXIS_ATTRS, .node = op_elements, .variant = 0},
    {"ScatterElements", 11, .known = scatter_attrs, .node = op_elements, .variant = 1},
    {"Scatter", 9, .known = AXIS_ATTRS, .node = op_elements, .variant = 1},
    {"OneHot", 9, .known = AXIS_ATTRS, .node = op_one_hot},
    {"Compress", 9, .known = AXIS_ATTRS, .node = op_compress},
};

static aic_status import_node(importer *im, const Onnx__NodeProto *n, const char *name) {
    const char *op = n->op_type ? n->op_type : "";
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
        return unsupported(im, "domain '%.100s' is not supported", n->domain);
    const bool rnn = strcmp(op, "LSTM") == 0 || strcmp(op, "GRU") == 0; /* may name Y_h alone */
    if (n->n_output < 1 || (!n->output[0][0] && !rnn))
        return unsupported(im, "the node has no first output");
    size_t i = 0;
    while (i < sizeof node_importers / sizeof *node_importers && strcmp(op, node_importers[i].type) != 0)
        i++;
    if (i == sizeof node_importers / sizeof *node_importers)
        return unsupported(im, "aicon has no such op yet");
    if (opset_of(im, n->domain) < node_importers[i].since)
        return unsupported(im, "aicon reads %s from opset %d", op, node_importers[i].since);
    if (node_importers[i].known) {
        AIC_TRY(check_attrs(im, n, node_importers[i].known));
        const char *unused = node_importers[i].unused;
        AIC_TRY(unused ? outputs_unused(im, n, 1, unused) : outputs_at_most(im, n, 1, "aicon computes only the first"));
    }
    bool folded;
    AIC_TRY(fold_node(im, n, &folded));
    if (folded)
        return AIC_OK;
    if (strcmp(op, "ReduceMean") == 0) {
        bool fused;
        AIC_TRY(fuse_layernorm(im, n, name, &fused));
        if (fused)
            return AIC_OK;
    }
    if (node_importers[i].node)
        return node_importers[i].node(im, n, name, node_importers[i].variant);
    aic_value x, y;
    const aic_value_info *xi;
    AIC_TRY(act_in(im, n, 0, &x, &xi));
    AIC_TRY(node_importers[i].act(im, n, name, node_importers[i].variant, x, xi, &y));
    set_act(im, n, y);
    return AIC_OK;
}

/* ---- the graph -------------------------------------------------------------------------------- */

/* Fills the name table: initializers as constants, other graph inputs (not yet bound), node outputs
 * with their makers. */
static aic_status index_names(importer *im) {
    const Onnx__GraphProto *g = im->g;
    AIC_TRY(aic_onnx_names_init(&im->nt.names, g));
    im->nt.s = calloc(im->nt.names.cap, sizeof *im->nt.s);
    if (!im->nt.s)
        return nomem();
    for (size_t i = 0; i < g->n_initializer; i++) {
        slot *s = table_add(&im->nt, g->initializer[i]->name, MAKER_GRAPH);
        s->kind = V_CONST;
        s->t = g->initializer[i];
    }
    for (size_t i = 0; i < g->n_input; i++)
        if (!table_get(&im->nt, g->input[i]->name)) /* else an initializer's default: a constant */
            table_add(&im->nt, g->input[i]->name, MAKER_GRAPH)->kind = V_DEAD; /* until aic_input makes it */
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t o = 0; o < g->node[i]->n_output; o++)
            if (g->node[i]->output[o][0])
                table_add(&im->nt, g->node[i]->output[o], (long)i)->kind = V_NONE;
    return AIC_OK;
}

/* Per-sample shape of a graph input, or unsupported. */
static aic_status input_shape(importer *im, const Onnx__ValueInfoProto *vi, aic_dtype *dtype, int *ndim,
                              int64_t *shape) {
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return unsupported(im, "not a tensor");
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    const int32_t et = tt->has_elem_type ? tt->elem_type : ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED;
    const Onnx__TensorProto probe = {.data_type = et};
    const bool floating = aic_onnx_is_floating(&probe) || et == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL; /* as 0, 1 */
    if (!floating && et != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && et != ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
        return unsupported(im, "element type %" PRId32 "; aicon inputs are floating (float16, bfloat16 and double "
                           "held as float), or int32 and int64 (held as int32)", et);
    *dtype = floating ? AIC_F32 : AIC_I32;
    if (!tt->shape)
        return unsupported(im, "the shape is not given");
    size_t r = tt->shape->n_dim;
    if (r < 1 || r > AIC_MAX_DIMS) /* [N]: one value per sample */
        return unsupported(im, "rank %zu; aicon's inputs have rank 1..%d (dimension 0 is the batch)", r,
                           AIC_MAX_DIMS);
    for (size_t i = 1; i < r; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || d->dim_value < 1 ||
            d->dim_value > DIM_LIMIT)
            return unsupported(im, "dimension %zu is not a fixed positive size", i);
        shape[i - 1] = d->dim_value;
    }
    *ndim = (int)r - 1;
    /* The batch size the graph was written with, where it was written as a number (then Reshape targets
     * may hold it), else symbolic (0). */
    const Onnx__TensorShapeProto__Dimension *d0 = tt->shape->dim[0];
    im->export_batch = d0->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d0->dim_value > 0 &&
                               d0->dim_value <= DIM_LIMIT
                           ? d0->dim_value : 0;
    return AIC_OK;
}

/* Copies one job's weights into the compiled model. */
static aic_status run_job(importer *im, const copy_job *j) {
    aic_tensor t = {0};
    if (j->buffer) {
        bool found = false;
        for (int i = 0; i < aic_model_buffer_count(im->m) && !found; i++) {
            AIC_TRY(aic_model_buffer(im->m, i, &t));
            found = t.name && strcmp(t.name, j->name) == 0;
        }
        if (!found)
            return aic_fail(AIC_ERR_INTERNAL, "ONNX import: model has no buffer '%s'", j->name);
    } else {
        AIC_TRY(aic_model_find_param(im->m, j->name, &t));
    }
    int64_t numel = aic_tensor_numel(&t);
    if (numel != j->rows * j->cols || numel != tensor_numel(j->t))
        return aic_fail(AIC_ERR_INTERNAL, "ONNX import: '%s' holds %" PRId64 " values, tensor '%s' %" PRId64, j->name,
                        numel, j->t->name ? j->t->name : "", tensor_numel(j->t));
    float *dst = t.data;
    /* A weight copied unchanged remembers its ONNX name, for the export to give back. */
    if (!j->transpose && j->scale == 1.0f && j->t->name && j->t->name[0] && strlen(j->t->name) < AIC_MAX_NAME) {
        aic_param_info *ps = j->buffer ? im->m->buffers : im->m->params;
        int np = j->buffer ? im->m->n_buffers : im->m->n_params;
        for (int i = 0; i < np; i++)
            if (strcmp(ps[i].name, j->name) == 0)
                snprintf(ps[i].source, sizeof ps[i].source, "%s", j->t->name);
    }
    if (j->transpose) { /* source rows x cols -> destination cols x rows */
        for (int64_t r = 0; r < j->rows; r++)
            for (int64_t c = 0; c < j->cols; c++)
                dst[c * j->rows + r] = j->scale * float_at(j->t, r * j->cols + c);
    } else {
        for (int64_t i = 0; i < numel; i++)
            dst[i] = j->scale * float_at(j->t, i);
    }
    return AIC_OK;
}

/* The default domain's opsets whose ops the importer reads: from 1 (the old forms, such as Clip's
 * min/max attributes or BatchNormalization's consumed_inputs) to 17, what aicon exports and the newest
 * PyTorch 1.13 writes. Ops of other domains (ai.onnx.ml, com.microsoft, ...) it has none of. */
#define OPSET_MIN 1
#define OPSET_MAX 17

static aic_status check_opsets(const importer *im, const char *gname) {
    const Onnx__ModelProto *p = im->om->proto;
    for (size_t i = 0; i < p->n_opset_import; i++) {
        const char *d = p->opset_import[i]->domain ? p->opset_import[i]->domain : "";
        if (d[0] && strcmp(d, "ai.onnx") != 0)
            return aic_fail(AIC_ERR_UNSUPPORTED,
                            "ONNX graph '%.200s': the model imports operator set domain '%.100s' (version %" PRId64
                            "); aicon imports only the default domain (ai.onnx)",
                            gname, d, p->opset_import[i]->version);
    }
    const int64_t v = aic_onnx_opset_version(im->om);
    if (v < 0)
        return aic_fail(AIC_ERR_UNSUPPORTED, "ONNX graph '%.200s': the model declares no opset of the default domain",
                        gname);
    if (v < OPSET_MIN || v > OPSET_MAX)
        return aic_fail(AIC_ERR_UNSUPPORTED,
                        "ONNX graph '%.200s': opset %" PRId64 " of the default domain is outside %d..%d, the opsets "
                        "aicon imports", gname, v, OPSET_MIN, OPSET_MAX);
    return AIC_OK;
}

/* A shape for messages, "[N, 3, 28, 28]": the batch as N, a symbolic dim by its name, an unknown one ?. */
static void shape_words(char *buf, size_t size, const Onnx__TensorShapeProto *declared, const aic_value_info *vi) {
    size_t at = (size_t)snprintf(buf, size, "[");
    const size_t rank = declared ? declared->n_dim : vi->scalar ? 0 : (size_t)vi->ndim + 1;
    for (size_t i = 0; i < rank && at < size; i++) {
        const char *sep = i ? ", " : "";
        const Onnx__TensorShapeProto__Dimension *d = declared ? declared->dim[i] : NULL;
        if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            at += (size_t)snprintf(buf + at, size - at, "%s%" PRId64, sep, d->dim_value);
        else if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
            at += (size_t)snprintf(buf + at, size - at, "%s%.40s", sep, d->dim_param);
        else if (d)
            at += (size_t)snprintf(buf + at, size - at, "%s?", sep);
        else if (i != (size_t)vi->batch_axis)
            at += (size_t)snprintf(buf + at, size - at, "%s%" PRId64, sep, vi->shape[i - (i > (size_t)vi->batch_axis)]);
        else if (vi->outer * vi->fold != 1)
            at += (size_t)snprintf(buf + at, size - at, "%s%" PRId64 "N", sep, vi->outer * vi->fold);
        else
            at += (size_t)snprintf(buf + at, size - at, "%sN", sep);
    }
    if (at < size)
        snprintf(buf + at, size - at, "]");
}

/* A shape the file declares for a value (a graph output's, a value_info's) against the one the import
 * computed: every static dimension but the batch axis must agree; symbolic and unknown ones match
 * anything. Values that are not activations (constants, folded shapes, dead ones) have none to compare. */
static aic_status check_declared_shape(importer *im, const char *gname, const Onnx__ValueInfoProto *vi,
                                       const char *what) {
    const slot *s = vi->name ? table_get(&im->nt, vi->name) : NULL;
    const Onnx__TypeProto *tp = vi->type;
    if (!s || s->kind != V_ACT || !tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type ||
        !tp->tensor_type->shape)
        return AIC_OK;
    const Onnx__TensorShapeProto *sh = tp->tensor_type->shape;
    const aic_value_info *v = &im->m->values[s->v];
    bool same = sh->n_dim == (v->scalar ? 0 : (size_t)v->ndim + 1); /* a loss is a scalar */
    int64_t full[AIC_MAX_DIMS];
    aic_value_full_shape(v, 1, full);
    for (size_t i = 0; same && i < sh->n_dim; i++)
        same = i == (size_t)v->batch_axis ||
               sh->dim[i]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
               sh->dim[i]->dim_value == full[i];
    if (same)
        return AIC_OK;
    char declared[256], made[256], maker[400];
    shape_words(declared, sizeof declared, sh, NULL);
    shape_words(made, sizeof made, NULL, v);
    if (s->maker >= 0) {
        const Onnx__NodeProto *n = im->g->node[s->maker];
        snprintf(maker, sizeof maker, "node '%.200s' (%.100s)", n->name && n->name[0] ? n->name : "(unnamed)",
                 n->op_type);
    } else {
        snprintf(maker, sizeof maker, "the graph input");
    }
    return aic_fail(AIC_ERR_FORMAT, "ONNX graph '%.200s': %s '%.200s' is declared %s but %s makes it %s", gname,
                    what, vi->name, declared, maker, made);
}

static aic_status bind_name(importer *im, char dst[AIC_MAX_NAME], const char *name, const char *what) {
    if (strlen(name) >= AIC_MAX_NAME) {
        char who[160];
        snprintf(who, sizeof who, "graph %s '%.60s...'", what, name);
        return note(im, who, "the name is longer than aicon's limit");
    }
    snprintf(dst, AIC_MAX_NAME, "%s", name);
    return AIC_OK;
}

/* Imports node i, or notes why it cannot be and marks its outputs dead (as the outputs of a node
 * whose input is dead already are). Fails only on what ends the whole import. */
static aic_status visit_node(importer *im, size_t i) {
    const Onnx__NodeProto *n = im->g->node[i];
    const char *op = n->op_type && n->op_type[0] ? n->op_type : "?";
    char opname[AIC_MAX_NAME] = "";
    bool fused, dead = false;
    aic_status st = fuse_attention(im, i, opname, &fused);
    for (size_t k = 0; k < n->n_input && !dead && !fused; k++) {
        slot *s = n->input[k][0] ? table_get(&im->nt, n->input[k]) : NULL;
        dead = s && (s->kind == V_DEAD || s->kind == V_NONE);
    }
    if (st == AIC_OK && !fused && !dead) {
        AIC_TRY(node_opname(im, i, opname));
        const int first = im->m->n_values;
        st = import_node(im, n, opname);
        if (st == AIC_OK)
            st = check_sizes(im, first);
    }
    if (st == AIC_ERR_UNSUPPORTED) {
        char who[600];
        snprintf(who, sizeof who, "node '%.300s' (%.100s, opset %" PRId64 ")", n->name && n->name[0] ? n->name : opname,
                 op, opset_of(im, n->domain));
        AIC_TRY(note(im, who, im->reason));
        st = AIC_OK;
        dead = true;
    }
    AIC_TRY(st);
    for (size_t o = 0; o < n->n_output; o++) {
        slot *s = n->output[o][0] ? table_get(&im->nt, n->output[o]) : NULL;
        if (s && (dead || s->kind == V_NONE))
            s->kind = V_DEAD;
    }
    return AIC_OK;
}

/* Appends the graph to im->m and fills b (zeroed first); leaves the weight copy jobs in im. */
static aic_status build_graph(importer *im, aic_onnx_binding *b) {
    const Onnx__GraphProto *g = im->g;
    const char *gname = g->name && g->name[0] ? g->name : "onnx";
    memset(b, 0, sizeof *b);
    const size_t *order = im->om->order; /* the loader's */
    aic_status st = AIC_OK;
    char who[600], opname[AIC_MAX_NAME];

    AIC_TRY(check_opsets(im, gname));
    AIC_TRY_GOTO(index_names(im));

    /* Graph inputs. */
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *vi = g->input[i];
        slot *s = table_get(&im->nt, vi->name);
        if (s->kind == V_CONST)
            continue;
        int ndim = 0;
        int64_t shape[AIC_MAX_DIMS];
        aic_dtype dtype = AIC_F32;
        snprintf(who, sizeof who, "graph input '%.400s'", vi->name);
        st = input_shape(im, vi, &dtype, &ndim, shape);
        if (st == AIC_OK) {
            AIC_TRY_GOTO(unique_name(im, vi->name, opname));
            const int first = im->m->n_values;
            st = built(im, (dtype == AIC_I32 ? aic_int_input : aic_input)(im->m, opname, ndim, shape, &s->v));
            if (st == AIC_OK)
                st = check_sizes(im, first);
        }
        if (st == AIC_ERR_UNSUPPORTED) {
            AIC_TRY_GOTO(note(im, who, im->reason));
            st = AIC_OK;
            continue;
        }
        AIC_TRY_GOTO(st);
        s->kind = V_ACT;
        if (b->n_inputs == AIC_ONNX_MAX_IO) {
            AIC_TRY_GOTO(note(im, who, "the graph has more inputs than aicon binds (16)"));
            continue;
        }
        AIC_TRY_GOTO(bind_name(im, b->input_names[b->n_inputs], vi->name, "input"));
        b->inputs[b->n_inputs++] = s->v;
    }

    /* Nodes. */
    im->fused = calloc(g->n_node ? g->n_node : 1, sizeof *im->fused);
    if (!im->fused)
        AIC_TRY_GOTO(nomem());
    AIC_TRY_GOTO(find_attention(im));
    for (size_t oi = 0; oi < g->n_node; oi++)
        if (!im->fused[order[oi]])
            AIC_TRY_GOTO(visit_node(im, order[oi]));

    /* Graph outputs. */
    for (size_t i = 0; i < g->n_output; i++) {
        const char *name = g->output[i]->name;
        slot *s = table_get(&im->nt, name);
        snprintf(who, sizeof who, "graph output '%.400s'", name);
        if (s->kind == V_DEAD)
            continue; /* its maker is already listed */
        if (s->kind != V_ACT) {
            AIC_TRY_GOTO(note(im, who, "a constant; aicon outputs are computed from the inputs"));
            continue;
        }
        if (b->n_outputs == AIC_ONNX_MAX_IO) {
            AIC_TRY_GOTO(note(im, who, "the graph has more outputs than aicon binds (16)"));
            continue;
        }
        AIC_TRY_GOTO(bind_name(im, b->output_names[b->n_outputs], name, "output"));
        b->outputs[b->n_outputs++] = s->v;
    }
    if (im->n_bad == 0 && b->n_outputs == 0)
        AIC_TRY_GOTO(note(im, "the graph", "no output is computed from a graph input"));
    b->training_mode = im->training_mode;

    if (im->n_bad > 0) {
        st = aic_fail(AIC_ERR_UNSUPPORTED, "ONNX graph '%s': %d unsupported: %s", gname, im->n_bad, im->msg);
        goto cleanup;
    }
    for (size_t i = 0; i < g->n_output; i++)
        AIC_TRY_GOTO(check_declared_shape(im, gname, g->output[i], "graph output"));
    for (size_t i = 0; i < g->n_value_info; i++)
        AIC_TRY_GOTO(check_declared_shape(im, gname, g->value_info[i], "value"));

cleanup:
    if (st != AIC_OK)
        memset(b, 0, sizeof *b);
    return st;
}

static void importer_free(importer *im) {
    aic_onnx_names_free(&im->nt.names);
    free(im->nt.s);
    free(im->fused);
    free(im->chains);
    for (size_t i = 0; i < im->n_owned; i++) {
        free(im->owned[i]->dims);
        free(im->owned[i]->float_data);
        free(im->owned[i]->int64_data);
        free(im->owned[i]->int32_data);
        free(im->owned[i]);
    }
    free(im->owned);
    free(im->jobs);
    free(im->used);
    free(im->msg);
}

const char *aic_onnx_output_op(const aic_onnx_model_t *om, size_t i) {
    if (!om || i >= om->proto->graph->n_output)
        return NULL;
    const Onnx__GraphProto *g = om->proto->graph;
    const char *name = g->output[i]->name;
    for (size_t k = 0; k < g->n_node; k++)
        for (size_t o = 0; o < g->node[k]->n_output; o++)
            if (strcmp(g->node[k]->output[o], name) == 0)
                return g->node[k]->op_type ? g->node[k]->op_type : "";
    return NULL;
}

aic_status aic_onnx_build(const aic_onnx_model_t *om, aic_model_t *m, aic_onnx_binding *bind) {
    if (bind)
        memset(bind, 0, sizeof *bind);
    if (!om || !m)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_build: ONNX model or model is NULL");
    importer im = {.om = om, .g = om->proto->graph, .m = m};
    aic_onnx_binding local;
    aic_status st = build_graph(&im, bind ? bind : &local);
    importer_free(&im);
    return st;
}

aic_status aic_onnx_load_weights(const aic_onnx_model_t *om, aic_model_t *m) {
    if (!om || !m)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_load_weights: ONNX model or model is NULL");
    if (!m->compiled)
        return aic_fail(AIC_ERR_STATE, "aic_onnx_load_weights: model '%s' is not compiled (call aic_model_compile first)", m->name);
    /* The copy jobs come from building the graph again into a scratch model: the builders name
     * parameters the same way every time, so the names match those aic_onnx_build gave m. */
    importer im = {.om = om, .g = om->proto->graph};
    aic_onnx_binding scratch_bind;
    aic_status st = aic_model_create(&im.m, "onnx-weights");
    if (st == AIC_OK)
        st = build_graph(&im, &scratch_bind);
    aic_model_destroy(im.m);
    im.m = m;
    for (size_t j = 0; st == AIC_OK && j < im.n_jobs; j++)
        st = run_job(&im, &im.jobs[j]);
    importer_free(&im);
    return st;
}

aic_status aic_onnx_import(const aic_onnx_model_t *om, int max_batch, aic_model_t **out, aic_onnx_binding *bind) {
    if (out)
        *out = NULL;
    if (bind)
        memset(bind, 0, sizeof *bind);
    if (!om || !out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_import: model or out is NULL");
    if (max_batch <= 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_import: max_batch must be positive, got %d", max_batch);
    const Onnx__GraphProto *g = om->proto->graph;
    aic_onnx_binding local;
    aic_onnx_binding *b = bind ? bind : &local;
    aic_model_t *m = NULL;
    aic_status st = AIC_OK;
    AIC_TRY_GOTO(aic_model_create(&m, g->name && g->name[0] ? g->name : "onnx"));
    AIC_TRY_GOTO(aic_onnx_build(om, m, b));
    AIC_TRY_GOTO(aic_model_set_output(m, b->outputs[0]));
    AIC_TRY_GOTO(aic_model_compile(m, max_batch, 0));
    AIC_TRY_GOTO(aic_onnx_load_weights(om, m));
cleanup:
    if (st != AIC_OK) {
        aic_model_destroy(m);
        m = NULL;
        memset(b, 0, sizeof *b);
    }
    *out = m;
    return st;
}
