// SPDX-License-Identifier: Apache-2.0
/* Reading and validating ONNX models.
 *
 * protoc-c generates the ModelProto reader from Debian's onnx.proto (see CMakeLists.txt); this file
 * only decides whether what it unpacked is a model aicon can trust. Nothing here allocates by a size
 * the file declares: protobuf-c bounds every length by the bytes it was given, the file is read only
 * after stat says it is under AIC_ONNX_MAX_FILE_BYTES, and the name table and graph arrays are sized
 * by counts of things already unpacked. */
#define _POSIX_C_SOURCE 200809L /* stat */
#include "aicon/onnx.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "onnx/onnx_internal.h"


/* ---- tensors ---------------------------------------------------------------------------------- */

/* Per element type: bytes in raw_data (0: raw_data not allowed), values per element in the typed
 * field, which typed field holds it, and a plural name for messages. */
typedef enum { F_NONE, F_FLOAT, F_INT32, F_INT64, F_STRING, F_DOUBLE, F_UINT64 } typed_field;
typedef struct {
    int raw_bytes;
    int per_element;
    typed_field field;
    const char *plural;
} elem_info;

static int elem_lookup(int32_t t, elem_info *e) {
    switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *e = (elem_info){4, 1, F_FLOAT, "floats"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *e = (elem_info){1, 1, F_INT32, "uint8s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *e = (elem_info){1, 1, F_INT32, "int8s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: *e = (elem_info){2, 1, F_INT32, "uint16s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: *e = (elem_info){2, 1, F_INT32, "int16s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *e = (elem_info){4, 1, F_INT32, "int32s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *e = (elem_info){8, 1, F_INT64, "int64s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__STRING: *e = (elem_info){0, 1, F_STRING, "strings"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: *e = (elem_info){1, 1, F_INT32, "bools"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: *e = (elem_info){2, 1, F_INT32, "float16s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *e = (elem_info){8, 1, F_DOUBLE, "doubles"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32: *e = (elem_info){4, 1, F_UINT64, "uint32s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64: *e = (elem_info){8, 1, F_UINT64, "uint64s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64: *e = (elem_info){8, 2, F_FLOAT, "complex64s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128: *e = (elem_info){16, 2, F_DOUBLE, "complex128s"}; return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16: *e = (elem_info){2, 1, F_INT32, "bfloat16s"}; return 1;
    default: return 0;
    }
}

static size_t typed_count(const Onnx__TensorProto *t, typed_field f) {
    switch (f) {
    case F_FLOAT: return t->n_float_data;
    case F_INT32: return t->n_int32_data;
    case F_INT64: return t->n_int64_data;
    case F_STRING: return t->n_string_data;
    case F_DOUBLE: return t->n_double_data;
    case F_UINT64: return t->n_uint64_data;
    default: return 0;
    }
}

aic_status aic_onnx_check_tensor(const char *file, const char *what, const Onnx__TensorProto *t,
                                 uint64_t *elements) {
    if ((t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        t->n_external_data > 0)
        return aic_fail(AIC_ERR_UNSUPPORTED,
                        "%s: %s keeps its data in an external file, which aicon does not read yet", file, what);
    if (t->segment)
        return aic_fail(AIC_ERR_UNSUPPORTED, "%s: %s is a segment of a larger tensor, which aicon does not read",
                        file, what);
    elem_info e;
    if (!elem_lookup(t->data_type, &e))
        return aic_fail(AIC_ERR_FORMAT, "%s: %s has unknown element type %" PRId32, file, what, t->data_type);

    /* Element count: every dim non-negative, the product checked for overflow and against the cap. */
    int zero = 0;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0)
            return aic_fail(AIC_ERR_FORMAT, "%s: %s has negative dimension %zu (%" PRId64 ")", file, what, i,
                            t->dims[i]);
        if (t->dims[i] == 0)
            zero = 1;
    }
    uint64_t count = 1;
    if (zero) {
        count = 0;
    } else {
        for (size_t i = 0; i < t->n_dims; i++) {
            if (__builtin_mul_overflow(count, (uint64_t)t->dims[i], &count))
                return aic_fail(AIC_ERR_FORMAT, "%s: %s claims more than 2^64 elements (dims overflow)", file, what);
        }
    }
    if (count > (uint64_t)AIC_ONNX_MAX_TENSOR_ELEMENTS)
        return aic_fail(AIC_ERR_FORMAT, "%s: %s claims %" PRIu64 " elements, over aicon's limit of %" PRId64, file,
                        what, count, AIC_ONNX_MAX_TENSOR_ELEMENTS);

    /* The data must hold exactly what the dims say (count <= 2^31, so no product below overflows). */
    if (t->has_raw_data) {
        if (e.raw_bytes == 0)
            return aic_fail(AIC_ERR_FORMAT, "%s: %s holds %s in raw_data, which ONNX does not allow", file, what,
                            e.plural);
        uint64_t want = count * (uint64_t)e.raw_bytes;
        if ((uint64_t)t->raw_data.len != want)
            return aic_fail(AIC_ERR_FORMAT,
                            "%s: %s: dims say %" PRIu64 " %s (%" PRIu64 " bytes) but the data holds %zu bytes", file,
                            what, count, e.plural, want, t->raw_data.len);
    } else {
        uint64_t want = count * (uint64_t)e.per_element;
        uint64_t have = typed_count(t, e.field);
        if (have != want) {
            if (e.per_element == 1)
                return aic_fail(AIC_ERR_FORMAT, "%s: %s: dims say %" PRIu64 " %s but the data holds %" PRIu64, file,
                                what, count, e.plural, have);
            return aic_fail(AIC_ERR_FORMAT,
                            "%s: %s: dims say %" PRIu64 " %s (%" PRIu64 " values) but the data holds %" PRIu64, file,
                            what, count, e.plural, want, have);
        }
    }
    if (elements)
        *elements = count;
    return AIC_OK;
}

/* ---- names ------------------------------------------------------------------------------------ */

static uint64_t name_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

aic_status aic_onnx_names_init(aic_onnx_names *t, const Onnx__GraphProto *g) {
    size_t names = g->n_input + g->n_initializer;
    for (size_t i = 0; i < g->n_node; i++)
        names += g->node[i]->n_output;
    size_t cap = 16;
    while (cap < 2 * names + 1)
        cap *= 2;
    t->keys = calloc(cap, sizeof *t->keys);
    t->cap = cap;
    if (!t->keys)
        return aic_fail(AIC_ERR_NOMEM, "out of memory indexing the names of an ONNX graph (%zu names)", names);
    return AIC_OK;
}

void aic_onnx_names_free(aic_onnx_names *t) {
    free(t->keys);
    t->keys = NULL;
}

size_t aic_onnx_names_slot(const aic_onnx_names *t, const char *name) {
    size_t i = (size_t)name_hash(name) & (t->cap - 1);
    while (t->keys[i] && strcmp(t->keys[i], name) != 0)
        i = (i + 1) & (t->cap - 1);
    return i;
}

/* The loader's table: who makes each name, a node index >= 0 or one of the kinds below. */
enum { MADE_BY_INPUT = -1, MADE_BY_INITIALIZER = -2 };

typedef struct {
    aic_onnx_names names;
    long *maker; /* indexed like names.keys */
} name_table;

static aic_status table_init(name_table *nt, const Onnx__GraphProto *g) {
    AIC_TRY(aic_onnx_names_init(&nt->names, g));
    nt->maker = calloc(nt->names.cap, sizeof *nt->maker);
    if (!nt->maker)
        return aic_fail(AIC_ERR_NOMEM, "out of memory indexing the names of an ONNX graph");
    return AIC_OK;
}

static void table_free(name_table *nt) {
    aic_onnx_names_free(&nt->names);
    free(nt->maker);
}

/* Who makes name, or 0 with *found = 0. */
static long table_get(const name_table *nt, const char *name, int *found) {
    size_t i = aic_onnx_names_slot(&nt->names, name);
    *found = nt->names.keys[i] != NULL;
    return *found ? nt->maker[i] : 0;
}

/* ---- graph ------------------------------------------------------------------------------------ */

static void describe_node(char *buf, size_t size, const Onnx__GraphProto *g, size_t i) {
    const Onnx__NodeProto *n = g->node[i];
    const char *op = n->op_type && n->op_type[0] ? n->op_type : "?";
    if (n->name && n->name[0])
        snprintf(buf, size, "node '%s' (%s)", n->name, op);
    else
        snprintf(buf, size, "node #%zu (%s)", i, op);
}

static const char *maker_words(long m) {
    return m == MADE_BY_INPUT ? "a graph input" : m == MADE_BY_INITIALIZER ? "an initializer" : "a node output";
}

/* Checks the graph; *order gets its nodes in a topological order (malloc'd, the caller frees). */
static aic_status check_graph(const char *file, const Onnx__GraphProto *g, size_t **order) {
    aic_status st = AIC_OK;
    name_table nt = {0};
    size_t *indeg = NULL, *edge_start = NULL, *edges = NULL, *queue = NULL;
    char what[2048], other[512]; /* names are cut to 400 bytes in messages */

    /* Tensors: initializers and every tensor-valued attribute of every node. */
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        if (!t->name || !t->name[0])
            return aic_fail(AIC_ERR_FORMAT, "%s: initializer #%zu has no name", file, i);
        snprintf(what, sizeof what, "tensor '%.1000s'", t->name);
        AIC_TRY(aic_onnx_check_tensor(file, what, t, NULL));
    }
    if (g->n_sparse_initializer > 0)
        return aic_fail(AIC_ERR_UNSUPPORTED, "%s: the graph has %zu sparse initializers, which aicon does not read yet",
                        file, g->n_sparse_initializer);
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        for (size_t a = 0; a < n->n_attribute; a++) {
            const Onnx__AttributeProto *at = n->attribute[a];
            const char *an = at->name ? at->name : "";
            describe_node(other, sizeof other, g, i);
            if (at->t) {
                if (at->t->name && at->t->name[0])
                    snprintf(what, sizeof what, "%s attribute '%.400s': tensor '%.400s'", other, an, at->t->name);
                else
                    snprintf(what, sizeof what, "%s attribute '%.400s'", other, an);
                AIC_TRY(aic_onnx_check_tensor(file, what, at->t, NULL));
            }
            for (size_t k = 0; k < at->n_tensors; k++) {
                snprintf(what, sizeof what, "%s attribute '%.400s' tensor #%zu", other, an, k);
                AIC_TRY(aic_onnx_check_tensor(file, what, at->tensors[k], NULL));
            }
        }
    }

    /* Who makes each name. An initializer may share its name with a graph input (it is then the input's
     * default); any other name made twice is an error. */
    AIC_TRY_GOTO(table_init(&nt, g));
    for (size_t i = 0; i < g->n_input; i++) {
        const char *name = g->input[i]->name ? g->input[i]->name : "";
        if (!name[0]) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: graph input #%zu has no name", file, i);
            goto cleanup;
        }
        size_t s = aic_onnx_names_slot(&nt.names, name);
        if (nt.names.keys[s]) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: graph input '%s' is listed twice", file, name);
            goto cleanup;
        }
        nt.names.keys[s] = name;
        nt.maker[s] = MADE_BY_INPUT;
    }
    for (size_t i = 0; i < g->n_initializer; i++) {
        const char *name = g->initializer[i]->name;
        size_t s = aic_onnx_names_slot(&nt.names, name);
        if (nt.names.keys[s] && nt.maker[s] == MADE_BY_INITIALIZER) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: two initializers are named '%s'", file, name);
            goto cleanup;
        }
        if (!nt.names.keys[s]) {
            nt.names.keys[s] = name;
            nt.maker[s] = MADE_BY_INITIALIZER;
        }
    }
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        for (size_t o = 0; o < n->n_output; o++) {
            const char *name = n->output[o];
            if (!name[0])
                continue; /* an optional output left out */
            size_t s = aic_onnx_names_slot(&nt.names, name);
            if (nt.names.keys[s]) {
                describe_node(what, sizeof what, g, i);
                if (nt.maker[s] >= 0)
                    describe_node(other, sizeof other, g, (size_t)nt.maker[s]);
                else
                    snprintf(other, sizeof other, "%s", maker_words(nt.maker[s]));
                st = aic_fail(AIC_ERR_FORMAT, "%s: %s: output '%s' is already produced by %s", file, what, name,
                              other);
                goto cleanup;
            }
            nt.names.keys[s] = name;
            nt.maker[s] = (long)i;
        }
    }

    /* Every input must be made by someone; collect the node-to-node edges for Kahn's algorithm. */
    size_t n_edges = 0;
    indeg = calloc(g->n_node + 1, sizeof *indeg);
    edge_start = calloc(g->n_node + 1, sizeof *edge_start);
    if (!indeg || !edge_start) {
        st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory ordering %zu nodes", file, g->n_node);
        goto cleanup;
    }
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        for (size_t k = 0; k < n->n_input; k++) {
            const char *name = n->input[k];
            if (!name[0])
                continue; /* an optional input left out */
            int found;
            long m = table_get(&nt, name, &found);
            if (!found) {
                describe_node(what, sizeof what, g, i);
                st = aic_fail(AIC_ERR_FORMAT, "%s: %s: input '%s' is produced by no node, initializer or graph input",
                              file, what, name);
                goto cleanup;
            }
            if (m >= 0) {
                indeg[i]++;
                edge_start[m]++;
                n_edges++;
            }
        }
    }
    for (size_t i = 0; i < g->n_output; i++) {
        const char *name = g->output[i]->name ? g->output[i]->name : "";
        int found;
        (void)table_get(&nt, name, &found);
        if (!found) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: graph output '%s' is produced by no node, initializer or graph input",
                          file, name);
            goto cleanup;
        }
    }

    /* Kahn's algorithm: edges grouped by producer (edge_start as prefix sums), then repeatedly take a
     * node whose producers have all been taken. */
    edges = malloc((n_edges ? n_edges : 1) * sizeof *edges);
    queue = malloc((g->n_node ? g->n_node : 1) * sizeof *queue);
    if (!edges || !queue) {
        st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory ordering %zu nodes", file, g->n_node);
        goto cleanup;
    }
    {
        size_t sum = 0;
        for (size_t i = 0; i <= g->n_node; i++) {
            size_t c = edge_start[i];
            edge_start[i] = sum;
            sum += c;
        }
    }
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        for (size_t k = 0; k < n->n_input; k++) {
            int found;
            long m = n->input[k][0] ? table_get(&nt, n->input[k], &found) : -1;
            if (m >= 0)
                edges[edge_start[m]++] = i; /* edge_start[m] ends at the start of m + 1 */
        }
    }
    /* Shift back: the edges of m are [edge_start[m-1], edge_start[m]). */
    for (size_t i = g->n_node; i > 0; i--)
        edge_start[i] = edge_start[i - 1];
    edge_start[0] = 0;

    size_t head = 0, tail = 0;
    for (size_t i = 0; i < g->n_node; i++)
        if (indeg[i] == 0)
            queue[tail++] = i;
    while (head < tail) {
        size_t m = queue[head++];
        for (size_t e = edge_start[m]; e < edge_start[m + 1]; e++)
            if (--indeg[edges[e]] == 0)
                queue[tail++] = edges[e];
    }
    if (tail < g->n_node) {
        /* Some node was never freed. Walking from it to an untaken producer n times lands on the cycle
         * itself, not merely downstream of it. */
        size_t at = 0;
        while (indeg[at] == 0)
            at++;
        for (size_t step = 0; step < g->n_node; step++) {
            const Onnx__NodeProto *n = g->node[at];
            for (size_t k = 0; k < n->n_input; k++) {
                int found;
                long m = n->input[k][0] ? table_get(&nt, n->input[k], &found) : -1;
                if (m >= 0 && indeg[m] > 0) {
                    at = (size_t)m;
                    break;
                }
            }
        }
        describe_node(what, sizeof what, g, at);
        st = aic_fail(AIC_ERR_FORMAT, "%s: graph has a cycle through %s", file, what);
        goto cleanup;
    }
    *order = queue;
    queue = NULL;

cleanup:
    table_free(&nt);
    free(indeg);
    free(edge_start);
    free(edges);
    free(queue);
    return st;
}

/* ---- strings with a NUL byte ------------------------------------------------------------------- */

/* protobuf-c hands string fields over as C strings, so one holding a NUL byte reads cut short: op
 * type "Conv\0x" would run as Conv, a name would match another. The unpacked model cannot tell, so
 * the bytes protobuf-c just parsed are walked once more with the same descriptors and every string
 * field is checked (op types, domains, names, attribute names, dim params, doc strings alike). */
typedef struct {
    const char *file;
    const Onnx__GraphProto *g; /* the model's graph, to name a node */
    long node;                 /* the graph's node being walked, or -1 */
    char path[512];            /* where in the model, as "graph.node[3].op_type" */
} nul_walk;

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        const uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* The string s of len bytes for a message: printable ASCII as it is, other bytes as \xNN, cut at 64. */
static void escape_string(char *buf, size_t size, const uint8_t *s, size_t len) {
    size_t at = 0;
    for (size_t i = 0; i < len && i < 64 && at + 5 < size; i++)
        at += (size_t)snprintf(buf + at, size - at, s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\' ? "%c" : "\\x%02x",
                               s[i]);
    snprintf(buf + at, size - at, "%s", len > 64 ? "..." : "");
}

/* The message d in p..end, whose path is w->path[0, path_len); main_graph: it is the model's graph. */
static aic_status walk_strings(nul_walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                               size_t path_len, bool main_graph) {
    unsigned seen[64] = {0}; /* per field of d: how many came so far, for the index in the path */
    while (p < end) {
        uint64_t key, len;
        if (!read_varint(&p, end, &key))
            return aic_fail(AIC_ERR_FORMAT, "%s: malformed protobuf field key after %s", w->file, w->path);
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
        switch (key & 7) {
        case 0: /* varint */
            if (!read_varint(&p, end, &len))
                return aic_fail(AIC_ERR_FORMAT, "%s: malformed protobuf varint after %s", w->file, w->path);
            continue;
        case 1: /* 64-bit */
        case 5: /* 32-bit */
            len = (key & 7) == 1 ? 8 : 4;
            break;
        case 2: /* length-delimited: strings, bytes, messages, packed arrays */
            if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p))
                return aic_fail(AIC_ERR_FORMAT, "%s: malformed protobuf length after %s", w->file, w->path);
            if (f) {
                const size_t i = (size_t)(f - d->fields);
                const unsigned index = i < 64 ? seen[i]++ : 0;
                size_t at = path_len + (size_t)snprintf(w->path + path_len, sizeof w->path - path_len,
                                                        f->label == PROTOBUF_C_LABEL_REPEATED ? "%s%s[%u]" : "%s%s",
                                                        path_len ? "." : "", f->name, index);
                if (at >= sizeof w->path)
                    at = sizeof w->path - 1;
                if (f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, (size_t)len)) {
                    char value[300], node[600] = "";
                    escape_string(value, sizeof value, p, (size_t)len);
                    if (w->node >= 0 && (size_t)w->node < w->g->n_node) { /* a graph given twice: no node */
                        describe_node(node, sizeof node - 2, w->g, (size_t)w->node);
                        strcat(node, ": ");
                    }
                    return aic_fail(AIC_ERR_FORMAT,
                                    "%s: %s%s holds a NUL byte (\"%s\"), which aicon would read cut short", w->file,
                                    node, w->path, value);
                }
                if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                    /* The model's graph's nodes, to name the one a bad string is in. */
                    const bool graph_node = main_graph && strcmp(f->name, "node") == 0;
                    if (graph_node)
                        w->node = (long)index;
                    AIC_TRY(walk_strings(w, f->descriptor, p, p + len, at,
                                         d == &onnx__model_proto__descriptor && strcmp(f->name, "graph") == 0));
                    if (graph_node)
                        w->node = -1;
                }
                w->path[path_len] = '\0';
            }
            break;
        default: /* groups, which ONNX does not use */
            return aic_fail(AIC_ERR_FORMAT, "%s: protobuf wire type %u after %s is not one ONNX uses", w->file,
                            (unsigned)(key & 7), w->path);
        }
        if (len > (uint64_t)(end - p))
            return aic_fail(AIC_ERR_FORMAT, "%s: protobuf field after %s runs past its message", w->file, w->path);
        p += len;
    }
    return AIC_OK;
}

/* ---- loading ---------------------------------------------------------------------------------- */

aic_status aic_onnx_load_buffer(const uint8_t *data, size_t size, const char *name, aic_onnx_model_t **out) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_load_buffer: out is NULL");
    *out = NULL;
    if (!name)
        name = "<buffer>";
    if (!data && size > 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_load_buffer: %s: data is NULL but size is %zu", name, size);
    if ((uint64_t)size > (uint64_t)AIC_ONNX_MAX_FILE_BYTES)
        return aic_fail(AIC_ERR_FORMAT, "%s: %zu bytes is over the %" PRId64 "-byte limit of an ONNX model", name,
                        size, AIC_ONNX_MAX_FILE_BYTES);

    Onnx__ModelProto *p = onnx__model_proto__unpack(NULL, size, data);
    if (!p)
        return aic_fail(AIC_ERR_FORMAT, "%s: not an ONNX model (protobuf parse failed)", name);
    aic_status st = AIC_OK;
    size_t *order = NULL;
    if (!p->graph) {
        st = aic_fail(AIC_ERR_FORMAT, "%s: the model has no graph", name);
        goto fail;
    }
    nul_walk w = {.file = name, .g = p->graph, .node = -1};
    AIC_TRY_GOTO(walk_strings(&w, &onnx__model_proto__descriptor, data, data + size, 0, false));
    AIC_TRY_GOTO(check_graph(name, p->graph, &order));

    aic_onnx_model_t *m = malloc(sizeof *m);
    if (!m) {
        st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    m->proto = p;
    m->order = order;
    *out = m;
    return AIC_OK;

cleanup:
fail:
    free(order);
    onnx__model_proto__free_unpacked(p, NULL);
    return st;
}

aic_status aic_onnx_read_file(const char *path, const char *what, uint8_t **data, size_t *size) {
    *data = NULL;
    *size = 0;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return aic_fail(AIC_ERR_IO, "%s: cannot open %s: %s", path, what, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return aic_fail(AIC_ERR_IO, "%s: is a directory, not %s", path, what);
    if ((int64_t)sb.st_size > AIC_ONNX_MAX_FILE_BYTES)
        return aic_fail(AIC_ERR_FORMAT, "%s: file is %lld bytes, over the %" PRId64 "-byte limit of %s", path,
                        (long long)sb.st_size, AIC_ONNX_MAX_FILE_BYTES, what);
    FILE *f = fopen(path, "rb");
    if (!f)
        return aic_fail(AIC_ERR_IO, "%s: cannot open %s: %s", path, what, strerror(errno));
    /* Read up to the size stat gave (plus one byte, to notice a file that grew); a file that shrank
     * is simply shorter. */
    size_t cap = (size_t)sb.st_size + 1;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return aic_fail(AIC_ERR_NOMEM, "%s: out of memory reading %lld bytes", path, (long long)sb.st_size);
    }
    size_t got = fread(buf, 1, cap, f);
    int err = ferror(f);
    fclose(f);
    if (err || got == cap) {
        free(buf);
        return aic_fail(AIC_ERR_IO, err ? "%s: cannot read %s" : "%s: file grew while %s was being read", path,
                        what);
    }
    *data = buf;
    *size = got;
    return AIC_OK;
}

aic_status aic_onnx_load(const char *path, aic_onnx_model_t **out) {
    if (!out)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_load: out is NULL");
    *out = NULL;
    if (!path)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_load: path is NULL");
    uint8_t *buf;
    size_t size;
    AIC_TRY(aic_onnx_read_file(path, "an ONNX model", &buf, &size));
    aic_status st = aic_onnx_load_buffer(buf, size, path, out);
    free(buf);
    return st;
}

void aic_onnx_free(aic_onnx_model_t *m) {
    if (!m)
        return;
    onnx__model_proto__free_unpacked(m->proto, NULL);
    free(m->order);
    free(m);
}

/* ---- queries ---------------------------------------------------------------------------------- */

int64_t aic_onnx_opset_version(const aic_onnx_model_t *m) {
    if (!m)
        return -1;
    for (size_t i = 0; i < m->proto->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->proto->opset_import[i];
        const char *d = o->domain ? o->domain : "";
        if (d[0] == '\0' || strcmp(d, "ai.onnx") == 0)
            return o->has_version ? o->version : -1;
    }
    return -1;
}

int64_t aic_onnx_ir_version(const aic_onnx_model_t *m) {
    return m && m->proto->has_ir_version ? m->proto->ir_version : 0;
}

size_t aic_onnx_num_nodes(const aic_onnx_model_t *m) { return m ? m->proto->graph->n_node : 0; }
size_t aic_onnx_num_initializers(const aic_onnx_model_t *m) { return m ? m->proto->graph->n_initializer : 0; }
size_t aic_onnx_num_inputs(const aic_onnx_model_t *m) { return m ? m->proto->graph->n_input : 0; }
size_t aic_onnx_num_outputs(const aic_onnx_model_t *m) { return m ? m->proto->graph->n_output : 0; }

const char *aic_onnx_graph_name(const aic_onnx_model_t *m) {
    return m && m->proto->graph->name ? m->proto->graph->name : "";
}

const char *aic_onnx_fed_input_name(const aic_onnx_model_t *m, size_t i) {
    if (!m)
        return NULL;
    const Onnx__GraphProto *g = m->proto->graph;
    for (size_t k = 0; k < g->n_input; k++) {
        const char *name = g->input[k]->name;
        bool initialized = false;
        for (size_t j = 0; j < g->n_initializer && !initialized && name; j++)
            initialized = g->initializer[j]->name && strcmp(g->initializer[j]->name, name) == 0;
        if (!initialized && i-- == 0)
            return name;
    }
    return NULL;
}

/* Graph input `name` of om becomes tp, an initializer allocated as protobuf-c's default allocator
 * does (so free_unpacked releases it), taken over: freed on failure. fn names the caller. */
static aic_status bind_proto(aic_onnx_model_t *om, const char *name, Onnx__TensorProto *tp, const char *fn) {
    Onnx__GraphProto *g = om->proto->graph;
    size_t at = g->n_input;
    for (size_t i = 0; i < g->n_input && at == g->n_input; i++)
        if (g->input[i]->name && strcmp(g->input[i]->name, name) == 0)
            at = i;
    Onnx__TensorProto **inits = at < g->n_input ? realloc(g->initializer, sizeof *inits * (g->n_initializer + 1))
                                                : NULL;
    if (inits)
        g->initializer = inits;
    free(tp->name);
    tp->name = strdup(name);
    if (at == g->n_input || !inits || !tp->name) {
        onnx__tensor_proto__free_unpacked(tp, NULL);
        if (at == g->n_input)
            return aic_fail(AIC_ERR_INVALID_ARG, "%s: graph '%s' has no input '%s'", fn, aic_onnx_graph_name(om), name);
        return aic_fail(AIC_ERR_NOMEM, "%s: out of memory for input '%s'", fn, name);
    }
    g->initializer[g->n_initializer++] = tp;
    onnx__value_info_proto__free_unpacked(g->input[at], NULL);
    memmove(g->input + at, g->input + at + 1, sizeof *g->input * (g->n_input - at - 1));
    g->n_input--;
    return AIC_OK;
}

aic_status aic_onnx_bind_constant(aic_onnx_model_t *om, const char *name, const aic_onnx_tensor *t) {
    if (!om || !name || !t || (t->numel > 0 && !t->data))
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_bind_constant: NULL argument");
    const bool ints = t->dtype == AIC_I32;
    const size_t n = (size_t)(t->numel > 0 ? t->numel : 1);
    Onnx__TensorProto *tp = malloc(sizeof *tp);
    if (tp) {
        onnx__tensor_proto__init(tp);
        tp->dims = malloc(sizeof *tp->dims * (size_t)(t->ndim > 0 ? t->ndim : 1));
        if (ints)
            tp->int64_data = malloc(sizeof *tp->int64_data * n);
        else
            tp->float_data = malloc(sizeof *tp->float_data * n);
    }
    if (!tp || !tp->dims || (ints ? !tp->int64_data : !tp->float_data)) {
        if (tp)
            onnx__tensor_proto__free_unpacked(tp, NULL);
        return aic_fail(AIC_ERR_NOMEM, "aic_onnx_bind_constant: out of memory for input '%s'", name);
    }
    tp->has_data_type = 1;
    tp->data_type = ints ? ONNX__TENSOR_PROTO__DATA_TYPE__INT64 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tp->n_dims = (size_t)t->ndim;
    memcpy(tp->dims, t->dims, sizeof *tp->dims * (size_t)t->ndim);
    if (ints) {
        tp->n_int64_data = (size_t)t->numel;
        for (int64_t i = 0; i < t->numel; i++) {
            int32_t v;
            memcpy(&v, (const char *)t->data + 4 * i, sizeof v);
            tp->int64_data[i] = v;
        }
    } else {
        tp->n_float_data = (size_t)t->numel;
        memcpy(tp->float_data, t->data, sizeof *tp->float_data * (size_t)t->numel);
    }
    return bind_proto(om, name, tp, "aic_onnx_bind_constant");
}

aic_status aic_onnx_bind_constant_file(aic_onnx_model_t *om, const char *name, const char *path) {
    if (!om || !name || !path)
        return aic_fail(AIC_ERR_INVALID_ARG, "aic_onnx_bind_constant_file: NULL argument");
    uint8_t *buf;
    size_t got;
    AIC_TRY(aic_onnx_read_file(path, "a tensor file", &buf, &got));
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, got, buf);
    free(buf);
    if (!tp)
        return aic_fail(AIC_ERR_FORMAT, "%s: not an ONNX tensor (protobuf parse failed)", path);
    char what[AIC_MAX_NAME + 32];
    snprintf(what, sizeof what, "the tensor for input '%s'", name);
    const aic_status st = aic_onnx_check_tensor(path, what, tp, NULL);
    if (st != AIC_OK) {
        onnx__tensor_proto__free_unpacked(tp, NULL);
        return st;
    }
    return bind_proto(om, name, tp, "aic_onnx_bind_constant_file");
}
