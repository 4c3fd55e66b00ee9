// SPDX-License-Identifier: Apache-2.0
/* Convolution as im2col + GEMM, one sample and one group at a time, so scratch holds one group's
 * columns: (C/G * KH * KW) x (OH * OW) floats. The transposed convolution is the same pair run the
 * other way: GEMM + col2im forward, im2col + GEMM backward. */
#include "layers/layers.h"
#include "layers/kernel_check.h"

#include <cblas.h>
#include <string.h>

// A 1x1, stride-1, unpadded convolution's columns are the input itself: no copy, no scratch.
static int is_pointwise(const aic_conv2d_dims *d) {
    return d->KH == 1 && d->KW == 1 && d->SH == 1 && d->SW == 1 && d->PH == 0 && d->PW == 0;
}

size_t aic_conv2d_scratch(const aic_conv2d_dims *d) {
    if (is_pointwise(d))
        return 0;
    return (size_t)(d->C / d->G) * d->KH * d->KW * d->OH * d->OW;
}

// Output positions o in [*lo, *hi) read input index o * s + off inside [0, len); the others read
// padding. Computed once per kernel tap, so the copy loops below need no per-element test.
static void tap_range(int len, int off, int s, int out_len, int *lo, int *hi) {
    int a = off >= 0 ? 0 : (-off + s - 1) / s;
    int b = len - off <= 0 ? 0 : (len - off + s - 1) / s;
    *hi = b < out_len ? b : out_len;
    *lo = a < *hi ? a : *hi;
}

// Stride 1 and output rows as wide as the input rows ("same" convolutions): output row oh of a tap
// reads input row oh + offh shifted by offw, so the whole tap is one contiguous run of the input.
static int is_flat(const aic_conv2d_dims *d) { return d->SH == 1 && d->SW == 1 && d->OW == d->W; }

// col[oh * OW + j] = v for oh in [oh0, oh1), j in [j0, j1) (j may run into the next row): the padding
// columns of a tap, stored column by column, as GCC would turn short row loops into memset calls.
static void fill_columns(float *col, int OW, int oh0, int oh1, int j0, int j1, float v) {
    for (int j = j0; j < j1; j++)
        for (int oh = oh0; oh < oh1; oh++)
            col[(size_t)oh * OW + j] = v;
}

// col: (Cg*KH*KW) x (OH*OW) <- img: Cg x H x W; row (c, kh, kw) holds the input pixel under that
// kernel tap for every output position, 0 where the tap falls in the padding.
static void im2col(float *col, const float *img, int Cg, const aic_conv2d_dims *d) {
    const int OH = d->OH, OW = d->OW, P = OH * OW;
    const int flat = is_flat(d);
    for (int c = 0; c < Cg; c++) {
        const float *plane = img + (size_t)c * d->H * d->W; // H x W
        for (int kh = 0; kh < d->KH; kh++) {
            const int offh = kh * d->DH - d->PH;
            int oh0, oh1;
            tap_range(d->H, offh, d->SH, OH, &oh0, &oh1);
            for (int kw = 0; kw < d->KW; kw++, col += P) {
                const int offw = kw * d->DW - d->PW;
                int ow0, ow1;
                tap_range(d->W, offw, d->SW, OW, &ow0, &ow1);
                if (oh0 == oh1 || ow0 == ow1) { // the whole tap is padding
                    memset(col, 0, sizeof(float) * (size_t)P);
                    continue;
                }
                if (flat) {
                    // one copy from the first inside element to the last, zeros around it, and zeros
                    // over the gaps where the copy wrapped from one row's end to the next row's start
                    size_t first = (size_t)oh0 * OW + ow0, last = (size_t)(oh1 - 1) * OW + ow1;
                    memset(col, 0, sizeof(float) * first);
                    const ptrdiff_t shift = (ptrdiff_t)offh * d->W + offw; // col[i] lies over plane[i + shift]
                    memcpy(col + first, plane + (ptrdiff_t)first + shift, sizeof(float) * (last - first));
                    memset(col + last, 0, sizeof(float) * (P - last));
                    fill_columns(col, OW, oh0, oh1 - 1, ow1, OW + ow0, 0.0f);
                    continue;
                }
                memset(col, 0, sizeof(float) * (size_t)oh0 * OW);
                for (int oh = oh0; oh < oh1; oh++) {
                    float *dst = col + (size_t)oh * OW;                            // OW
                    const float *row = plane + (size_t)(oh * d->SH + offh) * d->W; // W
                    for (int ow = ow0; ow < ow1; ow++)
                        dst[ow] = row[ow * d->SW + offw];
                }
                fill_columns(col, OW, oh0, oh1, 0, ow0, 0.0f);
                fill_columns(col, OW, oh0, oh1, ow1, OW, 0.0f);
                memset(col + (size_t)oh1 * OW, 0, sizeof(float) * (size_t)(OH - oh1) * OW);
            }
        }
    }
}

// img: Cg x H x W += col: (Cg*KH*KW) x (OH*OW), the adjoint of im2col; padding taps are dropped.
// A flat tap is added as one run, after the gaps where it wraps from row to row (padding taps) are
// set to -0 in col, which adds exactly nothing to any value: col is clobbered.
static void col2im(float *img, float *col, int Cg, const aic_conv2d_dims *d) {
    const int OW = d->OW, P = d->OH * OW;
    const int flat = is_flat(d);
    for (int c = 0; c < Cg; c++) {
        float *plane = img + (size_t)c * d->H * d->W; // H x W
        for (int kh = 0; kh < d->KH; kh++) {
            const int offh = kh * d->DH - d->PH;
            int oh0, oh1;
            tap_range(d->H, offh, d->SH, d->OH, &oh0, &oh1);
            for (int kw = 0; kw < d->KW; kw++, col += P) {
                const int offw = kw * d->DW - d->PW;
                int ow0, ow1;
                tap_range(d->W, offw, d->SW, OW, &ow0, &ow1);
                if (flat && oh0 < oh1 && ow0 < ow1) {
                    size_t first = (size_t)oh0 * OW + ow0, last = (size_t)(oh1 - 1) * OW + ow1;
                    fill_columns(col, OW, oh0, oh1 - 1, ow1, OW + ow0, -0.0f);
                    const ptrdiff_t shift = (ptrdiff_t)offh * d->W + offw; // col[i] lies over plane[i + shift]
                    float *dst = plane + (ptrdiff_t)first + shift;
                    const float *src = col + first;
                    for (size_t i = 0; i < last - first; i++)
                        dst[i] += src[i];
                    continue;
                }
                for (int oh = oh0; oh < oh1; oh++) {
                    float *row = plane + (size_t)(oh * d->SH + offh) * d->W; // W
                    const float *src = col + (size_t)oh * OW;                 // OW
                    for (int ow = ow0; ow < ow1; ow++)
                        row[ow * d->SW + offw] += src[ow];
                }
            }
        }
    }
}

// Sum of x (n floats) in double, as eight interleaved partial sums added in a fixed order: eight
// independent chains instead of one long dependent one, and the same bits every run.
static double sum_f64(const float *x, size_t n) {
    double part[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            part[j] += x[i + j];
    for (; i < n; i++)
        part[i % 8] += x[i];
    return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

// out: C x P += bias (C) per channel
static void add_bias(float *out, const float *bias, int C, size_t P) {
    for (int c = 0; c < C; c++)
        for (size_t p = 0; p < P; p++)
            out[(size_t)c * P + p] += bias[c];
}

// dbias: C += the sums of dout (N x C x P) over N and P, in double, samples in order
static void channel_sums(float *dbias, const float *dout, int N, int C, size_t P) {
    for (int c = 0; c < C; c++) {
        double sum = 0.0;
        for (int n = 0; n < N; n++)
            sum += sum_f64(dout + ((size_t)n * C + c) * P, P);
        dbias[c] += (float)sum;
    }
}

// What both passes need of the dims: positive sizes, channels that split into the groups, and the
// output size the formula gives (a wrong OH or OW would read and write outside the buffers).
static aic_status check_dims(const char *kernel, const aic_conv2d_dims *d, const float *scratch) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->N < 0 || d->C <= 0 || d->H <= 0 || d->W <= 0 || d->OC <= 0 || d->KH <= 0 || d->KW <= 0 || d->SH <= 0 ||
        d->SW <= 0 || d->PH < 0 || d->PW < 0 || d->DH <= 0 || d->DW <= 0 || d->G <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel,
                               "N %d must not be negative, C %d, H %d, W %d, OC %d, kernel %dx%d, stride %dx%d, "
                               "dilation %dx%d and groups %d positive, padding %dx%d not negative",
                               d->N, d->C, d->H, d->W, d->OC, d->KH, d->KW, d->SH, d->SW, d->DH, d->DW, d->G, d->PH,
                               d->PW);
    if (d->C % d->G || d->OC % d->G)
        return aic_kernel_fail(AIC_ERR_SHAPE, kernel, "%d input and %d output channels do not split into %d groups",
                               d->C, d->OC, d->G);
    const int span_h = d->H + 2 * d->PH - d->DH * (d->KH - 1) - 1, span_w = d->W + 2 * d->PW - d->DW * (d->KW - 1) - 1;
    if (span_h < 0 || span_w < 0 || d->OH != span_h / d->SH + 1 || d->OW != span_w / d->SW + 1)
        return aic_kernel_fail(AIC_ERR_SHAPE, kernel,
                               "output %dx%d does not follow from the input %dx%d, kernel %dx%d, stride %dx%d, padding "
                               "%dx%d and dilation %dx%d",
                               d->OH, d->OW, d->H, d->W, d->KH, d->KW, d->SH, d->SW, d->PH, d->PW, d->DH, d->DW);
    if (!scratch && aic_conv2d_scratch(d) > 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "scratch is NULL (%zu floats needed)",
                               aic_conv2d_scratch(d));
    return AIC_OK;
}

aic_status aic_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias, float *scratch,
                              const aic_conv2d_dims *d) {
    // out: N x OC x OH x OW, inp: N x C x H x W, weight: OC x Cg x KH x KW, bias: OC,
    // scratch: aic_conv2d_scratch(d)
    AIC_TRY(check_dims(__func__, d, scratch));
    AIC_KERNEL_ARG(out && inp && weight, "out, inp or weight is NULL");
    const int Cg = d->C / d->G, OCg = d->OC / d->G;
    const int K = Cg * d->KH * d->KW;   // GEMM inner dimension
    const int P = d->OH * d->OW;        // output positions per channel
    const size_t HW = (size_t)d->H * d->W;
    const int pointwise = is_pointwise(d);
    for (int n = 0; n < d->N; n++) {
        for (int g = 0; g < d->G; g++) {
            const float *img = inp + ((size_t)n * d->C + (size_t)g * Cg) * HW;  // Cg x H x W
            const float *wg = weight + (size_t)g * OCg * K;                     // OCg x K
            float *og = out + ((size_t)n * d->OC + (size_t)g * OCg) * P;        // OCg x P
            const float *col = img;                                             // K x P
            if (!pointwise) {
                im2col(scratch, img, Cg, d);
                col = scratch;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OCg, P, K, 1.0f, wg, K, col, P, 0.0f, og, P);
            if (bias)
                add_bias(og, bias + g * OCg, OCg, (size_t)P);
        }
    }
    return AIC_OK;
}

aic_status aic_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, float *scratch, const aic_conv2d_dims *d) {
    // dinp, inp: N x C x H x W; dweight, weight: OC x Cg x KH x KW; dbias: OC; dout: N x OC x OH x OW;
    // scratch: aic_conv2d_scratch(d)
    AIC_TRY(check_dims(__func__, d, scratch));
    AIC_KERNEL_ARG(dout && (!dinp || weight) && (!dweight || inp), "dout, or the weight or input it needs, is NULL");
    const int Cg = d->C / d->G, OCg = d->OC / d->G;
    const int K = Cg * d->KH * d->KW;
    const int P = d->OH * d->OW;
    const size_t HW = (size_t)d->H * d->W;
    const int pointwise = is_pointwise(d);
    for (int n = 0; n < d->N; n++) {
        for (int g = 0; g < d->G; g++) {
            size_t in_off = ((size_t)n * d->C + (size_t)g * Cg) * HW;
            const float *dog = dout + ((size_t)n * d->OC + (size_t)g * OCg) * P; // OCg x P
            const float *wg = weight + (size_t)g * OCg * K;                      // OCg x K
            if (dweight) {
                const float *col = inp + in_off; // K x P
                if (!pointwise) {
                    im2col(scratch, inp + in_off, Cg, d);
                    col = scratch;
                }
                // dweight_g (OCg x K) += dout_g (OCg x P) * col^T (P x K)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OCg, K, P, 1.0f, dog, P, col, P, 1.0f,
                            dweight + (size_t)g * OCg * K, K);
            }
            if (dinp) {
                // dcol (K x P) = weight_g^T (K x OCg) * dout_g (OCg x P); pointwise: dcol is dinp itself
                if (pointwise) {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, OCg, 1.0f, wg, K, dog, P, 1.0f,
                                dinp + in_off, P);
                } else {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, OCg, 1.0f, wg, K, dog, P, 0.0f,
                                scratch, P);
                    col2im(dinp + in_off, scratch, Cg, d);
                }
            }
        }
    }
    if (dbias)
        channel_sums(dbias, dout, d->N, d->OC, (size_t)P);
    return AIC_OK;
}

/* ---- transposed convolution ---------------------------------------------------------------------- */

// The convolution whose input gradient this transposed convolution is: its input is the transposed
// one's output (OC channels of OH x OW), its output the transposed one's input (C channels of H x W),
// and the weight C x OC/G x KH x KW is its own layout (C filters of OC/G channels). im2col and col2im
// place every tap by the start padding and the two sizes alone, so padding cut from the end, or
// positions added there (output padding), need nothing more.
static aic_conv2d_dims adjoint(const aic_conv_transpose2d_dims *t) {
    return (aic_conv2d_dims){.N = t->N, .C = t->OC, .H = t->OH, .W = t->OW, .OC = t->C, .KH = t->KH, .KW = t->KW,
                             .SH = t->SH, .SW = t->SW, .PH = t->PH, .PW = t->PW, .DH = t->DH, .DW = t->DW,
                             .G = t->G, .OH = t->H, .OW = t->W};
}

size_t aic_conv_transpose2d_scratch(const aic_conv_transpose2d_dims *d) {
    if (aic_conv_transpose2d_pointwise(d))
        return 0;
    return (size_t)(d->OC / d->G) * d->KH * d->KW * d->H * d->W;
}

static aic_status check_transposed(const char *kernel, const aic_conv_transpose2d_dims *d, const float *scratch) {
    if (!d)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "dims are NULL");
    if (d->N < 0 || d->C <= 0 || d->H <= 0 || d->W <= 0 || d->OC <= 0 || d->KH <= 0 || d->KW <= 0 || d->SH <= 0 ||
        d->SW <= 0 || d->PH < 0 || d->PW < 0 || d->DH <= 0 || d->DW <= 0 || d->G <= 0 || d->OH <= 0 || d->OW <= 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel,
                               "N %d must not be negative, C %d, H %d, W %d, OC %d, kernel %dx%d, stride %dx%d, "
                               "dilation %dx%d, groups %d and output %dx%d positive, padding %dx%d not negative",
                               d->N, d->C, d->H, d->W, d->OC, d->KH, d->KW, d->SH, d->SW, d->DH, d->DW, d->G, d->OH,
                               d->OW, d->PH, d->PW);
    if (d->C % d->G || d->OC % d->G)
        return aic_kernel_fail(AIC_ERR_SHAPE, kernel, "%d input and %d output channels do not split into %d groups",
                               d->C, d->OC, d->G);
    if (!scratch && aic_conv_transpose2d_scratch(d) > 0)
        return aic_kernel_fail(AIC_ERR_INVALID_ARG, kernel, "scratch is NULL (%zu floats needed)",
                               aic_conv_transpose2d_scratch(d));
    return AIC_OK;
}

aic_status aic_conv_transpose2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                                        float *scratch, const aic_conv_transpose2d_dims *d) {
    // out: N x OC x OH x OW, inp: N x C x H x W, weight: C x OCg x KH x KW, bias: OC
    AIC_TRY(check_transposed(__func__, d, scratch));
    AIC_KERNEL_ARG(out && inp && weight, "out, inp or weight is NULL");
    const aic_conv2d_dims a = adjoint(d);
    const int Cg = d->C / d->G, OCg = d->OC / d->G;
    const int K = OCg * d->KH * d->KW; // columns' rows
    const int P = d->H * d->W;         // input positions
    const size_t OP = (size_t)d->OH * d->OW;
    const int pointwise = aic_conv_transpose2d_pointwise(d);
    for (int n = 0; n < d->N; n++) {
        float *on = out + (size_t)n * d->OC * OP; // OC x OH x OW
        if (!pointwise)
            memset(on, 0, sizeof(float) * (size_t)d->OC * OP);
        for (int g = 0; g < d->G; g++) {
            const float *xg = inp + ((size_t)n * d->C + (size_t)g * Cg) * P; // Cg x P
            const float *wg = weight + (size_t)g * Cg * K;                   // Cg x K
            float *og = on + (size_t)g * OCg * OP;                           // OCg x OH x OW
            // columns (K x P) = wg^T (K x Cg) * xg (Cg x P), then each column adds into the pixels its taps reach
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, Cg, 1.0f, wg, K, xg, P, 0.0f,
                        pointwise ? og : scratch, P);
            if (!pointwise)
                col2im(og, scratch, OCg, &a);
        }
        if (bias)
            add_bias(on, bias, d->OC, OP);
    }
    return AIC_OK;
}

aic_status aic_conv_transpose2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                                         const float *inp, const float *weight, float *scratch,
                                         const aic_conv_transpose2d_dims *d) {
    // dinp, inp: N x C x H x W; dweight, weight: C x OCg x KH x KW; dbias: OC; dout: N x OC x OH x OW
    AIC_TRY(check_transposed(__func__, d, scratch));
    AIC_KERNEL_ARG(dout && (!dinp || weight) && (!dweight || inp), "dout, or the weight or input it needs, is NULL");
    const aic_conv2d_dims a = adjoint(d);
    const int Cg = d->C / d->G, OCg = d->OC / d->G;
    const int K = OCg * d->KH * d->KW;
    const int P = d->H * d->W;
    const size_t OP = (size_t)d->OH * d->OW;
    const int pointwise = aic_conv_transpose2d_pointwise(d);
    for (int n = 0; n < d->N && (dinp || dweight); n++) {
        for (int g = 0; g < d->G; g++) {
            const size_t in_off = ((size_t)n * d->C + (size_t)g * Cg) * P;
            const float *dog = dout + ((size_t)n * d->OC + (size_t)g * OCg) * OP; // OCg x OH x OW
            const float *col = dog;                                               // K x P
            if (!pointwise) {
                im2col(scratch, dog, OCg, &a);
                col = scratch;
            }
            if (dinp) // dinp_g (Cg x P) += weight_g (Cg x K) * col (K x P)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Cg, P, K, 1.0f, weight + (size_t)g * Cg * K,
                            K, col, P, 1.0f, dinp + in_off, P);
            if (dweight) // dweight_g (Cg x K) += inp_g (Cg x P) * col^T (P x K)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Cg, K, P, 1.0f, inp + in_off, P, col, P, 1.0f,
                            dweight + (size_t)g * Cg * K, K);
        }
    }
    if (dbias)
        channel_sums(dbias, dout, d->N, d->OC, OP);
    return AIC_OK;
}
