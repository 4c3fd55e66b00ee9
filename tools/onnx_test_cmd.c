// SPDX-License-Identifier: Apache-2.0
/* aicon onnx-test: run ONNX backend test cases (model.onnx + test_data_set_N/{input,output}_K.pb)
 * through aicon's importer and compare the forward pass with the expected outputs. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aicon/onnx.h"
#include "core/error.h"
#include "tools/tools.h"

/* The ONNX backend test runner's defaults (onnx/backend/test/runner: rtol 1e-3, atol 1e-7). */
#define RTOL 1e-3
#define ATOL 1e-7
/* More inputs or outputs than this in one data set is not a test case aicon can bind. */
#define MAX_TENSORS AIC_ONNX_MAX_IO

static void onnx_test_usage(FILE *out) {
    fprintf(out,
            "usage: aicon onnx-test [--verbose] DIR...\n"
            "\n"
            "Runs ONNX backend test cases through aicon's ONNX importer and checks the forward pass.\n"
            "Each DIR is a test case (model.onnx and test_data_set_N/ directories of input_K.pb and\n"
            "output_K.pb) or a directory of test cases (every subdirectory holding a model.onnx, by name),\n"
            "such as /usr/share/libonnx-testdata/data/node.\n"
            "\n"
            "Every data set of a case is run in evaluation mode; each output must have the expected shape\n"
            "and element type, every float element must satisfy |got - want| <= 1e-7 + 1e-3 * |want| (NaN\n"
            "matches NaN), and every integer one (int32, int64: ArgMax's indices) must be equal.\n"
            "Integer inputs (int32, int64) are fed as int32 (ids and labels must fit). Cases with inputs\n"
            "or outputs of other types, scalar inputs, or operators aicon does not import are skipped\n"
            "with the reason. aicon's inputs carry the batch: when a graph as given is\n"
            "refused and takes more than one input, the inputs after the first (weights, biases, bounds,\n"
            "statistics, int64 starts, pads and axes) are bound as constants holding the data set's values\n"
            "and the case is tried again, and if that is refused too, with only the float ones bound (a\n"
            "loss's class weights beside its integer labels); its PASS line then names them.\n"
            "\n"
            "Prints one line per case (PASS name, FAIL name: why, SKIP name: why), then\n"
            "'N passed, M failed, K skipped'. Exits 1 if any case failed, 0 otherwise, 2 on a usage error.\n"
            "\n"
            "options:\n"
            "  --verbose   also print, per case, the opset, node count, data sets and largest error\n"
            "  --help      this text\n");
}

/* ---- small helpers ----------------------------------------------------------------------------- */

typedef enum { CASE_PASS, CASE_FAIL, CASE_SKIP } case_result;

typedef struct {
    case_result result;
    char why[4096];
} case_outcome;

static case_result outcome(case_outcome *o, case_result r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static case_result outcome(case_outcome *o, case_result r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->why, sizeof o->why, fmt, ap);
    va_end(ap);
    /* One line per case: newlines in a library message become "; ". */
    for (char *p = o->why; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ';';
    o->result = r;
    return r;
}

static bool is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of the subdirectories of dir whose names start with prefix (and, with need_model, that
 * hold a model.onnx); *n receives the count. NULL with *n = 0 when there are none; NULL with *n = -1 when dir
 * cannot be read or memory runs out (errno says why). */
static char **list_subdirs(const char *dir, const char *prefix, bool need_model, int *n) {
    *n = -1;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    int count = 0, cap = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!is_dir(path))
            continue;
        if (need_model) {
            snprintf(path, sizeof path, "%s/%s/model.onnx", dir, e->d_name);
            if (!is_file(path))
                continue;
        }
        if (count == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, (size_t)cap * sizeof *names);
            if (!grown)
                goto oom;
            names = grown;
        }
        if (!(names[count] = strdup(e->d_name)))
            goto oom;
        count++;
    }
    closedir(d);
    if (count > 1)
        qsort(names, (size_t)count, sizeof *names, cmp_str);
    *n = count;
    return names;
oom:
    closedir(d);
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    errno = ENOMEM;
    return NULL;
}

static void free_names(char **names, int n) {
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The element type named in the tensor reader's "holds float16 elements; aicon reads ..." and "holds
 * int64 elements outside int32's range" messages into out; false for any other message. */
static bool type_from_message(const char *msg, char *out, size_t size) {
    const char *p = strstr(msg, " holds ");
    const char *q = p ? strstr(p + 7, " elements") : NULL;
    if (!p || !q || q == p + 7 || (size_t)(q - (p + 7)) >= size)
        return false;
    snprintf(out, size, "%.*s", (int)(q - (p + 7)), p + 7);
    return true;
}

/* ---- one data set ------------------------------------------------------------------------------ */

typedef struct {
    int n_inputs, n_outputs;
    aic_onnx_tensor inputs[MAX_TENSORS], outputs[MAX_TENSORS];
    char *input_file[MAX_TENSORS]; /* an integer input after the first: its file, bound as it is */
} data_set;

static void data_set_free(data_set *ds) {
    for (int i = 0; i < ds->n_inputs; i++) {
        aic_onnx_tensor_free(&ds->inputs[i]);
        free(ds->input_file[i]);
        ds->input_file[i] = NULL;
    }
    for (int i = 0; i < ds->n_outputs; i++)
        aic_onnx_tensor_free(&ds->outputs[i]);
    ds->n_inputs = ds->n_outputs = 0;
}

/* Reads kind_0.pb, kind_1.pb, ... ("input" or "output") until one is missing. With files, an int64 or
 * int32 tensor after the first (starts, pads, axes) is not read: files[k] names its file. */
static case_result read_tensors(const char *dir, const char *kind, aic_onnx_tensor *ts, char **files, int *n,
                                case_outcome *o) {
    char path[4096];
    for (int k = 0;; k++) {
        snprintf(path, sizeof path, "%s/%s_%d.pb", dir, kind, k);
        if (!is_file(path))
            break;
        if (k == MAX_TENSORS)
            return outcome(o, CASE_SKIP, "more than %d %ss", MAX_TENSORS, kind);
        aic_status st = aic_onnx_read_tensor(path, &ts[k]);
        char type[64];
        if (st == AIC_ERR_UNSUPPORTED && files && k > 0 && type_from_message(aic_last_error(), type, sizeof type) &&
            (strcmp(type, "int64") == 0 || strcmp(type, "int32") == 0)) {
            if (!(files[k] = strdup(path)))
                return outcome(o, CASE_FAIL, "out of memory");
            st = AIC_OK;
        }
        if (st == AIC_ERR_UNSUPPORTED) {
            if (type_from_message(aic_last_error(), type, sizeof type))
                return outcome(o, CASE_SKIP, "not fp32: %s", type);
            return outcome(o, CASE_SKIP, "unsupported: %s", aic_last_error());
        }
        if (st != AIC_OK)
            return outcome(o, CASE_FAIL, "%s", aic_last_error());
        (*n)++;
    }
    return CASE_PASS;
}

static case_result read_data_set(const char *dir, data_set *ds, case_outcome *o) {
    case_result r = read_tensors(dir, "input", ds->inputs, ds->input_file, &ds->n_inputs, o);
    if (r == CASE_PASS)
        r = read_tensors(dir, "output", ds->outputs, NULL, &ds->n_outputs, o);
    if (r == CASE_PASS && ds->n_outputs == 0)
        r = outcome(o, CASE_FAIL, "%s holds no output_0.pb", dir);
    return r;
}

static void dims_string(char *buf, size_t size, int ndim, const int64_t *dims) {
    size_t at = 0;
    at += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (at < size)
        snprintf(buf + at, size - at, "]");
}

/* Binds the data set's inputs, runs the forward pass and compares every output; *max_err receives the
 * largest absolute error seen. set_name is "" for test_data_set_0, else " (test_data_set_N)". */
static case_result run_data_set(aic_model_t *model, const aic_onnx_binding *bind, int max_batch, data_set *ds,
                                const char *set_name, double *max_err, case_outcome *o) {
    if (ds->n_inputs != bind->n_inputs)
        return outcome(o, CASE_FAIL, "the data set has %d inputs but the model takes %d%s", ds->n_inputs,
                       bind->n_inputs, set_name);
    if (ds->n_outputs != bind->n_outputs)
        return outcome(o, CASE_FAIL, "the data set has %d outputs but the model gives %d%s", ds->n_outputs,
                       bind->n_outputs, set_name);
    int rows = -1;
    char got_s[256], want_s[256];
    for (int k = 0; k < ds->n_inputs; k++) {
        const aic_onnx_tensor *in = &ds->inputs[k];
        const char *name = bind->input_names[k];
        if (in->ndim == 0)
            return outcome(o, CASE_SKIP, "input '%s' is a scalar (rank 0), which has no batch dimension", name);
        if (rows < 0)
            rows = (int)in->dims[0];
        else if (in->dims[0] != rows) /* not a batch: aicon's inputs share theirs */
            return outcome(o, CASE_SKIP, "input '%s' has %lld rows but input '%s' has %d%s", name,
                           (long long)in->dims[0], bind->input_names[0], rows, set_name);
        if (in->dims[0] > max_batch)
            return outcome(o, CASE_FAIL, "input '%s' has %lld rows, more than the %d the model was built for%s",
                           name, (long long)in->dims[0], max_batch, set_name);
        aic_tensor v;
        if (aic_model_value(model, bind->inputs[k], &v) != AIC_OK)
            return outcome(o, CASE_FAIL, "input '%s': %s", name, aic_last_error());
        bool same = v.ndim == in->ndim && v.dtype == in->dtype;
        for (int d = 1; same && d < in->ndim; d++)
            same = v.shape[d] == in->dims[d];
        if (!same) {
            dims_string(got_s, sizeof got_s, v.ndim - 1, v.shape + 1);
            dims_string(want_s, sizeof want_s, in->ndim - 1, in->dims + 1);
            return outcome(o, CASE_FAIL,
                           "input '%s': the data's per-sample shape %s is not the model's %s%s", name, want_s,
                           got_s, set_name);
        }
        if (aic_model_set_input(model, bind->inputs[k], in->data, rows) != AIC_OK)
            return outcome(o, CASE_FAIL, "input '%s': %s", name, aic_last_error());
    }
    aic_batch_info b = {.n = rows, .training = bind->training_mode}; /* batch statistics, as onnxruntime */
    if (aic_model_forward(model, &b, NULL) != AIC_OK)
        return outcome(o, CASE_FAIL, "forward: %s%s", aic_last_error(), set_name);

    for (int k = 0; k < ds->n_outputs; k++) {
        const aic_onnx_tensor *want = &ds->outputs[k];
        const char *name = bind->output_names[k];
        aic_tensor got;
        if (aic_model_value(model, bind->outputs[k], &got) != AIC_OK)
            return outcome(o, CASE_FAIL, "output '%s': %s", name, aic_last_error());
        if (got.dtype != want->dtype)
            return outcome(o, CASE_FAIL, "output '%s' holds %s values in the model but %s ones in the data%s", name,
                           got.dtype == AIC_I32 ? "integer" : "float", want->dtype == AIC_I32 ? "integer" : "float",
                           set_name);
        const bool ints = got.dtype == AIC_I32;
        bool same = got.ndim == want->ndim;
        for (int d = 0; same && d < want->ndim; d++)
            same = got.shape[d] == want->dims[d];
        if (!same) {
            dims_string(got_s, sizeof got_s, got.ndim, got.shape);
            dims_string(want_s, sizeof want_s, want->ndim, want->dims);
            return outcome(o, CASE_FAIL, "output '%s' has shape %s, want %s%s", name, got_s, want_s, set_name);
        }
        /* Walk the view by its strides (row-major order, the order of the expected data). */
        int64_t idx[AIC_MAX_DIMS] = {0};
        int64_t bad = -1;
        double bad_err = -1.0;
        double bad_got = 0, bad_want = 0;
        for (int64_t i = 0; i < want->numel; i++) {
            int64_t off = 0;
            for (int d = 0; d < got.ndim; d++)
                off += idx[d] * got.strides[d];
            const double a = ints ? ((const int32_t *)got.data)[off] : ((const float *)got.data)[off];
            const double w = ints ? ((const int32_t *)want->data)[i] : want->data[i];
            double err = fabs(a - w);
            bool ok;
            if (ints) { /* indices: exactly */
                ok = a == w;
            } else if (isnan(a) || isnan(w)) {
                ok = isnan(a) && isnan(w);
                err = ok ? 0.0 : INFINITY;
            } else if (a == w) { /* infinities included */
                ok = true;
                err = 0.0;
            } else {
                ok = err <= ATOL + RTOL * fabs(w);
            }
            if (err > *max_err)
                *max_err = err;
            if (!ok && err > bad_err) {
                bad = i;
                bad_err = err;
                bad_got = a;
                bad_want = w;
            }
            for (int d = got.ndim - 1; d >= 0; d--) {
                if (++idx[d] < got.shape[d])
                    break;
                idx[d] = 0;
            }
        }
        if (bad >= 0)
            return outcome(o, CASE_FAIL, "output '%s' max abs err %.2g at index %lld (got %.9g, want %.9g)%s", name,
                           bad_err, (long long)bad, bad_got, bad_want, set_name);
    }
    return CASE_PASS;
}

/* ---- one case ---------------------------------------------------------------------------------- */

/* Which fed inputs after the first import_case makes constants: none, all, or the float ones only (a
 * loss's class weights, its integer labels staying an input). */
typedef enum { BIND_NONE, BIND_ALL, BIND_FLOATS } bind_mode;

/* Whether input k is integers read as int32, which BIND_FLOATS leaves an input (labels). */
static bool fed_int(const data_set *ds, int k) { return !ds->input_file[k] && ds->inputs[k].dtype == AIC_I32; }

/* Loads dir/model.onnx into *om and imports it for max_batch rows into *model. With `bind`, the fed
 * inputs after the first that it names are first made constants holding ds's values for them (the
 * backend cases pass weights as inputs; aicon's inputs carry the batch). AIC_ERR_UNSUPPORTED leaves
 * the reason in aic_last_error; *om and *model are freed and NULL after any failure. */
static aic_status import_case(const char *dir, const data_set *ds, bind_mode bind, int max_batch,
                              aic_onnx_model_t **om, aic_model_t **model, aic_onnx_binding *b, char *bound_names,
                              size_t names_size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    *model = NULL;
    aic_status st = aic_onnx_load(path, om);
    size_t at = 0;
    /* Binding fed input i shifts the next one to index i: bind index `next` each time, past those kept. */
    for (int k = 1, next = 1; bind != BIND_NONE && st == AIC_OK && k < ds->n_inputs; k++) {
        const char *name = aic_onnx_fed_input_name(*om, next);
        if (!name) {
            st = aic_fail(AIC_ERR_FORMAT, "%s: the data set has %d inputs, the graph fewer", path, ds->n_inputs);
            break;
        }
        if (bind == BIND_FLOATS && fed_int(ds, k)) {
            next++;
            continue;
        }
        if (bound_names && at < names_size)
            at += (size_t)snprintf(bound_names + at, names_size - at, "%s'%s'", at ? ", " : "", name);
        st = ds->input_file[k] ? aic_onnx_bind_constant_file(*om, name, ds->input_file[k])
                               : aic_onnx_bind_constant(*om, name, &ds->inputs[k]);
    }
    if (st == AIC_OK)
        st = aic_onnx_import(*om, max_batch, model, b);
    if (st != AIC_OK) {
        aic_onnx_free(*om);
        *om = NULL;
    }
    return st;
}

/* Whether every input has the first one's leading size, which aicon's inputs share as their batch (a
 * scalar has none, nor an int64 input left in its file). */
static bool shared_batch(const data_set *ds) {
    for (int k = 1; k < ds->n_inputs; k++)
        if (ds->inputs[k].ndim == 0 || ds->inputs[k].dims[0] != ds->inputs[0].dims[0])
            return false;
    return true;
}

static case_result run_case(const char *dir, case_outcome *o) {
    char path[4096];
    aic_onnx_model_t *om = NULL;
    aic_model_t *model = NULL;
    aic_onnx_binding bind;
    char **sets = NULL;
    int n_sets = 0;
    data_set ds = {0};
    case_result r;
    double max_err = 0.0;
    bind_mode bound = BIND_NONE; /* which inputs after the first run as constants */
    char consts[512] = "";

    sets = list_subdirs(dir, "test_data_set_", false, &n_sets);
    if (n_sets < 0) {
        r = outcome(o, CASE_FAIL, "cannot list %s: %s", dir, strerror(errno));
        goto done;
    }
    if (n_sets == 0) {
        r = outcome(o, CASE_FAIL, "%s has no test_data_set_* directory", dir);
        goto done;
    }

    /* The first data set decides the batch the model is built for. */
    snprintf(path, sizeof path, "%s/%s", dir, sets[0]);
    if ((r = read_data_set(path, &ds, o)) != CASE_PASS)
        goto done;
    if (ds.n_inputs == 0) {
        r = outcome(o, CASE_SKIP, "the model takes no inputs, so there is no batch");
        goto done;
    }
    if (ds.inputs[0].ndim == 0) {
        r = outcome(o, CASE_SKIP, "input '%s' is a scalar (rank 0), which has no batch dimension",
                    ds.inputs[0].name);
        goto done;
    }
    if (ds.inputs[0].dims[0] < 1 || ds.inputs[0].dims[0] > (1 << 20)) {
        r = outcome(o, CASE_SKIP, "input '%s' has %lld rows, no usable batch", ds.inputs[0].name,
                    (long long)ds.inputs[0].dims[0]);
        goto done;
    }
    int max_batch = (int)ds.inputs[0].dims[0];
    /* inputs without a shared batch cannot all be aicon inputs: then the graph as given is not tried */
    aic_status st = shared_batch(&ds) ? import_case(dir, &ds, BIND_NONE, max_batch, &om, &model, &bind, NULL, 0)
                                      : aic_fail(AIC_ERR_UNSUPPORTED, "the inputs' leading sizes differ (no batch)");
    if (st == AIC_ERR_UNSUPPORTED && ds.n_inputs > 1) {
        char why[1024];
        snprintf(why, sizeof why, "%s", aic_last_error());
        bind_mode mode = BIND_ALL;
        st = import_case(dir, &ds, mode, max_batch, &om, &model, &bind, consts, sizeof consts);
        if (st == AIC_ERR_UNSUPPORTED) { /* both reasons: the graph as given, and with its weights bound */
            char why_bound[1024], floats[sizeof consts] = "";
            snprintf(why_bound, sizeof why_bound, "%s", aic_last_error());
            mode = BIND_FLOATS; /* a loss: its class weights bound, its integer labels fed */
            st = import_case(dir, &ds, mode, max_batch, &om, &model, &bind, floats, sizeof floats);
            if (st == AIC_OK)
                memcpy(consts, floats, sizeof consts);
            else if (st == AIC_ERR_UNSUPPORTED)
                aic_fail(st, "%s; with inputs %s as constants: %s", why, consts, why_bound);
        }
        bound = st == AIC_OK ? mode : BIND_NONE;
    }
    if (st == AIC_ERR_UNSUPPORTED) {
        r = outcome(o, CASE_SKIP, "unsupported: %s", aic_last_error());
        goto done;
    }
    if (st != AIC_OK) {
        r = outcome(o, CASE_FAIL, "import: %s", aic_last_error());
        goto done;
    }

    for (int s = 0; s < n_sets; s++) {
        char set_name[300] = "";
        if (s > 0) {
            data_set_free(&ds);
            snprintf(path, sizeof path, "%s/%s", dir, sets[s]);
            if ((r = read_data_set(path, &ds, o)) != CASE_PASS)
                goto done;
            snprintf(set_name, sizeof set_name, " (%s)", sets[s]);
            if (bound) { /* this data set's constants */
                aic_model_destroy(model);
                aic_onnx_free(om);
                if (import_case(dir, &ds, bound, max_batch, &om, &model, &bind, NULL, 0) != AIC_OK) {
                    model = NULL;
                    r = outcome(o, CASE_FAIL, "import%s: %s", set_name, aic_last_error());
                    goto done;
                }
            }
        }
        data_set fed = ds; /* the inputs left unbound: all, or the first and with BIND_FLOATS the integer ones */
        if (bound)
            fed.n_inputs = 1;
        for (int k = 1; bound == BIND_FLOATS && k < ds.n_inputs; k++)
            if (fed_int(&ds, k))
                fed.inputs[fed.n_inputs++] = ds.inputs[k];
        if ((r = run_data_set(model, &bind, max_batch, &fed, set_name, &max_err, o)) != CASE_PASS)
            goto done;
    }
    size_t n_nodes = aic_onnx_num_nodes(om);
    r = outcome(o, CASE_PASS, "opset %lld, %zu node%s, %d data set%s, max abs err %.2g%s%s",
                (long long)aic_onnx_opset_version(om), n_nodes, n_nodes == 1 ? "" : "s", n_sets,
                n_sets == 1 ? "" : "s", max_err, bound ? "; constants: " : "", consts);

done:
    data_set_free(&ds);
    free_names(sets, n_sets > 0 ? n_sets : 0);
    aic_model_destroy(model);
    aic_onnx_free(om);
    return r;
}

/* ---- the command ------------------------------------------------------------------------------- */

typedef struct {
    char *dir;  /* path of the case */
    char *name; /* as printed */
} test_case;

/* Last path component of dir, trailing slashes ignored, into buf. */
static void base_name(const char *dir, char *buf, size_t size) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    snprintf(buf, size, "%.*s", (int)(len - start), dir + start);
}

static bool add_case(test_case **cases, int *n, int *cap, const char *dir, const char *name) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 256;
        test_case *grown = realloc(*cases, (size_t)c * sizeof *grown);
        if (!grown)
            return false;
        *cases = grown;
        *cap = c;
    }
    (*cases)[*n].dir = strdup(dir);
    (*cases)[*n].name = strdup(name);
    if (!(*cases)[*n].dir || !(*cases)[*n].name) {
        free((*cases)[*n].dir);
        free((*cases)[*n].name);
        return false;
    }
    (*n)++;
    return true;
}

int aicon_onnx_test_main(int argc, char **argv) {
    bool verbose = false, options_done = false;
    int n_dirs = 0;
    /* Options anywhere, directories in the order given; after "--" everything is a directory. The
     * directory names are moved to the front of argv. */
    for (int i = 1; i < argc; i++) {
        if (!options_done && argv[i][0] == '-') {
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                onnx_test_usage(stdout);
                return 0;
            }
            if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
                verbose = true;
            } else if (strcmp(argv[i], "--") == 0) {
                options_done = true;
            } else {
                fprintf(stderr, "aicon onnx-test: unknown option '%s' (see aicon onnx-test --help)\n", argv[i]);
                return 2;
            }
            continue;
        }
        argv[1 + n_dirs++] = argv[i];
    }
    if (n_dirs == 0) {
        fprintf(stderr, "aicon onnx-test: no test directory given\n");
        onnx_test_usage(stderr);
        return 2;
    }

    /* Collect every case before running any, so a wrong path is reported at once. */
    test_case *cases = NULL;
    int n_cases = 0, cap = 0, rc = 0;
    char path[4096], name[4096], base[2048];
    for (int i = 1; i <= n_dirs && rc == 0; i++) {
        const char *dir = argv[i];
        struct stat sb;
        if (stat(dir, &sb) != 0) {
            fprintf(stderr, "aicon onnx-test: %s: %s\n", dir, strerror(errno));
            rc = 2;
            break;
        }
        if (!S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "aicon onnx-test: %s is not a directory (give an ONNX test case's directory)\n", dir);
            rc = 2;
            break;
        }
        snprintf(path, sizeof path, "%s/model.onnx", dir);
        if (is_file(path)) {
            if (!add_case(&cases, &n_cases, &cap, dir, dir))
                rc = 3;
            continue;
        }
        int n_sub;
        char **subs = list_subdirs(dir, "", true, &n_sub);
        if (n_sub < 0) {
            fprintf(stderr, "aicon onnx-test: %s: cannot list the directory: %s\n", dir, strerror(errno));
            rc = 2;
            break;
        }
        if (n_sub == 0) {
            fprintf(stderr,
                    "aicon onnx-test: %s is not an ONNX test case (it holds no model.onnx) and none of its "
                    "subdirectories is one\n", dir);
            rc = 2;
            break;
        }
        base_name(dir, base, sizeof base);
        for (int k = 0; k < n_sub && rc == 0; k++) {
            snprintf(path, sizeof path, "%s/%s", dir, subs[k]);
            snprintf(name, sizeof name, "%s/%s", base, subs[k]);
            if (!add_case(&cases, &n_cases, &cap, path, name))
                rc = 3;
        }
        free_names(subs, n_sub);
    }
    if (rc == 3) {
        fprintf(stderr, "aicon onnx-test: out of memory listing the test cases\n");
        rc = 1;
    }

    if (rc == 0) {
        int passed = 0, failed = 0, skipped = 0;
        static case_outcome o; /* 4 KiB of message: not on the stack of every call */
        for (int i = 0; i < n_cases; i++) {
            o.why[0] = '\0';
            switch (run_case(cases[i].dir, &o)) {
            case CASE_PASS:
                passed++;
                if (verbose)
                    printf("PASS %s (%s)\n", cases[i].name, o.why);
                else if (strstr(o.why, "; constants: "))
                    printf("PASS %s (inputs run as constants: %s)\n", cases[i].name,
                           strstr(o.why, "; constants: ") + 13);
                else
                    printf("PASS %s\n", cases[i].name);
                break;
            case CASE_FAIL:
                failed++;
                printf("FAIL %s: %s\n", cases[i].name, o.why);
                break;
            case CASE_SKIP:
                skipped++;
                printf("SKIP %s: %s\n", cases[i].name, o.why);
                break;
            }
            fflush(stdout);
        }
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
        rc = failed > 0 ? 1 : 0;
    }
    for (int i = 0; i < n_cases; i++) {
        free(cases[i].dir);
        free(cases[i].name);
    }
    free(cases);
    return rc;
}
