// SPDX-License-Identifier: Apache-2.0
/* aicon generate: text from a trained language model, a byte a token. No MPI: a plain process. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/graph.h" /* the per-sample shape of an ONNX graph's input, before compile */
#include "core/rng.h"
#include "tools/train_cmd.h"

#define DEFAULT_TOKENS 200
#define DEFAULT_SEED 42
/* Byte output: every token must be a byte. */
#define BYTE_VOCAB 256

static void generate_usage(FILE *out) {
    fprintf(out,
            "usage: aicon generate --model gpt --checkpoint FILE.h5 [GPT sizes] --prompt TEXT [options]\n"
            "       aicon generate --model FILE.onnx [--checkpoint FILE.h5] --prompt TEXT [options]\n"
            "\n"
            "Continue a text with a language model trained on bytes (aicon tokenize --bytes, aicon train\n"
            "--task lm): the prompt's bytes are its tokens. For each new token the model reads the last\n"
            "--seq-len tokens (a shorter context is padded after its end, which causal attention does not\n"
            "see), the logits of the last one are divided by the temperature, cut to the k largest and\n"
            "sampled from their softmax. Prints the prompt, then each new byte as it comes. The same seed\n"
            "gives the same text.\n"
            "\n"
            "options:\n"
            "  --model gpt|FILE.onnx  aicon's GPT, or an ONNX language model (int tokens [N, T] in, logits\n"
            "                         [N, T, vocabulary] out: aicon export's, or PyTorch's)\n"
            "  --checkpoint FILE.h5   the weights aicon train wrote (required for gpt; for an ONNX model:\n"
            "                         a checkpoint of its training, else the file's own weights)\n");
    aicon_gpt_usage(out);
    fprintf(out,
            "  --prompt TEXT          the text to continue (at least one byte)\n"
            "  --tokens N             bytes to generate (default %d)\n"
            "  --temperature T        divides the logits; 0 takes the likeliest byte every time (default 1)\n"
            "  --top-k K              sample among the K likeliest bytes only; 0: all (default 0)\n"
            "  --seed S               the sampler's seed (default %d)\n"
            "  --help                 this text\n",
            DEFAULT_TOKENS, DEFAULT_SEED);
}

void aicon_gpt_usage(FILE *out) {
    fprintf(out,
            "  --layers N, --heads N, --dim N, --seq-len N, --vocab N\n"
            "                         --model gpt's sizes, as trained (default 4, 4, 128, %d, %d)\n",
            AICON_DEFAULT_SEQ_LEN, BYTE_VOCAB);
}

bool aicon_parse_int(const char *cmd, const char *flag, const char *arg, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: --%s %s: expected a whole number from %ld to %ld\n", cmd, flag, arg, lo, hi);
        return false;
    }
    *out = v;
    return true;
}

int aicon_gpt_option(const char *cmd, int c, int base, const char *arg, aic_gpt_config *gpt) {
    /* In the order of AICON_GPT_OPTIONS; the bounds are aicon train's. */
    static const struct {
        const char *flag;
        long hi;
    } spec[] = {{"layers", 1000}, {"heads", 1024}, {"dim", 1 << 16}, {"seq-len", 1 << 20}, {"vocab", 1 << 24}};
    int *field[] = {&gpt->layers, &gpt->heads, &gpt->dim, &gpt->seq_len, &gpt->vocab};
    const int i = c - base;
    if (i < 0 || i >= (int)(sizeof spec / sizeof spec[0]))
        return 0;
    long v;
    if (!aicon_parse_int(cmd, spec[i].flag, arg, 1, spec[i].hi, &v))
        return -1;
    *field[i] = (int)v;
    return 1;
}

/* The window of the ONNX language model at path: the per-sample shape [T] of its single int input. */
static aic_status onnx_window(const char *path, int64_t *window) {
    aic_onnx_model_t *om;
    AIC_TRY(aic_onnx_load(path, &om));
    aic_model_t *m = NULL;
    aic_onnx_binding b;
    aic_status st = aic_model_create(&m, "window");
    if (st == AIC_OK && (st = aic_onnx_build(om, m, &b)) != AIC_OK)
        st = aic_fail_context(st, "--model %s: ", path);
    if (st == AIC_OK && b.n_inputs != 1)
        st = aic_fail(AIC_ERR_UNSUPPORTED, "--model %s: the graph has %d inputs; a language model has one, its tokens",
                      path, b.n_inputs);
    if (st == AIC_OK) {
        const aic_value_info *in = &m->values[b.inputs[0]];
        if (in->ndim != 1 || in->dtype != AIC_I32 || in->shape[0] < 1)
            st = aic_fail(AIC_ERR_SHAPE, "--model %s: graph input '%s' is not a window of int tokens [N, T] with a "
                          "fixed T", path, b.input_names[0]);
        else
            *window = in->shape[0];
    }
    aic_model_destroy(m);
    aic_onnx_free(om);
    return st;
}

aic_status aicon_lm_load(const char *model, const aic_gpt_config *gpt, const char *ckpt, aicon_model_source *s,
                         aic_train_state *ts) {
    memset(s, 0, sizeof *s);
    *ts = (aic_train_state){.preprocess = {.kind = AIC_PREPROCESS_NONE}};
    if (strcmp(model, "gpt") == 0) {
        aic_gpt_config c = *gpt;
        c.seq_len = c.seq_len ? c.seq_len : AICON_DEFAULT_SEQ_LEN;
        c.vocab = c.vocab ? c.vocab : BYTE_VOCAB;
        AIC_TRY(aicon_model_build_gpt(&c, s));
    } else if (aicon_model_is_onnx(model)) {
        int64_t window;
        AIC_TRY(onnx_window(model, &window));
        AIC_TRY(aicon_model_build(model, NULL, NULL, 1, &window, 0, true, s));
    } else {
        return aic_fail(AIC_ERR_INVALID_ARG, "--model %s: neither gpt nor an ONNX file", model);
    }
    aic_status st = aic_model_compile(s->model, 1, 0);
    if (st == AIC_OK)
        st = ckpt ? aic_checkpoint_load(ckpt, s->model, NULL, ts) : aicon_model_init_weights(s, 0);
    const aic_gpt_config *c = &s->gpt;
    if (st == AIC_ERR_MISMATCH && c->layers) /* the sizes are the likely cause: say which were used */
        st = aic_fail_context(st, "--model gpt with --layers %d --heads %d --dim %d --seq-len %d --vocab %d (give the "
                              "sizes it was trained with): ", c->layers, c->heads, c->dim, c->seq_len, c->vocab);
    if (st != AIC_OK)
        aicon_model_source_free(s);
    return st;
}

typedef struct {
    const char *prompt;
    long tokens;
    double temperature; /* 0: greedy */
    long top_k;         /* 0: every token */
    uint64_t seed;
} sampling;

/* The next token from one position's logits [v]: the argmax at temperature 0 (the first of equal
 * ones), else a draw from the softmax, in double, of the top_k largest logits over the temperature.
 * draw is uniform in [0, 1). */
static int pick_token(const float *logits, int v, const sampling *o, double draw) {
    int best = 0;
    for (int i = 1; i < v; i++)
        if (logits[i] > logits[best])
            best = i;
    if (o->temperature == 0)
        return best;
    /* The k-th largest logit: a token is kept when fewer than k logits beat it, or tie with it at a
     * smaller id, so that exactly k are kept. v is at most 256: the quadratic count is cheap. */
    bool keep[BYTE_VOCAB];
    for (int i = 0; i < v; i++) {
        int above = 0;
        if (o->top_k)
            for (int j = 0; j < v; j++)
                above += logits[j] > logits[i] || (logits[j] == logits[i] && j < i);
        keep[i] = !o->top_k || above < o->top_k;
    }
    double p[BYTE_VOCAB], sum = 0;
    for (int i = 0; i < v; i++) {
        p[i] = keep[i] ? exp(((double)logits[i] - logits[best]) / o->temperature) : 0;
        sum += p[i];
    }
    double target = draw * sum, acc = 0;
    for (int i = 0; i < v; i++) {
        acc += p[i];
        if (keep[i] && acc > target)
            return i;
    }
    return best; /* rounding left target at the very end */
}

/* A uniform double in [0, 1) for the i-th token: counter-based, a function of the seed and i only. */
static double uniform(uint64_t seed, uint64_t i) {
    aic_philox_block r = aic_philox(seed, 0, i);
    return (double)((((uint64_t)r.v[0] << 32) | r.v[1]) >> 11) * 0x1p-53;
}

/* Prints the prompt, then each generated byte as it comes. */
static aic_status generate(aicon_model_source *s, const sampling *o) {
    const int64_t T = s->model->values[s->io.input].shape[0];
    const int v = s->classes;
    if (v > BYTE_VOCAB)
        return aic_fail(AIC_ERR_UNSUPPORTED, "the model's vocabulary has %d tokens; generate writes each token as a "
                        "byte, so at most %d", v, BYTE_VOCAB);
    if (o->top_k > v)
        return aic_fail(AIC_ERR_INVALID_ARG, "--top-k %ld: above the model's vocabulary of %d tokens", o->top_k, v);
    const size_t plen = strlen(o->prompt);
    int32_t *ctx = malloc(sizeof *ctx * (plen + (size_t)o->tokens));
    int32_t *window = calloc((size_t)T * 2, sizeof *window); /* the window, then the unused targets */
    if (!ctx || !window) {
        free(ctx);
        free(window);
        return aic_fail(AIC_ERR_NOMEM, "out of memory for %zu tokens", plen + (size_t)o->tokens);
    }
    aic_status st = AIC_OK;
    for (size_t i = 0; i < plen && st == AIC_OK; i++) {
        ctx[i] = (unsigned char)o->prompt[i];
        if (ctx[i] >= v)
            st = aic_fail(AIC_ERR_INVALID_ARG, "--prompt: byte %zu is %d, not a token of the model's vocabulary of %d",
                          i, ctx[i], v);
    }
    if (st == AIC_OK)
        fwrite(o->prompt, 1, plen, stdout);
    size_t len = plen;
    for (long t = 0; t < o->tokens && st == AIC_OK; t++) {
        const size_t n = len < (size_t)T ? len : (size_t)T;
        memcpy(window, ctx + len - n, sizeof *window * n);
        memset(window + n, 0, sizeof *window * ((size_t)T - n));
        aic_tensor logits;
        st = aic_model_set_input(s->model, s->io.input, window, 1);
        if (st == AIC_OK)
            st = aic_model_set_input(s->model, s->io.labels, window + T, 1);
        if (st == AIC_OK)
            st = aic_model_forward(s->model, &(aic_batch_info){.n = 1}, NULL);
        if (st == AIC_OK)
            st = aic_model_output(s->model, &logits);
        if (st != AIC_OK)
            break;
        const float *row = (const float *)logits.data + (n - 1) * (size_t)v; /* the last real position's */
        const int tok = pick_token(row, v, o, uniform(o->seed, (uint64_t)t));
        ctx[len++] = tok;
        putchar(tok);
        fflush(stdout);
    }
    if (isatty(STDOUT_FILENO))
        putchar('\n');
    free(ctx);
    free(window);
    return st;
}

int aicon_generate_main(int argc, char **argv) {
    static const char cmd[] = "aicon generate";
    enum { OPT_MODEL = 1, OPT_CHECKPOINT, OPT_PROMPT, OPT_TOKENS, OPT_TEMPERATURE, OPT_TOP_K, OPT_SEED, OPT_HELP,
           OPT_GPT };
    static const struct option longopts[] = {
        {"model", required_argument, NULL, OPT_MODEL}, {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
        {"prompt", required_argument, NULL, OPT_PROMPT}, {"tokens", required_argument, NULL, OPT_TOKENS},
        {"temperature", required_argument, NULL, OPT_TEMPERATURE}, {"top-k", required_argument, NULL, OPT_TOP_K},
        {"seed", required_argument, NULL, OPT_SEED}, {"help", no_argument, NULL, OPT_HELP},
        AICON_GPT_OPTIONS(OPT_GPT), {NULL, 0, NULL, 0},
    };
    const char *model = NULL, *ckpt = NULL, *gpt_flag = NULL;
    sampling o = {.tokens = DEFAULT_TOKENS, .temperature = 1, .seed = DEFAULT_SEED};
    aic_gpt_config gpt = {0};
    opterr = 0;
    int c, li;
    while ((c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
        char *end;
        switch (c) {
        case OPT_MODEL: model = optarg; break;
        case OPT_CHECKPOINT: ckpt = optarg; break;
        case OPT_PROMPT: o.prompt = optarg; break;
        case OPT_TOKENS:
            if (!aicon_parse_int(cmd, "tokens", optarg, 0, 1L << 24, &o.tokens))
                return 2;
            break;
        case OPT_TOP_K:
            if (!aicon_parse_int(cmd, "top-k", optarg, 0, BYTE_VOCAB, &o.top_k))
                return 2;
            break;
        case OPT_TEMPERATURE:
            errno = 0;
            o.temperature = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o.temperature >= 0 && o.temperature <= 1e6)) {
                fprintf(stderr, "%s: --temperature %s: expected a number from 0 to 1e6\n", cmd, optarg);
                return 2;
            }
            break;
        case OPT_SEED:
            errno = 0;
            o.seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "%s: --seed %s: expected a whole number from 0 to %llu\n", cmd, optarg,
                        (unsigned long long)UINT64_MAX);
                return 2;
            }
            break;
        case OPT_HELP: generate_usage(stdout); return 0;
        default:
            switch (aicon_gpt_option(cmd, c, OPT_GPT, optarg, &gpt)) {
            case 1: gpt_flag = longopts[li].name; continue;
            case -1: return 2;
            }
            fprintf(stderr, "%s: unknown or incomplete option '%s' (see aicon generate --help)\n", cmd,
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (see aicon generate --help)\n", cmd, argv[optind]);
        return 2;
    }
    if (!model || !o.prompt) {
        fprintf(stderr, "%s: --model and --prompt are required (see aicon generate --help)\n", cmd);
        return 2;
    }
    if (!o.prompt[0]) {
        fprintf(stderr, "%s: --prompt is empty; the model continues at least one byte\n", cmd);
        return 2;
    }
    if (gpt_flag && strcmp(model, "gpt") != 0) {
        fprintf(stderr, "%s: --%s goes with --model gpt; %s brings its own sizes\n", cmd, gpt_flag, model);
        return 2;
    }
    if (!ckpt && strcmp(model, "gpt") == 0) {
        fprintf(stderr, "%s: --model gpt needs --checkpoint: the weights aicon train --task lm wrote\n", cmd);
        return 2;
    }
    if (gpt.vocab > BYTE_VOCAB) {
        fprintf(stderr, "%s: --vocab %d: generate writes each token as a byte, so the vocabulary holds at most %d\n",
                cmd, gpt.vocab, BYTE_VOCAB);
        return 2;
    }
    aicon_model_source src;
    aic_train_state ts;
    aic_status st = aicon_lm_load(model, &gpt, ckpt, &src, &ts);
    if (st == AIC_OK) {
        st = generate(&src, &o);
        aicon_model_source_free(&src);
    }
    if (st != AIC_OK) {
        fflush(stdout);
        fprintf(stderr, "%s: %s\n", cmd, aic_last_error());
        return 1;
    }
    return 0;
}
