// SPDX-License-Identifier: Apache-2.0
/* aicon ledger verify|show|flush|append: the file ledger and the spool of undelivered usage records. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/adapter.h"
#include "core/error.h"
#include "tools/tools.h"

static void ledger_usage(FILE *out) {
    fprintf(out,
            "usage: aicon ledger verify PATH\n"
            "       aicon ledger show PATH\n"
            "       aicon ledger flush [--spool DIR] [--key PATH] [--timeout-ms N]\n"
            "       aicon ledger append PATH ENTRY.json\n"
            "       aicon ledger claim|dispute|settle eth://HOST:PORT?contract=0x... --job 0xID --rank R --seq S\n"
            "                    [--segment N] [--pay|--reject] [--key PATH] [--timeout-ms N]\n"
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
            "        ledgers)\n"
            "claim   a job opened with its payment in escrow (UsageLedger.openJobEscrow): pays the record's\n"
            "        miner once the job's challenge window has passed since the record was accepted\n"
            "dispute the job's owner, within the window: holds the record's payment, naming --segment, the\n"
            "        proof segment its verification failed (aicon verify)\n"
            "settle  the job's arbiter: --pay or --reject a disputed record (rejected wei go back to the owner)\n"
            "        claim, dispute and settle are transactions from --key's account; a refusal names the\n"
            "        contract's reason\n");
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

/* claim, dispute, settle: one transaction to the contract of an eth:// URI. */
static int escrow(aic_escrow_call what, int argc, char **argv) {
    static const char *const names[] = {"claim", "dispute", "settle"};
    const char *uri = argc > 0 ? argv[0] : NULL, *job_hex = NULL, *key_flag = NULL;
    long long rank = -1, seq = -1, segment = -1;
    int pay = -1, timeout_ms = 30000;
    for (int i = 1; i < argc; i++) {
        const bool value = i + 1 < argc;
        if (strcmp(argv[i], "--job") == 0 && value)
            job_hex = argv[++i];
        else if (strcmp(argv[i], "--rank") == 0 && value)
            rank = atoll(argv[++i]);
        else if (strcmp(argv[i], "--seq") == 0 && value)
            seq = atoll(argv[++i]);
        else if (strcmp(argv[i], "--segment") == 0 && value)
            segment = atoll(argv[++i]);
        else if (strcmp(argv[i], "--key") == 0 && value)
            key_flag = argv[++i];
        else if (strcmp(argv[i], "--timeout-ms") == 0 && value)
            timeout_ms = atoi(argv[++i]);
        else if (strcmp(argv[i], "--pay") == 0 || strcmp(argv[i], "--reject") == 0)
            pay = strcmp(argv[i], "--pay") == 0;
        else {
            fprintf(stderr, "aicon ledger %s: unexpected argument '%s' (see aicon ledger --help)\n", names[what],
                    argv[i]);
            return 2;
        }
    }
    uint8_t job[32];
    const char *missing = !uri ? "an eth:// URI" : !job_hex || aic_hex_decode(job_hex, job, 32) != AIC_OK
                                                        ? "--job 0x and 64 hex digits"
                                                   : rank < 0 || rank > UINT32_MAX ? "--rank R"
                                                   : seq < 0                     ? "--seq S"
                                                   : what == AIC_ESCROW_DISPUTE && segment < 0 ? "--segment N"
                                                   : what == AIC_ESCROW_SETTLE && pay < 0      ? "--pay or --reject"
                                                   : timeout_ms <= 0                           ? "a positive --timeout-ms"
                                                                                               : NULL;
    if (missing) {
        fprintf(stderr, "aicon ledger %s: needs %s (see aicon ledger --help)\n", names[what], missing);
        return 2;
    }
    aic_usage_dest d;
    char key_path[1024];
    aic_key key;
    aic_status st = aic_usage_dest_parse(uri, &d);
    if (st == AIC_OK && d.kind != AIC_DEST_ETH)
        st = aic_fail(AIC_ERR_INVALID_ARG, "%s: not an eth:// destination", uri);
    if (st == AIC_OK)
        st = aic_usage_dest_resolve(&d, timeout_ms);
    if (st == AIC_OK)
        st = aic_key_path(key_flag, key_path, sizeof key_path);
    if (st == AIC_OK)
        st = aic_key_load(key_path, &key);
    if (st == AIC_OK)
        st = aic_usage_escrow_eth(&d, what, job, (uint32_t)rank, (uint64_t)seq,
                                  what == AIC_ESCROW_DISPUTE ? (uint64_t)segment : (uint64_t)(pay > 0), &key, timeout_ms);
    memset(&key, 0, sizeof key);
    if (st != AIC_OK) {
        fprintf(stderr, "aicon ledger %s: %s\n", names[what], aic_last_error());
        return 1;
    }
    printf("%s of job %s rank %lld seq %lld: done\n", names[what], job_hex, rank, seq);
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
    if (strcmp(cmd, "claim") == 0)
        return escrow(AIC_ESCROW_CLAIM, argc - 2, argv + 2);
    if (strcmp(cmd, "dispute") == 0)
        return escrow(AIC_ESCROW_DISPUTE, argc - 2, argv + 2);
    if (strcmp(cmd, "settle") == 0)
        return escrow(AIC_ESCROW_SETTLE, argc - 2, argv + 2);
    fprintf(stderr, "aicon ledger: unknown or incomplete command '%s' (see aicon ledger --help)\n", cmd);
    return 2;
}
