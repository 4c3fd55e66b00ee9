// SPDX-License-Identifier: Apache-2.0
/* aicon ledger verify|show|flush|append: the file ledger and the spool of undelivered usage records. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/adapter.h"
#include "tools/tools.h"

static void ledger_usage(FILE *out) {
    fprintf(out,
            "usage: aicon ledger verify PATH\n"
            "       aicon ledger show PATH\n"
            "       aicon ledger flush [--spool DIR] [--key PATH] [--timeout-ms N]\n"
            "       aicon ledger append PATH ENTRY.json\n"
            "\n"
            "verify  checks a file ledger (--usage file:PATH): each line in its one form (one object,\n"
            "        exactly its fields, lowercase 0x hex, plain integers), the hash chain, every job\n"
            "        opening's and record's signature, that each record's job was opened and its miner\n"
            "        is that rank's key, that no (job, rank, seq) appears twice and that each run's seq\n"
            "        has a record from every rank; exits 1 naming the first bad line\n"
            "show    a table of the records, per job and miner, of a ledger that verifies\n"
            "flush   sends the records waiting in the spool (default $AICON_SPOOL, else ~/.aicon/spool)\n"
            "        to their destinations; each is delivered once however often it is flushed. eth://\n"
            "        transactions are paid by --key (default $" AIC_KEY_ENV ", else ~/.aicon/key)\n"
            "append  appends one entry ({\"open\": ...} or {\"record\": ...}, as a ledger line holds them)\n"
            "        chained to the last line, unchecked: verify judges it (moving records between\n"
            "        ledgers)\n");
}

static int verify(const char *path) {
    long n = 0;
    if (aic_ledger_verify(path, &n) != AIC_OK) {
        fprintf(stderr, "aicon ledger verify: %s\n", aic_last_error());
        return 1;
    }
    printf("%s: %ld entr%s, hash chain and signatures verified\n", path, n, n == 1 ? "y" : "ies");
    return 0;
}

static int append(const char *path, const char *entry_file) {
    json_object *e = json_object_from_file(entry_file);
    if (!e) {
        fprintf(stderr, "aicon ledger append: %s: %s\n", entry_file, json_util_get_last_err());
        return 1;
    }
    aic_status st = aic_ledger_append_entry(path, e);
    json_object_put(e);
    if (st != AIC_OK) {
        fprintf(stderr, "aicon ledger append: %s\n", aic_last_error());
        return 1;
    }
    return 0;
}

static int flush(int argc, char **argv) {
    const char *spool = NULL, *key_flag = NULL;
    int timeout_ms = 10000;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--spool") == 0 && i + 1 < argc) {
            spool = argv[++i];
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key_flag = argv[++i];
        } else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            timeout_ms = atoi(argv[++i]);
            if (timeout_ms <= 0) {
                fprintf(stderr, "aicon ledger flush: --timeout-ms expects a positive number, got '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "aicon ledger flush: unexpected argument '%s' (see aicon ledger --help)\n", argv[i]);
            return 2;
        }
    }
    char dir[1024], key_path[1024];
    if (aic_spool_dir(spool, dir, sizeof dir) != AIC_OK || aic_key_path(key_flag, key_path, sizeof key_path) != AIC_OK) {
        fprintf(stderr, "aicon ledger flush: %s\n", aic_last_error());
        return 2;
    }
    /* Only eth:// deliveries need the key; without one the others still go. */
    aic_key key;
    bool have_key = aic_key_load(key_path, &key) == AIC_OK;
    char why[512];
    snprintf(why, sizeof why, "%s", aic_last_error());
    int sent = 0, left = 0;
    aic_status st = aic_spool_flush(dir, have_key ? &key : NULL, timeout_ms, stderr, &sent, &left);
    memset(&key, 0, sizeof key);
    printf("%d record%s delivered, %d left in %s\n", sent, sent == 1 ? "" : "s", left, dir);
    if (st != AIC_OK) {
        fprintf(stderr, "aicon ledger flush: %s%s%s\n", aic_last_error(), have_key ? "" : "; no key: ",
                have_key ? "" : why);
        return 1;
    }
    return 0;
}

int aicon_ledger_main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ledger_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "verify") == 0 && argc == 3)
        return verify(argv[2]);
    if (strcmp(cmd, "show") == 0 && argc == 3) {
        if (aic_ledger_show(argv[2], stdout) != AIC_OK) {
            fprintf(stderr, "aicon ledger show: %s\n", aic_last_error());
            return 1;
        }
        return 0;
    }
    if (strcmp(cmd, "flush") == 0)
        return flush(argc - 2, argv + 2);
    if (strcmp(cmd, "append") == 0 && argc == 4)
        return append(argv[2], argv[3]);
    fprintf(stderr, "aicon ledger: unknown or incomplete command '%s' (see aicon ledger --help)\n", cmd);
    return 2;
}
