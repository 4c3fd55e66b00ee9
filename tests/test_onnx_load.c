// SPDX-License-Identifier: Apache-2.0
/* Tests for onnx/: a valid model loads and reports what it holds; every broken model that
 * tests/onnx/make_bad_models.py writes is refused with a message naming the file and the fault; every
 * operator test model of ONNX itself (libonnx-testdata, when installed) loads.
 *
 * Usage: test_onnx_load DIR (the directory make_bad_models.py wrote). */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aicon/aicon.h"
#include "tests/test_util.h"

static const char *g_dir;

static void path_of(char *buf, size_t size, const char *name) { snprintf(buf, size, "%s/%s", g_dir, name); }

/* Loads DIR/name, expects status want and a message holding the file name and every word given. */
static void expect_fail(const char *name, aic_status want, const char *w1, const char *w2) {
    char path[4096];
    path_of(path, sizeof path, name);
    aic_onnx_model_t *m = (aic_onnx_model_t *)1;
    aic_status st = aic_onnx_load(path, &m);
    const char *msg = aic_last_error();
    printf("%-24s -> %s: %s\n", name, aic_status_string(st), msg);
    CHECK(st == want);
    CHECK(m == NULL);
    CHECK(strstr(msg, name) != NULL);
    CHECK(w1 == NULL || strstr(msg, w1) != NULL);
    CHECK(w2 == NULL || strstr(msg, w2) != NULL);
    aic_onnx_free(m);
}

static void test_valid(void) {
    const char *names[] = {"valid.onnx", "unordered.onnx"};
    for (int k = 0; k < 2; k++) {
        char path[4096];
        path_of(path, sizeof path, names[k]);
        aic_onnx_model_t *m = NULL;
        aic_status st = aic_onnx_load(path, &m);
        CHECK_OK(st);
        if (st != AIC_OK)
            continue;
        printf("%-24s -> ok: graph '%s', %zu nodes, %zu initializers, %zu inputs, %zu outputs, opset %lld, ir %lld\n",
               names[k], aic_onnx_graph_name(m), aic_onnx_num_nodes(m), aic_onnx_num_initializers(m),
               aic_onnx_num_inputs(m), aic_onnx_num_outputs(m), (long long)aic_onnx_opset_version(m),
               (long long)aic_onnx_ir_version(m));
        CHECK(aic_onnx_num_nodes(m) == 2);
        CHECK(aic_onnx_num_initializers(m) == 2);
        CHECK(aic_onnx_num_inputs(m) == 1);
        CHECK(aic_onnx_num_outputs(m) == 1);
        CHECK(aic_onnx_opset_version(m) == 13);
        CHECK(k != 0 || strcmp(aic_onnx_graph_name(m), "gemm_relu") == 0);
        aic_onnx_free(m);
    }
    aic_onnx_free(NULL);
}

static void test_broken(void) {
    expect_fail("truncated.onnx", AIC_ERR_FORMAT, "not an ONNX model", "protobuf parse failed");
    expect_fail("random.onnx", AIC_ERR_FORMAT, "not an ONNX model", "protobuf parse failed");
    expect_fail("no_graph.onnx", AIC_ERR_FORMAT, "no graph", NULL);
    expect_fail("cycle.onnx", AIC_ERR_FORMAT, "graph has a cycle through node '", "(Add)");
    expect_fail("raw_size.onnx", AIC_ERR_FORMAT, "tensor 'w': dims say 12 floats",
                "but the data holds 40 bytes");
    expect_fail("typed_size.onnx", AIC_ERR_FORMAT, "tensor 'w': dims say 12 floats but the data holds 10", NULL);
    expect_fail("constant_size.onnx", AIC_ERR_FORMAT, "node 'const' (Constant) attribute 'value'",
                "dims say 5 floats but the data holds 2");
    expect_fail("huge.onnx", AIC_ERR_FORMAT, "tensor 'w' claims 1099511627776 elements", NULL);
    expect_fail("negative_dim.onnx", AIC_ERR_FORMAT, "tensor 'w'", "negative dimension");
    expect_fail("external.onnx", AIC_ERR_UNSUPPORTED, "tensor 'w'", "external file");
    expect_fail("dangling.onnx", AIC_ERR_FORMAT,
                "node 'n3' (Relu): input 'foo' is produced by no node, initializer or graph input", NULL);
    expect_fail("duplicate_output.onnx", AIC_ERR_FORMAT, "node 'second' (Sigmoid): output 'h'",
                "already produced by node 'first' (Relu)");
    expect_fail("does_not_exist.onnx", AIC_ERR_IO, "cannot open", NULL);
}

/* A sparse file over the size limit is refused from its size alone, before any read. */
/* Loads DIR/name and imports it for 4 rows: import_want is its status (AIC_OK: it imports), with a
 * message holding every word given. */
static void expect_import(const char *name, aic_status import_want, const char *w1, const char *w2) {
    char path[4096];
    path_of(path, sizeof path, name);
    aic_onnx_model_t *om = NULL;
    aic_model_t *m = NULL;
    aic_status st = aic_onnx_load(path, &om);
    CHECK_OK(st);
    if (st != AIC_OK)
        return;
    st = aic_onnx_import(om, 4, &m, NULL);
    const char *msg = st == AIC_OK ? "" : aic_last_error();
    printf("%-24s -> import %s: %s\n", name, aic_status_string(st), msg);
    CHECK(st == import_want);
    CHECK((m != NULL) == (import_want == AIC_OK));
    CHECK(w1 == NULL || strstr(msg, w1) != NULL);
    CHECK(w2 == NULL || strstr(msg, w2) != NULL);
    aic_model_destroy(m);
    aic_onnx_free(om);
}

/* What aicon must not read differently from what the file says: strings cut at a NUL byte,
 * attributes of another type, opsets and domains it does not know, declared shapes it does not make. */
static void test_strict(void) {
    expect_fail("nul_op_type.onnx", AIC_ERR_FORMAT, "node 'relu' (Relu): graph.node[1].op_type holds a NUL byte",
                "(\"Relu\\x00x\")");
    /* The node reading it comes first in the file (GraphProto field 1; initializers are field 5). */
    expect_fail("nul_name.onnx", AIC_ERR_FORMAT, "node 'gemm' (Gemm): graph.node[0].input[1] holds a NUL byte",
                "\"w\\x00evil\"");
    expect_import("strict_valid.onnx", AIC_OK, NULL, NULL);
    expect_import("strict_symbolic.onnx", AIC_OK, NULL, NULL);
    expect_import("int_alpha.onnx", AIC_ERR_FORMAT, "node 'gemm' (Gemm): attribute 'alpha' is INT where Gemm takes FLOAT",
                  NULL);
    expect_import("floats_kernel.onnx", AIC_ERR_FORMAT,
                  "node 'conv' (Conv): attribute 'kernel_shape' is FLOATS where Conv takes INTS", NULL);
    expect_import("opset_999.onnx", AIC_ERR_UNSUPPORTED, "opset 999 of the default domain is outside 1..17", NULL);
    expect_import("ml_domain.onnx", AIC_ERR_UNSUPPORTED, "operator set domain 'ai.onnx.ml' (version 3)",
                  "only the default domain");
    expect_import("output_shape.onnx", AIC_ERR_FORMAT,
                  "graph output 'y' is declared [N, 7] but node 'relu' (Relu) makes it [N, 10]", NULL);
    expect_import("value_shape.onnx", AIC_ERR_FORMAT,
                  "value 'h' is declared [N, 5] but node 'gemm' (Gemm) makes it [N, 10]", NULL);
}

static void test_size_cap(void) {
    char tmpl[] = "/tmp/aicon_onnx_XXXXXX";
    if (!mkdtemp(tmpl)) {
        CHECK(!"mkdtemp");
        return;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/big.onnx", tmpl);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(ftruncate(fileno(f), (off_t)3 << 30) == 0);
        fclose(f);
        aic_onnx_model_t *m = NULL;
        aic_status st = aic_onnx_load(path, &m);
        printf("%-24s -> %s: %s\n", "big.onnx (3 GiB sparse)", aic_status_string(st), aic_last_error());
        CHECK(st == AIC_ERR_FORMAT);
        CHECK(strstr(aic_last_error(), "big.onnx") && strstr(aic_last_error(), "over the"));
        CHECK(m == NULL);
        unlink(path);
    }
    rmdir(tmpl);
}

static void test_buffer(void) {
    aic_onnx_model_t *m = NULL;
    CHECK(aic_onnx_load_buffer(NULL, 0, "empty", &m) == AIC_ERR_FORMAT); /* parses as an empty model */
    CHECK(strstr(aic_last_error(), "empty: the model has no graph") != NULL);
    CHECK(aic_onnx_load_buffer((const uint8_t *)"x", 1, NULL, NULL) == AIC_ERR_INVALID_ARG);
    CHECK(aic_onnx_load_buffer((const uint8_t *)"\xff\xff", 2, NULL, &m) == AIC_ERR_FORMAT);
    CHECK(strstr(aic_last_error(), "<buffer>: not an ONNX model") != NULL);
    CHECK(m == NULL);
}

/* Every model.onnx of ONNX's operator tests is a valid model: all must load. */
static void test_onnx_testdata(void) {
    const char *root = "/usr/share/libonnx-testdata/data/node";
    DIR *d = opendir(root);
    if (!d) {
        printf("libonnx-testdata: %s not found, skipped\n", root);
        return;
    }
    int loaded = 0, refused = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/model.onnx", root, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        aic_onnx_model_t *m = NULL;
        aic_status st = aic_onnx_load(path, &m);
        if (st == AIC_OK) {
            loaded++;
        } else {
            refused++;
            fprintf(stderr, "FAIL libonnx-testdata: %s: %s\n", aic_status_string(st), aic_last_error());
        }
        aic_onnx_free(m);
    }
    closedir(d);
    printf("libonnx-testdata: %d of %d operator test models loaded\n", loaded, loaded + refused);
    CHECK(loaded > 0);
    CHECK(refused == 0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR (written by tests/onnx/make_bad_models.py)\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    test_valid();
    test_broken();
    test_strict();
    test_size_cap();
    test_buffer();
    test_onnx_testdata();
    return test_report("onnx_load");
}
