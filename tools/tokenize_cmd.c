// SPDX-License-Identifier: Apache-2.0
/* aicon tokenize --bytes IN... -o OUT.bin: text as llm.c token shards, one token per byte, split into
 * a training shard and a validation shard. No MPI: a plain process. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/tokens.h"
#include "tools/tools.h"

#define DEFAULT_VAL_FRACTION 0.1

static void tokenize_usage(FILE *out) {
    fprintf(out,
            "usage: aicon tokenize --bytes IN [IN ...] -o OUT.bin [--val-fraction F] [--val-out VAL.bin]\n"
            "\n"
            "Turns text into token files for aicon train --task lm: llm.c shards (a 1024-byte header, then\n"
            "uint16 tokens), which aicon reads as it reads llm.c's own. The inputs are joined in the order\n"
            "given and split in two: the last F of the bytes go to the validation shard, the rest to the\n"
            "training shard, the cut moved back to just after a newline when one lies in the last 10%% of\n"
            "the training part. Prints one line per file written.\n"
            "\n"
            "options:\n"
            "  --bytes                one token per byte: a vocabulary of 256, no tokenizer file (required;\n"
            "                         the only tokenizer so far)\n"
            "  -o, --out OUT.bin      the training shard, written atomically\n"
            "  --val-fraction F       the share of the bytes for validation, 0 < F < 1 (default %g)\n"
            "  --val-out VAL.bin      the validation shard (default OUT with _val before .bin:\n"
            "                         fortunes.bin -> fortunes_val.bin)\n"
            "  --help                 this text\n",
            DEFAULT_VAL_FRACTION);
}

/* Append the bytes of path to *buf (*len used of *cap). An llm.c shard counts its tokens in an int32,
 * so the inputs together may hold at most INT32_MAX bytes. */
static aic_status append_file(const char *path, unsigned char **buf, size_t *len, size_t *cap) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return aic_fail(AIC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    aic_status st = AIC_OK;
    for (;;) {
        if (*cap - *len < 65536) {
            size_t next = *cap ? 2 * *cap : (size_t)1 << 20;
            unsigned char *grown = realloc(*buf, next);
            if (!grown) {
                st = aic_fail(AIC_ERR_NOMEM, "%s: out of memory after %zu bytes of input", path, *len);
                break;
            }
            *buf = grown;
            *cap = next;
        }
        size_t got = fread(*buf + *len, 1, *cap - *len, f);
        *len += got;
        if (*len > INT32_MAX) {
            st = aic_fail(AIC_ERR_INVALID_ARG, "%s: the inputs hold more than %d bytes, the most tokens an llm.c "
                          "shard holds", path, (int)INT32_MAX);
            break;
        }
        if (got == 0) {
            if (ferror(f))
                st = aic_fail(AIC_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    return st;
}

/* Where the training part of n bytes ends: n minus F of them, or just after the last newline in the
 * last 10% before that, so that validation text starts at a line. 0 when a part would be empty. */
static size_t split_point(const unsigned char *b, size_t n, double fraction) {
    const size_t nval = (size_t)llround(fraction * (double)n);
    if (nval == 0 || nval >= n)
        return 0;
    const size_t cut = n - nval;
    for (size_t p = cut; p > cut - cut / 10; p--)
        if (b[p - 1] == '\n')
            return p;
    return cut;
}

/* OUT with "_val" before ".bin", or after a name that does not end so. */
static char *val_path_of(const char *out) {
    const size_t n = strlen(out);
    const size_t stem = n >= 4 && strcmp(out + n - 4, ".bin") == 0 ? n - 4 : n;
    char *p = malloc(n + 5);
    if (p)
        sprintf(p, "%.*s_val%s", (int)stem, out, out + stem);
    return p;
}

/* Write tokens[0..n) to path and say so. */
static aic_status write_part(const char *path, const uint16_t *tokens, size_t n, const char *part) {
    AIC_TRY(aic_io_tokens_write_shard(path, tokens, (int64_t)n));
    printf("wrote %s: %zu tokens (%s)\n", path, n, part);
    return AIC_OK;
}

static aic_status run_tokenize(char **inputs, int n_inputs, double fraction, const char *out, const char *val_out) {
    unsigned char *text = NULL;
    uint16_t *tokens = NULL;
    size_t len = 0, cap = 0;
    aic_status st = AIC_OK;
    for (int i = 0; i < n_inputs; i++)
        AIC_TRY_GOTO(append_file(inputs[i], &text, &len, &cap));
    const size_t cut = split_point(text, len, fraction);
    if (cut == 0) {
        const char *more = n_inputs > 1 ? " and the other inputs" : "";
        st = len == 0 ? aic_fail(AIC_ERR_INVALID_ARG, "%s%s: empty, no bytes to tokenize", inputs[0], more)
                      : aic_fail(AIC_ERR_INVALID_ARG, "%s%s: %zu bytes, too few to give both shards a token with "
                                 "--val-fraction %g", inputs[0], more, len, fraction);
        goto cleanup;
    }
    tokens = malloc(len * sizeof *tokens);
    if (!tokens) {
        st = aic_fail(AIC_ERR_NOMEM, "out of memory for %zu tokens", len);
        goto cleanup;
    }
    for (size_t i = 0; i < len; i++)
        tokens[i] = text[i];
    AIC_TRY_GOTO(write_part(out, tokens, cut, "train"));
    AIC_TRY_GOTO(write_part(val_out, tokens + cut, len - cut, "validation"));
cleanup:
    free(text);
    free(tokens);
    return st;
}

int aicon_tokenize_main(int argc, char **argv) {
    enum { OPT_BYTES = 1, OPT_VAL_FRACTION, OPT_VAL_OUT, OPT_HELP };
    static const struct option longopts[] = {
        {"bytes", no_argument, NULL, OPT_BYTES}, {"out", required_argument, NULL, 'o'},
        {"val-fraction", required_argument, NULL, OPT_VAL_FRACTION}, {"val-out", required_argument, NULL, OPT_VAL_OUT},
        {"help", no_argument, NULL, OPT_HELP}, {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *val_out = NULL;
    bool bytes = false;
    double fraction = DEFAULT_VAL_FRACTION;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_BYTES: bytes = true; break;
        case 'o': out = optarg; break;
        case OPT_VAL_OUT: val_out = optarg; break;
        case OPT_VAL_FRACTION: {
            char *end;
            errno = 0;
            fraction = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(fraction > 0.0 && fraction < 1.0)) {
                fprintf(stderr, "aicon tokenize: --val-fraction %s: expected a number between 0 and 1, both "
                        "excluded\n", optarg);
                return 2;
            }
            break;
        }
        case OPT_HELP: tokenize_usage(stdout); return 0;
        default:
            fprintf(stderr, "aicon tokenize: unknown or incomplete option '%s' (see aicon tokenize --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (!bytes) {
        fprintf(stderr, "aicon tokenize: choose the tokenizer: --bytes, one token per byte (the only one so far)\n");
        return 2;
    }
    if (optind == argc || !out) {
        fprintf(stderr, "aicon tokenize: %s (see aicon tokenize --help)\n",
                optind == argc ? "no input files" : "-o OUT.bin is required");
        return 2;
    }
    char *val_default = val_out ? NULL : val_path_of(out);
    if (!val_out && !val_default) {
        fprintf(stderr, "aicon tokenize: out of memory\n");
        return 1;
    }
    val_out = val_out ? val_out : val_default;
    int rc = 0;
    if (strcmp(val_out, out) == 0) {
        fprintf(stderr, "aicon tokenize: --val-out %s is the training shard too; give another name\n", val_out);
        rc = 2;
    } else if (run_tokenize(argv + optind, argc - optind, fraction, out, val_out) != AIC_OK) {
        fprintf(stderr, "aicon tokenize: %s\n", aic_last_error());
        rc = 1;
    }
    free(val_default);
    return rc;
}
