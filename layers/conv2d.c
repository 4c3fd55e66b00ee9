/* Convolution as im2col + GEMM, one sample and one group at a time, so scratch holds one group's
 * columns: (C/G * KH * KW) x (OH * OW) floats. */
#include "layers/layers.h"

#include <cblas.h>

// A 1x1, stride-1, unpadded convolution's columns are the input itself: no copy, no scratch.
static int is_pointwise(const aic_conv2d_dims *d) {
    return d->KH == 1 && d->KW == 1 && d->SH == 1 && d->SW == 1 && d->PH == 0 && d->PW == 0;
}

size_t aic_conv2d_scratch(const aic_conv2d_dims *d) {
    if (is_pointwise(d))
        return 0;
    return (size_t)(d->C / d->G) * d->KH * d->KW * d->OH * d->OW;
}

// col: (Cg*KH*KW) x (OH*OW) <- img: Cg x H x W; row (c, kh, kw) holds the input pixel under that
// kernel tap for every output position, 0 where the tap falls in the padding.
static void im2col(float *col, const float *img, int Cg, const aic_conv2d_dims *d) {
    for (int c = 0; c < Cg; c++) {
        const float *plane = img + (size_t)c * d->H * d->W; // H x W
        for (int kh = 0; kh < d->KH; kh++) {
            for (int kw = 0; kw < d->KW; kw++) {
                for (int oh = 0; oh < d->OH; oh++, col += d->OW) {
                    int ih = oh * d->SH - d->PH + kh * d->DH;
                    if (ih < 0 || ih >= d->H) {
                        for (int ow = 0; ow < d->OW; ow++)
                            col[ow] = 0.0f;
                        continue;
                    }
                    const float *row = plane + (size_t)ih * d->W; // W
                    for (int ow = 0; ow < d->OW; ow++) {
                        int iw = ow * d->SW - d->PW + kw * d->DW;
                        col[ow] = (iw >= 0 && iw < d->W) ? row[iw] : 0.0f;
                    }
                }
            }
        }
    }
}

// img: Cg x H x W += col: (Cg*KH*KW) x (OH*OW), the adjoint of im2col; padding taps are dropped.
static void col2im(float *img, const float *col, int Cg, const aic_conv2d_dims *d) {
    for (int c = 0; c < Cg; c++) {
        float *plane = img + (size_t)c * d->H * d->W; // H x W
        for (int kh = 0; kh < d->KH; kh++) {
            for (int kw = 0; kw < d->KW; kw++) {
                for (int oh = 0; oh < d->OH; oh++, col += d->OW) {
                    int ih = oh * d->SH - d->PH + kh * d->DH;
                    if (ih < 0 || ih >= d->H)
                        continue;
                    float *row = plane + (size_t)ih * d->W; // W
                    for (int ow = 0; ow < d->OW; ow++) {
                        int iw = ow * d->SW - d->PW + kw * d->DW;
                        if (iw >= 0 && iw < d->W)
                            row[iw] += col[ow];
                    }
                }
            }
        }
    }
}

void aic_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias, float *scratch,
                        const aic_conv2d_dims *d) {
    // out: N x OC x OH x OW, inp: N x C x H x W, weight: OC x Cg x KH x KW, bias: OC,
    // scratch: aic_conv2d_scratch(d)
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
            if (bias) {
                for (int oc = 0; oc < OCg; oc++) {
                    float b = bias[g * OCg + oc];
                    for (int p = 0; p < P; p++)
                        og[(size_t)oc * P + p] += b;
                }
            }
        }
    }
}

void aic_conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                         const float *weight, float *scratch, const aic_conv2d_dims *d) {
    // dinp, inp: N x C x H x W; dweight, weight: OC x Cg x KH x KW; dbias: OC; dout: N x OC x OH x OW;
    // scratch: aic_conv2d_scratch(d)
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
    if (dbias) {
        for (int oc = 0; oc < d->OC; oc++) {
            double sum = 0.0;
            for (int n = 0; n < d->N; n++) {
                const float *dop = dout + ((size_t)n * d->OC + oc) * P; // P
                for (int p = 0; p < P; p++)
                    sum += dop[p];
            }
            dbias[oc] += (float)sum;
        }
    }
}
