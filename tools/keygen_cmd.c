// SPDX-License-Identifier: Apache-2.0
/* aicon keygen [--key PATH]: a new miner key (secp256k1), written with mode 0600, never over an old one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chain/crypto.h"
#include "tools/tools.h"

static void keygen_usage(FILE *out) {
    fprintf(out,
            "usage: aicon keygen [--key PATH]\n"
            "\n"
            "Makes a new secp256k1 key for signing usage records and prints its Ethereum address. The\n"
            "file holds the secret key as 64 hex digits, mode 0600; an existing file is never overwritten.\n"
            "\n"
            "  --key PATH   where to write it (default $" AIC_KEY_ENV ", else ~/.aicon/key, whose\n"
            "               directory is created with mode 0700)\n"
            "  --help       this text\n");
}

int aicon_keygen_main(int argc, char **argv) {
    const char *flag = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            keygen_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            flag = argv[++i];
        } else if (strncmp(argv[i], "--key=", 6) == 0) {
            flag = argv[i] + 6;
        } else {
            fprintf(stderr, "aicon keygen: unexpected argument '%s' (see aicon keygen --help)\n", argv[i]);
            return 2;
        }
    }
    char path[1024];
    if (aic_key_path(flag, path, sizeof path) != AIC_OK) {
        fprintf(stderr, "aicon keygen: %s\n", aic_last_error());
        return 2;
    }
    if (!flag && !getenv(AIC_KEY_ENV)) { /* the default ~/.aicon/key: make its directory */
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                fprintf(stderr, "aicon keygen: %s: %s\n", dir, strerror(errno));
                return 1;
            }
        }
    }
    aic_key k;
    if (aic_key_generate(&k) != AIC_OK || aic_key_save(path, &k) != AIC_OK) {
        fprintf(stderr, "aicon keygen: %s\n", aic_last_error());
        return 1;
    }
    char addr[43];
    aic_hex_encode(k.address, 20, addr);
    memset(&k, 0, sizeof k);
    printf("%s\n", addr);
    fprintf(stderr, "aicon keygen: wrote %s (address %s)\n", path, addr);
    return 0;
}
