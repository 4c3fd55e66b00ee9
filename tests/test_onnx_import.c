// SPDX-License-Identifier: Apache-2.0
/* Tests for aic_onnx_import: the models tests/onnx/make_import_models.py writes are imported, run in
 * evaluation mode on the stored inputs and compared with the outputs numpy computed (relative 1e-4);
 * a model with unsupported nodes fails with every one of them named.
 *
 * Usage: test_onnx_import DIR (the directory make_import_models.py wrote). */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aicon/aicon.h"
#include "tests/test_util.h"

static const char *g_dir;

/* NAME.data: int32 count, then per array an int32 element count and the float32s. */
typedef struct {
    int n;
    int32_t count[32];
    float *data[32];
} arrays;

static void arrays_free(arrays *a) {
    for (int i = 0; i < a->n; i++)
        free(a->data[i]);
    a->n = 0;
}

static int read_arrays(const char *name, arrays *a) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.data", g_dir, name);
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int32_t n = 0;
    int ok = fread(&n, 4, 1, f) == 1 && n >= 0 && n <= 32;
    for (int i = 0; ok && i < n; i++) {
        int32_t c = 0;
        ok = fread(&c, 4, 1, f) == 1 && c >= 0 && c < (1 << 24);
        float *d = ok ? malloc(sizeof(float) * (size_t)(c ? c : 1)) : NULL;
        ok = ok && d && fread(d, sizeof(float), (size_t)c, f) == (size_t)c;
        if (d) {
            a->count[a->n] = c;
            a->data[a->n++] = d;
        }
    }
    fclose(f);
    if (!ok)
        arrays_free(a);
    return ok;
}

static aic_onnx_model_t *load(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.onnx", g_dir, name);
    aic_onnx_model_t *om = NULL;
    aic_status st = aic_onnx_load(path, &om);
    CHECK_OK(st);
    return om;
}

/* Elements of one sample (shape[0] is the last batch's n, 0 before the first forward). */
static int64_t per_sample(const aic_tensor *t) {
    int64_t p = 1;
    for (int i = 1; i < t->ndim; i++)
        p *= t->shape[i];
    return p;
}

/* Imports NAME.onnx, runs the stored inputs (batch of n), compares every output with numpy's. */
static void run_model(const char *name, int n, int want_in, int want_out) {
    aic_onnx_model_t *om = load(name);
    if (!om)
        return;
    arrays a;
    CHECK(read_arrays(name, &a));
    aic_model_t *m = NULL;
    aic_onnx_binding b;
    aic_status st = aic_onnx_import(om, n + 1, &m, &b);
    CHECK_OK(st);
    if (st != AIC_OK) {
        printf("%-12s -> %s: %s\n", name, aic_status_string(st), aic_last_error());
        aic_onnx_free(om);
        arrays_free(&a);
        return;
    }
    CHECK(b.n_inputs == want_in);
    CHECK(b.n_outputs == want_out);
    CHECK(a.n == b.n_inputs + b.n_outputs);
    int k = 0;
    for (int i = 0; i < b.n_inputs && k < a.n; i++, k++) {
        aic_tensor t;
        CHECK_OK(aic_model_value(m, b.inputs[i], &t));
        int64_t per = per_sample(&t);
        CHECK(per * n == a.count[k]);
        if (per * n == a.count[k])
            CHECK_OK(aic_model_set_input(m, b.inputs[i], a.data[k], n));
    }
    aic_batch_info bi = {.n = n, .training = false};
    CHECK_OK(aic_model_forward(m, &bi, NULL));
    double worst = 0;
    for (int i = 0; i < b.n_outputs && k < a.n; i++, k++) {
        aic_tensor t;
        CHECK_OK(aic_model_value(m, b.outputs[i], &t));
        int64_t per = per_sample(&t);
        CHECK(per * n == a.count[k]);
        if (per * n != a.count[k])
            continue;
        const float *got = t.data;
        int bad = 0;
        for (int64_t j = 0; j < a.count[k]; j++) {
            double want = a.data[k][j], err = fabs(got[j] - want) / fmax(1.0, fabs(want));
            if (err > worst)
                worst = err;
            if (err > 1e-4 && bad++ < 3)
                fprintf(stderr, "%s output '%s'[%lld]: got %.7g, want %.7g\n", name, b.output_names[i], (long long)j,
                        got[j], want);
        }
        CHECK(bad == 0);
    }
    printf("%-12s -> ok: %d inputs, %d outputs, %d params, worst relative error %.2e\n", name, b.n_inputs,
           b.n_outputs, aic_model_param_count(m), worst);
    aic_model_destroy(m);
    aic_onnx_free(om);
    arrays_free(&a);
}

/* The shape computation of viewflat (nodes named fold_*) is folded at import: none of it becomes an op. */
static void test_viewflat_no_shape_ops(void) {
    aic_onnx_model_t *om = load("viewflat");
    if (!om)
        return;
    aic_model_t *m = NULL;
    aic_onnx_binding b;
    CHECK_OK(aic_onnx_import(om, 4, &m, &b));
    if (m) {
        char sum[8192];
        CHECK_OK(aic_model_summary(m, sum, sizeof sum));
        CHECK(strstr(sum, "conv") != NULL && strstr(sum, "view") != NULL);
        CHECK(strstr(sum, "fold_") == NULL);
        aic_model_destroy(m);
    }
    aic_onnx_free(om);
}

/* viewflat exported: its initializers keep their ONNX names (wv, bv), not aicon's (conv.weight), and
 * the exported model, imported again, computes the same output. */
static void test_names_kept_on_export(void) {
    aic_onnx_model_t *om = load("viewflat"), *om2 = NULL;
    aic_model_t *m = NULL, *m2 = NULL;
    aic_onnx_binding b, b2;
    char path[4096];
    snprintf(path, sizeof path, "%s/viewflat_rt.onnx", g_dir);
    CHECK(om && aic_onnx_import(om, 3, &m, &b) == AIC_OK && aic_onnx_export(m, path) == AIC_OK);
    FILE *f = fopen(path, "rb");
    char buf[1 << 16];
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    bool has_wv = false, has_bv = false, has_aicon = false;
    for (size_t i = 0; i + 11 <= len; i++) {
        has_wv |= memcmp(buf + i, "\x02wv", 3) == 0; /* protobuf: length 2, then the name */
        has_bv |= memcmp(buf + i, "\x02" "bv", 3) == 0;
        has_aicon |= memcmp(buf + i, "conv.weight", 11) == 0 || memcmp(buf + i, "conv.bias", 9) == 0;
    }
    CHECK(len > 0 && has_wv && has_bv && !has_aicon);
    arrays a;
    if (len > 0 && read_arrays("viewflat", &a)) {
        CHECK(aic_onnx_load(path, &om2) == AIC_OK && aic_onnx_import(om2, 3, &m2, &b2) == AIC_OK);
        if (m2) {
            aic_batch_info bi = {.n = 3, .training = false};
            aic_tensor t;
            CHECK_OK(aic_model_set_input(m2, b2.inputs[0], a.data[0], 3));
            CHECK_OK(aic_model_forward(m2, &bi, NULL));
            CHECK(aic_model_value(m2, b2.outputs[0], &t) == AIC_OK && per_sample(&t) * 3 == a.count[1]);
            double worst = 0;
            for (int64_t j = 0; j < a.count[1] && per_sample(&t) * 3 == a.count[1]; j++)
                worst = fmax(worst, fabs(((const float *)t.data)[j] - a.data[1][j]) / fmax(1.0, fabs(a.data[1][j])));
            CHECK(worst <= 1e-4);
            printf("%-12s -> exported with names wv, bv; re-imported: worst relative error %.2e\n", "viewflat_rt",
                   worst);
        }
        arrays_free(&a);
    }
    aic_model_destroy(m);
    aic_model_destroy(m2);
    aic_onnx_free(om);
    aic_onnx_free(om2);
}

/* A model whose activations cannot fit in memory is refused by name, before anything is allocated. */
static void test_huge(void) {
    aic_onnx_model_t *om = load("huge");
    if (!om)
        return;
    aic_model_t *m = NULL;
    aic_onnx_binding b;
    aic_status st = aic_onnx_import(om, 64, &m, &b);
    printf("%-12s -> %s: %s\n", "huge", aic_status_string(st), aic_last_error());
    CHECK(st == AIC_ERR_NOMEM && m == NULL);
    CHECK(strstr(aic_last_error(), "more than this machine") != NULL);
    aic_onnx_free(om);
}

/* The import fuzzer's tiny files asking for gigabytes per sample (tests/fuzz/repro): refused at import,
 * naming the tensor, before compile sizes any arena. */
static void test_repro(const char *dir) {
    static const char *const files[] = {"oom_conv_pads_16384.onnx", "oom_relu_input_40000x40000.onnx",
                                         "oom_conv_64ch_pads_4000.onnx"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        aic_onnx_model_t *om = NULL;
        aic_status st = aic_onnx_load(path, &om);
        CHECK_OK(st);
        if (st != AIC_OK)
            continue;
        aic_model_t *m = (aic_model_t *)1;
        aic_onnx_binding b;
        st = aic_onnx_import(om, 2, &m, &b);
        printf("%-12s -> %s: %s\n", files[i], aic_status_string(st), aic_last_error());
        CHECK(st == AIC_ERR_UNSUPPORTED && m == NULL);
        CHECK(strstr(aic_last_error(), "elements per sample; aicon takes at most 268435456") != NULL);
        aic_onnx_free(om);
    }
}

static void test_unsupported(void) {
    aic_onnx_model_t *om = load("unsupported");
    if (!om)
        return;
    aic_model_t *m = (aic_model_t *)1;
    aic_onnx_binding b;
    b.n_inputs = 99;
    aic_status st = aic_onnx_import(om, 4, &m, &b);
    const char *msg = aic_last_error();
    printf("%-12s -> %s: %s\n", "unsupported", aic_status_string(st), msg);
    CHECK(st == AIC_ERR_UNSUPPORTED);
    CHECK(m == NULL);
    CHECK(b.n_inputs == 0 && b.n_outputs == 0);
    CHECK(strstr(msg, "node 'det' (Det, opset 13): ") != NULL);
    CHECK(strstr(msg, "node 'lpnorm' (LpNormalization, opset 13): ") != NULL);
    CHECK(strstr(msg, "node 'padsconv' (Conv, opset 13): pads [0, 0, 1, 1] are not symmetric") != NULL);
    CHECK(strstr(msg, "node 'badcat' (Concat, opset 13): ") != NULL);
    CHECK(strstr(msg, "node 'gemm_ta' (Gemm, opset 13): ") != NULL);
    CHECK(strstr(msg, "node 'addc' (Add, opset 13): ") != NULL);
    CHECK(strstr(msg, "node 'mm_ranks' (MatMul, opset 13): operands of ranks 4 and 2") != NULL);
    CHECK(strstr(msg, ": 7 unsupported: ") != NULL);
    CHECK(strstr(msg, "after_sm") == NULL); /* its input comes from an unsupported node */
    CHECK(strstr(msg, "'fine'") == NULL);
    CHECK(strstr(msg, "; ") != NULL);
    aic_onnx_free(om);
}

static void test_args(void) {
    aic_onnx_model_t *om = load("mlp");
    if (!om)
        return;
    aic_model_t *m = (aic_model_t *)1;
    CHECK(aic_onnx_import(NULL, 4, &m, NULL) == AIC_ERR_INVALID_ARG);
    CHECK(m == NULL);
    CHECK(aic_onnx_import(om, 0, &m, NULL) == AIC_ERR_INVALID_ARG);
    CHECK(aic_onnx_import(om, 4, NULL, NULL) == AIC_ERR_INVALID_ARG);
    /* A NULL binding is allowed; the model's output is the first graph output. */
    CHECK_OK(aic_onnx_import(om, 4, &m, NULL));
    aic_tensor t;
    CHECK(m && aic_model_output(m, &t) == AIC_OK && t.ndim == 2 && t.shape[1] == 5);
    aic_model_destroy(m);
    aic_onnx_free(om);
}

/* aic_onnx_build appends to a model that already holds an op; aic_onnx_load_weights refuses an
 * uncompiled model, then gives the compiled one the same weights aic_onnx_import does. */
static void test_build_then_load_weights(void) {
    aic_onnx_model_t *om = load("mlp");
    if (!om)
        return;
    aic_model_t *ref = NULL, *m = NULL;
    aic_onnx_binding rb, b;
    aic_value labels;
    CHECK_OK(aic_onnx_import(om, 2, &ref, &rb));
    CHECK_OK(aic_model_create(&m, "appended"));
    CHECK_OK(aic_labels(m, "aicon_label", &labels));
    CHECK_OK(aic_onnx_build(om, m, &b));
    CHECK(b.n_inputs == rb.n_inputs && b.n_outputs == rb.n_outputs && b.n_outputs > 0);
    CHECK(strcmp(b.input_names[0], rb.input_names[0]) == 0);
    CHECK(aic_onnx_load_weights(om, m) == AIC_ERR_STATE);
    CHECK_OK(aic_model_set_output(m, b.outputs[0]));
    CHECK_OK(aic_model_compile(m, 2, 7));
    CHECK_OK(aic_onnx_load_weights(om, m));
    size_t np = aic_model_num_params(m), nb = aic_model_num_buffers(m);
    CHECK(np > 0 && np == aic_model_num_params(ref) && nb == aic_model_num_buffers(ref));
    if (np > 0 && np == aic_model_num_params(ref))
        CHECK(memcmp(aic_model_params(m), aic_model_params(ref), sizeof(float) * np) == 0);
    if (nb > 0 && nb == aic_model_num_buffers(ref))
        CHECK(memcmp(aic_model_buffers(m), aic_model_buffers(ref), sizeof(float) * nb) == 0);
    CHECK(aic_onnx_build(NULL, m, &b) == AIC_ERR_INVALID_ARG && b.n_inputs == 0);
    CHECK(aic_onnx_load_weights(om, NULL) == AIC_ERR_INVALID_ARG);
    aic_model_destroy(m);
    aic_model_destroy(ref);
    aic_onnx_free(om);
}

/* Every operator test model of ONNX itself (libonnx-testdata, when installed) imports or is refused as
 * unsupported, with a message; nothing else (and no crash). Prints what imported. */
static void test_onnx_testdata(void) {
    const char *root = "/usr/share/libonnx-testdata/data/node";
    DIR *d = opendir(root);
    if (!d) {
        printf("libonnx-testdata: %s not found, skipped\n", root);
        return;
    }
    int imported = 0, refused = 0, other = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/model.onnx", root, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        aic_onnx_model_t *om = NULL;
        if (aic_onnx_load(path, &om) != AIC_OK)
            continue; /* test_onnx_load reports these */
        aic_model_t *m = NULL;
        aic_onnx_binding b;
        aic_status st = aic_onnx_import(om, 2, &m, &b);
        const char *msg = aic_last_error();
        if (st == AIC_OK && m) {
            imported++;
            printf("libonnx-testdata: imported %s\n", e->d_name);
        } else if (st == AIC_ERR_UNSUPPORTED && m == NULL && msg[0]) {
            refused++;
        } else {
            other++;
            fprintf(stderr, "FAIL libonnx-testdata: %s: %s: %s\n", e->d_name, aic_status_string(st), msg);
        }
        aic_model_destroy(m);
        aic_onnx_free(om);
    }
    closedir(d);
    printf("libonnx-testdata: %d imported, %d refused as unsupported\n", imported, refused);
    CHECK(imported > 0);
    CHECK(other == 0);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODELS_DIR REPRO_DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    run_model("mlp", 3, 1, 2);
    run_model("cnn", 3, 1, 1);
    run_model("branch", 3, 1, 3);
    run_model("acts", 3, 1, 2);
    run_model("arith", 3, 2, 3);
    run_model("viewflat", 3, 1, 1);
    test_viewflat_no_shape_ops();
    run_model("transpose", 3, 1, 1);
    run_model("layernorm", 3, 1, 2);
    run_model("reduce_pow", 3, 1, 4);
    run_model("attention", 3, 3, 2);
    run_model("attention_mask", 3, 3, 2);
    run_model("slicing9", 3, 1, 4);
    run_model("slicing", 3, 1, 4);
    run_model("floating", 3, 1, 1);
    test_names_kept_on_export();
    test_unsupported();
    test_huge();
    test_repro(argv[2]);
    test_args();
    test_build_then_load_weights();
    test_onnx_testdata();
    return test_report("onnx_import");
}
