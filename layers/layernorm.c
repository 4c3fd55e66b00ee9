/* Layer normalization over the last `cols` values of each row. The row statistics are summed in
 * double, in 8 interleaved partial sums added in a fixed order (as layers/softmax_row.h: a loop that
 * vectorizes, the same bits every run), with a two-pass variance (no cancellation when |mean| >> std);
 * the saved float mean and 1/std are what both the output and backward use, so backward differentiates
 * exactly the function forward computed. Parameter gradients are reduced column by column over the rows
 * in row order, in double: the same order layers/layernorm_cuda.cu uses, here a block of columns at a
 * time so that the rows are read in order. */
#include "layers/layers.h"
#include "layers/cpu_clones.h"
#include "layers/kernel_check.h"

#include <math.h>

// rows may be 0 (an empty batch); a row holds at least one value.
#define CHECK_DIMS(rows, cols)                                                                              \
    AIC_KERNEL_ARG((rows) >= 0 && (cols) > 0, "rows %d must not be negative and cols %d must be positive",   \
                   (rows), (cols))

/* Lanes of the row sums: 8 doubles, one AVX-512 register. Columns of a block of parameter gradients. */
enum { LANES = 8, BLOCK = 64 };

static double lanes_total(const double *part) {
    return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

/* The sum of x and, in *sq, the sum of (x - mu)^2 for mu = that sum / n: both in LANES partial sums. */
AIC_CPU_CLONES static double row_moments(const float *x, int n, double *sq) {
    double part[LANES] = {0};
    int c = 0; /* element c goes to lane c % LANES, whole blocks first: a form that vectorizes */
    for (; c + LANES <= n; c += LANES)
        for (int l = 0; l < LANES; l++)
            part[l] += x[c + l];
    for (; c < n; c++)
        part[c % LANES] += x[c];
    const double mu = lanes_total(part) / n;
    double q[LANES] = {0};
    for (c = 0; c + LANES <= n; c += LANES)
        for (int l = 0; l < LANES; l++)
            q[l] += (x[c + l] - mu) * (x[c + l] - mu);
    for (; c < n; c++)
        q[c % LANES] += (x[c] - mu) * (x[c] - mu);
    *sq = lanes_total(q);
    return mu;
}

AIC_CPU_CLONES static void normalize_row(float *y, const float *x, const float *weight, const float *bias, int n,
                                         float m, float s) {
    if (weight && bias)
        for (int c = 0; c < n; c++)
            y[c] = ((x[c] - m) * s) * weight[c] + bias[c];
    else
        for (int c = 0; c < n; c++)
            y[c] = ((x[c] - m) * s) * (weight ? weight[c] : 1.0f) + (bias ? bias[c] : 0.0f);
}

aic_status aic_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                                 const float *bias, int rows, int cols, float eps) {
    // out, inp: rows x cols; mean, rstd: rows; weight, bias: cols (NULL: 1 and 0)
    CHECK_DIMS(rows, cols);
    AIC_KERNEL_ARG(out && mean && rstd && inp, "a buffer (out, mean, rstd, inp) is NULL");
    AIC_KERNEL_ARG(eps >= 0.0f, "eps %g must not be negative", (double)eps);
    for (int r = 0; r < rows; r++) {
        const float *x = inp + (size_t)r * cols; // cols
        double sq;
        const double mu = row_moments(x, cols, &sq);
        const float m = (float)mu, s = (float)(1.0 / sqrt(sq / cols + (double)eps));
        mean[r] = m;
        rstd[r] = s;
        normalize_row(out + (size_t)r * cols, x, weight, bias, cols, m, s);
    }
    return AIC_OK;
}

/* dx += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * weight: the mean and the variance depend
 * on every x of the row, which removes these two projections. */
AIC_CPU_CLONES static void row_backward(float *dx, const float *dy, const float *x, const float *weight, int n,
                                        float m, float s) {
    double sg[LANES] = {0}, sgx[LANES] = {0};
    for (int c = 0; c < n; c++) {
        const float g = dy[c] * (weight ? weight[c] : 1.0f), xhat = (x[c] - m) * s;
        sg[c % LANES] += g;
        sgx[c % LANES] += (double)g * xhat;
    }
    const float mg = (float)(lanes_total(sg) / n), mgx = (float)(lanes_total(sgx) / n);
    for (int c = 0; c < n; c++) {
        const float g = dy[c] * (weight ? weight[c] : 1.0f), xhat = (x[c] - m) * s;
        dx[c] += s * (g - mg - xhat * mgx);
    }
}

/* layers/layernorm_column.h's sums (the CUDA kernel's) for columns c0..c0+w-1 at once, rows in order: each column
 * sees the same additions in the same order, the rows read contiguously. */
AIC_CPU_CLONES static void param_grads_block(float *dweight, float *dbias, const float *dout, const float *inp,
                                             const float *mean, const float *rstd, int rows, int cols, int c0,
                                             int w) {
    double sw[BLOCK] = {0}, sb[BLOCK] = {0};
    for (int r = 0; r < rows; r++) {
        const float *dy = dout + (size_t)r * cols + c0, *x = inp + (size_t)r * cols + c0;
        const float m = mean[r], s = rstd[r];
        for (int j = 0; j < w; j++) {
            sw[j] += (double)dy[j] * ((x[j] - m) * s);
            sb[j] += dy[j];
        }
    }
    for (int j = 0; j < w; j++) {
        if (dweight)
            dweight[c0 + j] += (float)sw[j];
        if (dbias)
            dbias[c0 + j] += (float)sb[j];
    }
}

aic_status aic_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                  const float *weight, const float *mean, const float *rstd, int rows, int cols) {
    // dinp, dout, inp: rows x cols; dweight, dbias, weight: cols (weight NULL: 1); mean, rstd: rows
    CHECK_DIMS(rows, cols);
    AIC_KERNEL_ARG(dout && inp && mean && rstd, "a buffer (dout, inp, mean, rstd) is NULL");
    if (dinp)
        for (int r = 0; r < rows; r++)
            row_backward(dinp + (size_t)r * cols, dout + (size_t)r * cols, inp + (size_t)r * cols, weight, cols,
                         mean[r], rstd[r]);
    if (dweight || dbias)
        for (int c0 = 0; c0 < cols; c0 += BLOCK)
            param_grads_block(dweight, dbias, dout, inp, mean, rstd, rows, cols, c0,
                              cols - c0 < BLOCK ? cols - c0 : BLOCK);
    return AIC_OK;
}
