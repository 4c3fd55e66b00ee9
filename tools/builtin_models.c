/* The built-in models, written with the public API exactly as a researcher would write their own. */
#include <string.h>

#include "aicon/aicon.h"
#include "core/error.h"
#include "tools/tools.h"

const char *const aicon_builtin_model_names = "mlp, lenet";

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
