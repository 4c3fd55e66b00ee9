// SPDX-License-Identifier: Apache-2.0
/* Per-op digests of one step on one rank (aicon proof ops, aicon verify --ops): where a replay and
 * a job part ways inside a step, the first op whose output or output gradient differs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/graph.h"
#include "tools/train_cmd.h"

static void hex_sha(const void *data, size_t bytes, char out[65]) {
    uint8_t d[32];
    if (aic_sha256(data, bytes, d) != AIC_OK) {
        snprintf(out, 65, "error");
        return;
    }
    aic_hex(d, 32, out);
}

aic_status aicon_write_op_digests(aic_model_t *m, int64_t step, int rank, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f)
        return aic_fail(AIC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "aicon-ops 1 step %lld rank %d\n", (long long)step, rank);
    aic_status st = AIC_OK;
    for (int i = 0; st == AIC_OK && i < m->n_ops; i++) {
        const aic_op *op = &m->ops[i];
        char out[65] = "-", grad[65] = "-";
        aic_tensor t;
        if (op->out >= 0 && (st = aic_model_value(m, op->out, &t)) == AIC_OK)
            hex_sha(t.data, (size_t)aic_tensor_numel(&t) * 4, out); /* float32 or int32 */
        if (st == AIC_OK && op->out >= 0 && m->values[op->out].grad != AIC_NO_OFFSET &&
            (st = aic_model_value_grad(m, op->out, &t)) == AIC_OK)
            hex_sha(t.data, (size_t)aic_tensor_numel(&t) * 4, grad);
        if (st == AIC_OK)
            fprintf(f, "op %d %s %s out %s grad %s\n", i, aic_op_name(op->kind), op->name, out, grad);
    }
    if (fclose(f) != 0 && st == AIC_OK)
        st = aic_fail(AIC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return st;
}
