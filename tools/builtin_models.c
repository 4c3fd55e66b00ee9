// SPDX-License-Identifier: Apache-2.0
/* The models aicon train builds: the built-in ones, written with the public API exactly as a
 * researcher would write their own, and ONNX files. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "aicon/aicon.h"
#include "aicon/onnx.h"
#include "core/error.h"
#include "core/graph.h" /* per-sample shapes of the imported graph's values, before compile */
#include "tools/tools.h"

const char *const aicon_builtin_model_names = "mlp, lenet, gpt";

/* 784-512-512-10 with ReLU (any input shape is flattened). */
static aic_status build_mlp(aic_model_t *m, aic_value x, int classes, aic_value *logits) {
    aic_value h;
    AIC_TRY(aic_flatten(m, "flatten", x, &h));
    AIC_TRY(aic_dense(m, "fc1", h, 512, true, &h));
    AIC_TRY(aic_relu(m, "relu1", h, &h));
    AIC_TRY(aic_dense(m, "fc2", h, 512, true, &h));
    AIC_TRY(aic_relu(m, "relu2", h, &h));
    return aic_dense(m, "fc3", h, classes, true, logits);
}

/* conv 5x5x32 pad 2, ReLU, max-pool 2, conv 5x5x64 pad 2, ReLU, max-pool 2, dense 1024, ReLU,
 * dense classes: the TensorFlow/PyTorch tutorial CNN. */
static aic_status build_lenet(aic_model_t *m, aic_value x, int classes, aic_value *logits) {
    const aic_pool2d_opts pool = {.kernel = {2, 2}};
    aic_value h;
    AIC_TRY(aic_conv2d(m, "conv1", x, &(aic_conv2d_opts){.out_channels = 32, .kernel = {5, 5}, .pad = {2, 2}}, &h));
    AIC_TRY(aic_relu(m, "relu1", h, &h));
    AIC_TRY(aic_maxpool2d(m, "pool1", h, &pool, &h));
    AIC_TRY(aic_conv2d(m, "conv2", h, &(aic_conv2d_opts){.out_channels = 64, .kernel = {5, 5}, .pad = {2, 2}}, &h));
    AIC_TRY(aic_relu(m, "relu2", h, &h));
    AIC_TRY(aic_maxpool2d(m, "pool2", h, &pool, &h));
    AIC_TRY(aic_flatten(m, "flatten", h, &h));
    AIC_TRY(aic_dense(m, "fc1", h, 1024, true, &h));
    AIC_TRY(aic_relu(m, "relu3", h, &h));
    return aic_dense(m, "fc2", h, classes, true, logits);
}

aic_status aicon_builtin_model(const char *name, int ndim, const int64_t *shape, int classes, aic_model_t **out,
                               aic_io_values *io) {
    bool is_mlp = strcmp(name, "mlp") == 0, is_lenet = strcmp(name, "lenet") == 0;
    if (!is_mlp && !is_lenet)
        return aic_fail(AIC_ERR_INVALID_ARG, "unknown model '%s' (built-in models: %s)", name,
                        aicon_builtin_model_names);
    if (is_lenet && ndim != 3)
        return aic_fail(AIC_ERR_SHAPE, "model lenet needs image samples C x H x W; the data has rank %d", ndim);
    aic_model_t *m;
    AIC_TRY(aic_model_create(&m, name));
    aic_value x, logits, loss;
    aic_status st = aic_input(m, "image", ndim, shape, &x);
    if (st == AIC_OK)
        st = aic_labels(m, "label", &io->labels);
    if (st == AIC_OK)
        st = is_mlp ? build_mlp(m, x, classes, &logits) : build_lenet(m, x, classes, &logits);
    if (st == AIC_OK)
        st = aic_softmax_cross_entropy(m, "loss", logits, io->labels, &loss);
    if (st != AIC_OK) {
        aic_model_destroy(m);
        return st;
    }
    io->input = x;
    *out = m;
    return AIC_OK;
}

/* ---- the model aicon train trains: a built-in one or an ONNX file ---------------------------- */

bool aicon_model_is_onnx(const char *model) {
    size_t n = strlen(model);
    if (n > 5 && strcmp(model + n - 5, ".onnx") == 0)
        return true;
    struct stat sb;
    return stat(model, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? " x " : "", (long long)shape[i]);
    if (ndim == 0)
        snprintf(buf, size, "scalar");
}

/* The model value that a loss on graph output `out` should read, and whether it holds
 * log-probabilities (negative log-likelihood) rather than logits (softmax cross-entropy). A final
 * Softmax over the classes is skipped, not doubled: the cross-entropy reads its input, and the
 * Softmax stays in the model for prediction and export. */
static aic_status pick_loss_input(const char *path, const char *loss, aic_model_t *m, aic_value out,
                                  aic_value *loss_in, bool *log_probs) {
    *loss_in = out;
    *log_probs = strcmp(loss, "nll") == 0;
    const int producer = m->values[out].producer;
    if (*log_probs || producer < 0) /* asked for, or the output is a graph input itself */
        return AIC_OK;
    const aic_op *last = &m->ops[producer];
    if (last->kind == AIC_OP_LOG_SOFTMAX) {
        *log_probs = true;
    } else if (last->kind == AIC_OP_SOFTMAX) {
        if (last->attr.axis != 1)
            return aic_fail(AIC_ERR_UNSUPPORTED,
                            "--model %s: the graph ends in Softmax over axis %d, not over the classes (axis 1); "
                            "cross-entropy needs probabilities per class",
                            path, last->attr.axis);
        *loss_in = last->in[0];
    }
    return AIC_OK;
}

/* A language model's labels and loss on logits `out` (per sample T x V, the tokens' next-token scores):
 * T int targets, the cross-entropy over the last axis at every position. */
static aic_status add_lm_loss(const char *path, const char *output_name, aic_value out, aicon_model_source *s) {
    const aic_value_info *o = &s->model->values[out];
    if (o->ndim != 2 || o->dtype != AIC_F32) {
        char got[128];
        format_shape(got, sizeof got, o->ndim, o->shape);
        return aic_fail(AIC_ERR_SHAPE, "--model %s: graph output '%s' has per-sample shape %s; a language model's "
                        "logits are T x vocabulary floats", path, output_name, got);
    }
    s->classes = (int)o->shape[1];
    aic_value loss;
    AIC_TRY(aic_int_input(s->model, "aicon_targets", 1, o->shape, &s->io.labels));
    return aic_cross_entropy(s->model, "aicon_loss", out, s->io.labels, &(aic_xent_opts){.class_axis = -1}, &loss);
}

/* Appends the ONNX graph of s->onnx to s->model, feeding the data to graph input `input_name` (NULL:
 * the only one), with labels and a loss on the graph's single output (see pick_loss_input; a language
 * model's: add_lm_loss). */
static aic_status build_onnx(const char *path, const char *input_name, const char *loss_name, int ndim,
                             const int64_t *shape, bool lm, aicon_model_source *s) {
    size_t n_out = aic_onnx_num_outputs(s->onnx);
    if (n_out != 1)
        return aic_fail(AIC_ERR_UNSUPPORTED,
                        "--model %s: the graph has %zu outputs; aicon train needs exactly one (the logits)", path, n_out);
    aic_onnx_binding b;
    aic_status st = aic_onnx_build(s->onnx, s->model, &b);
    if (st != AIC_OK)
        return aic_fail_context(st, "--model %s: ", path);
    char names[1024] = "";
    size_t len = 0;
    for (int i = 0; i < b.n_inputs && len < sizeof names; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s'%s'", i ? ", " : "", b.input_names[i]);
    int pick = -1;
    if (input_name) {
        for (int i = 0; i < b.n_inputs && pick < 0; i++)
            if (strcmp(b.input_names[i], input_name) == 0)
                pick = i;
        if (pick < 0)
            return aic_fail(AIC_ERR_INVALID_ARG, "--input %s: %s has no such graph input (its inputs: %s)", input_name,
                            path, names);
        if (b.n_inputs > 1)
            return aic_fail(AIC_ERR_UNSUPPORTED,
                            "--model %s: the graph has %d inputs (%s); aicon train feeds one, and the others would "
                            "get no data",
                            path, b.n_inputs, names);
    } else if (b.n_inputs != 1) {
        return aic_fail(AIC_ERR_INVALID_ARG, "--model %s: the graph has %d inputs (%s); pick the data's with --input NAME",
                        path, b.n_inputs, names);
    } else {
        pick = 0;
    }
    const aic_value_info *in = &s->model->values[b.inputs[pick]];
    if (in->ndim != ndim || memcmp(in->shape, shape, sizeof(int64_t) * (size_t)ndim) != 0) {
        char want[128], have[128];
        format_shape(want, sizeof want, in->ndim, in->shape);
        format_shape(have, sizeof have, ndim, shape);
        return aic_fail(AIC_ERR_SHAPE, "--model %s: graph input '%s' takes samples of shape %s; the data's are %s", path,
                        b.input_names[pick], want, have);
    }
    if (lm) {
        AIC_TRY(add_lm_loss(path, b.output_names[0], b.outputs[0], s));
        AIC_TRY(aic_model_set_output(s->model, b.outputs[0]));
        s->io.input = b.inputs[pick];
        snprintf(s->input_name, sizeof s->input_name, "%s", b.input_names[pick]);
        snprintf(s->output_name, sizeof s->output_name, "%s", b.output_names[0]);
        return AIC_OK;
    }
    const aic_value_info *out = &s->model->values[b.outputs[0]];
    if (out->ndim != 1) {
        char got[128];
        format_shape(got, sizeof got, out->ndim, out->shape);
        return aic_fail(AIC_ERR_SHAPE,
                        "--model %s: graph output '%s' has per-sample shape %s; aicon train needs one logit per "
                        "class (per-sample rank 1)",
                        path, b.output_names[0], got);
    }
    if (out->shape[0] > INT32_MAX) /* the class count is an int */
        return aic_fail(AIC_ERR_SHAPE, "--model %s: graph output '%s' has %lld logits; at most %d classes", path,
                        b.output_names[0], (long long)out->shape[0], INT32_MAX);
    s->classes = (int)out->shape[0];
    aic_value loss, loss_in;
    bool log_probs;
    AIC_TRY(pick_loss_input(path, loss_name, s->model, b.outputs[0], &loss_in, &log_probs));
    AIC_TRY(aic_labels(s->model, "aicon_label", &s->io.labels));
    if (log_probs) /* the graph already normalized: only the negative log-likelihood is left */
        AIC_TRY(aic_nll_loss(s->model, "aicon_loss", loss_in, s->io.labels, &loss));
    else
        AIC_TRY(aic_softmax_cross_entropy(s->model, "aicon_loss", loss_in, s->io.labels, &loss));
    /* Predictions and export read the graph's own output, also when the loss reads past a Softmax. */
    AIC_TRY(aic_model_set_output(s->model, b.outputs[0]));
    s->io.input = b.inputs[pick];
    snprintf(s->input_name, sizeof s->input_name, "%s", b.input_names[pick]);
    snprintf(s->output_name, sizeof s->output_name, "%s", b.output_names[0]);
    return AIC_OK;
}

aic_status aicon_model_build(const char *model, const char *input_name, const char *loss, int ndim,
                             const int64_t *shape, int classes, bool lm, aicon_model_source *out) {
    memset(out, 0, sizeof *out);
    if (!loss)
        loss = "cross-entropy";
    if (strcmp(loss, "cross-entropy") != 0 && strcmp(loss, "nll") != 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "--loss %s: unknown loss (cross-entropy or nll)", loss);
    if (strcmp(model, "gpt") == 0)
        return aic_fail(AIC_ERR_INVALID_ARG, "--model gpt is a language model: train it with --task lm on token data");
    if (!aicon_model_is_onnx(model)) {
        if (input_name)
            return aic_fail(AIC_ERR_INVALID_ARG, "--input goes with an ONNX --model; %s is a built-in model", model);
        if (strcmp(loss, "nll") == 0)
            return aic_fail(AIC_ERR_INVALID_ARG,
                            "--loss nll goes with an ONNX --model that outputs log-probabilities; built-in model %s "
                            "outputs logits",
                            model);
        snprintf(out->input_name, sizeof out->input_name, "input");
        snprintf(out->output_name, sizeof out->output_name, "logits");
        out->classes = classes ? classes : AICON_DEFAULT_CLASSES;
        return aicon_builtin_model(model, ndim, shape, out->classes, &out->model, &out->io);
    }
    if (classes)
        return aic_fail(AIC_ERR_INVALID_ARG, "--classes goes with a built-in --model; %s has as many classes as "
                        "its output has logits", model);
    aic_status st = aic_onnx_load(model, &out->onnx);
    if (st != AIC_OK)
        return st;
    const char *g = aic_onnx_graph_name(out->onnx);
    st = aic_model_create(&out->model, g && g[0] ? g : "onnx");
    if (st == AIC_OK)
        st = build_onnx(model, input_name, loss, ndim, shape, lm, out);
    if (st != AIC_OK)
        aicon_model_source_free(out);
    return st;
}

aic_status aicon_model_build_gpt(const aic_gpt_config *gpt, aicon_model_source *out) {
    memset(out, 0, sizeof *out);
    out->gpt = *gpt;
    aic_gpt_config *c = &out->gpt;
    c->layers = c->layers ? c->layers : 4;
    c->heads = c->heads ? c->heads : 4;
    c->dim = c->dim ? c->dim : 128;
    if (c->dim % c->heads)
        return aic_fail(AIC_ERR_INVALID_ARG, "--dim %d is not a multiple of --heads %d", c->dim, c->heads);
    snprintf(out->input_name, sizeof out->input_name, "tokens");
    snprintf(out->output_name, sizeof out->output_name, "logits");
    out->classes = c->vocab;
    aic_value logits, loss;
    aic_status st = aic_model_create(&out->model, "gpt");
    if (st == AIC_OK)
        st = gpt_build(out->model, c, &out->io.input, &out->io.labels, &logits, &loss);
    if (st != AIC_OK)
        aicon_model_source_free(out);
    return st;
}

aic_status aicon_model_init_weights(aicon_model_source *s, uint64_t seed) {
    if (s->onnx)
        return aic_onnx_load_weights(s->onnx, s->model);
    return s->gpt.layers ? gpt_init(s->model, &s->gpt, seed) : AIC_OK;
}

aic_status aicon_model_export(const aicon_model_source *s, const aic_preprocess *pre, const char *path) {
    aic_onnx_export_options o = {.input = s->io.input, .input_name = s->input_name, .output_name = s->output_name};
    if (pre)
        o.preprocess = *pre;
    return aic_onnx_export_with(s->model, path, &o);
}

void aicon_model_source_free(aicon_model_source *s) {
    aic_model_destroy(s->model);
    aic_onnx_free(s->onnx);
    memset(s, 0, sizeof *s);
}
