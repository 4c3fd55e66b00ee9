// SPDX-License-Identifier: Apache-2.0
// The local chain's side of the usage-ledger tests, over plain JSON-RPC (node's fetch):
//   node chain.js deploy URL BUILD_DIR REWARD_PER_SAMPLE   deploys UsageLedger from ganache's first
//                                                          account; prints the contract address
//   node chain.js records URL CONTRACT                     one JSON line per RecordAccepted event:
//                                                          {jobId, rank, seq, miner, samples,
//                                                           deviceMs, reward, tx}
//   node chain.js balance URL CONTRACT ADDRESS             the reward token balance of ADDRESS
//   node chain.js proof URL CONTRACT JOB RANK SEQ          what the contract keeps of that record's proof
//                                                          log: {root, segments} of proofOf, and events,
//                                                          the ProofCommitted logs found by the indexed
//                                                          jobId, rank and that root with that seq
//   node chain.js wait URL SECONDS                         waits until the node answers eth_chainId;
//                                                          prints the chain id
//   node chain.js escrow URL CONTRACT                      payment after a challenge window, with
//                                                          ganache's accounts as payer, miners and
//                                                          arbiter; exits 1 naming what did not hold
//   node chain.js escrow-job URL CONTRACT                  a job in escrow for aicon ledger's calls:
//                                                          account 0 pays, 1 is rank 0 (records seq 1
//                                                          and 2 accepted), 3 arbitrates, window 5
//                                                          blocks; prints the job id
//   node chain.js mine URL N                               mines N empty blocks
// NODE_PATH must hold the npm cache (js-sha3 for the event topic).
"use strict";
const fs = require("fs");
const path = require("path");
const { keccak256 } = require("js-sha3");

let url;
async function rpc(method, params) {
    const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const j = await res.json();
    if (j.error) throw new Error(`${url} ${method}: ${j.error.message}`);
    return j.result;
}
const word = (v) => BigInt(v).toString(16).padStart(64, "0");
const selector = (sig) => keccak256(sig).slice(0, 8);
const hexAddress = (w) => "0x" + w.slice(-40);

async function deploy(dir, reward) {
    const c = JSON.parse(fs.readFileSync(path.join(dir, "UsageLedger.json"), "utf8"));
    const [from] = await rpc("eth_accounts", []);
    const tx = await rpc("eth_sendTransaction", [{ from, data: c.bytecode + word(reward), gas: "0x4c4b40" }]);
    const receipt = await rpc("eth_getTransactionReceipt", [tx]);
    if (!receipt || receipt.status !== "0x1" || !receipt.contractAddress)
        throw new Error(`${url}: deploying UsageLedger failed: ${JSON.stringify(receipt)}`);
    console.log(receipt.contractAddress);
}

async function records(contract) {
    const topic = "0x" + keccak256("RecordAccepted(bytes32,uint32,uint64,address,uint64,uint64,uint256)");
    const logs = await rpc("eth_getLogs", [{ address: contract, fromBlock: "0x0", toBlock: "latest", topics: [topic] }]);
    for (const l of logs) {
        const d = l.data.slice(2).match(/.{64}/g);
        console.log(JSON.stringify({
            jobId: l.topics[1], rank: Number(BigInt(l.topics[2])), seq: BigInt("0x" + d[0]).toString(),
            miner: hexAddress(l.topics[3]), samples: BigInt("0x" + d[1]).toString(),
            deviceMs: BigInt("0x" + d[2]).toString(), reward: BigInt("0x" + d[3]).toString(), tx: l.transactionHash,
        }));
    }
}

async function proofOf(contract, job, rank, seq) {
    const data = "0x" + selector("proofOf(bytes32,uint32,uint64)") + job.replace(/^0x/, "") + word(rank) + word(seq);
    const [root, segments] = (await rpc("eth_call", [{ to: contract, data }, "latest"])).slice(2).match(/.{64}/g);
    const topics = ["0x" + keccak256("ProofCommitted(bytes32,uint32,bytes32,uint64,uint64)"), job, "0x" + word(rank),
        "0x" + root];
    const logs = await rpc("eth_getLogs", [{ address: contract, fromBlock: "0x0", toBlock: "latest", topics }]);
    const events = logs.filter((l) => BigInt("0x" + l.data.slice(2, 66)) === BigInt(seq) &&
        BigInt("0x" + l.data.slice(66, 130)) === BigInt("0x" + segments)).length;
    return { root: "0x" + root, segments: Number(BigInt("0x" + segments)), events };
}

async function balance(contract, who) {
    const token = hexAddress((await rpc("eth_call", [{ to: contract, data: "0x" + selector("token()") }, "latest"])).slice(2));
    const data = "0x" + selector("balanceOf(address)") + word(who);
    console.log(BigInt(await rpc("eth_call", [{ to: token, data }, "latest"])).toString());
}

// ---- escrow: records signed by ganache's own accounts (eth_signTypedData_v4) ----------------------

const RECORD_FIELDS = [["jobId", "bytes32"], ["rank", "uint32"], ["seq", "uint64"], ["prevSeq", "uint64"],
    ["miner", "address"], ["steps", "uint64"], ["samples", "uint64"], ["wallMs", "uint64"], ["deviceMs", "uint64"],
    ["flops", "uint64"], ["bytesSent", "uint64"], ["bytesRecv", "uint64"], ["modelHash", "bytes32"],
    ["datasetHash", "bytes32"], ["paramsHash", "bytes32"], ["detailsHash", "bytes32"], ["proofRoot", "bytes32"],
    ["proofSegments", "uint64"]];

function check(cond, what) {
    if (!cond) throw new Error(`escrow: ${what}`);
    console.log(`ok   ${what}`);
}

async function send(from, to, data, value) {
    const tx = await rpc("eth_sendTransaction", [{ from, to, data, gas: "0x2dc6c0", value: "0x" + BigInt(value || 0).toString(16) }]);
    return (await rpc("eth_getTransactionReceipt", [tx])).status === "0x1";
}

// The revert reason of a call from `from` ("" when it would succeed).
async function reason(from, to, data) {
    try {
        await rpc("eth_call", [{ from, to, data }, "latest"]);
        return "";
    } catch (e) {
        return e.message;
    }
}

async function signedRecord(contract, chainId, fields) {
    const message = Object.fromEntries(RECORD_FIELDS.map(([n, t]) => [n, fields[n] ?? (t === "bytes32" ? "0x" + "0".repeat(64) : 0)]));
    const typed = {
        types: {
            EIP712Domain: [["name", "string"], ["version", "string"], ["chainId", "uint256"], ["verifyingContract", "address"]]
                .map(([name, type]) => ({ name, type })),
            UsageRecord: RECORD_FIELDS.map(([name, type]) => ({ name, type })),
        },
        primaryType: "UsageRecord",
        domain: { name: "aicon UsageLedger", version: "2", chainId, verifyingContract: contract },
        message,
    };
    const sig = (await rpc("eth_signTypedData_v4", [fields.miner, typed])).slice(2);
    const words = RECORD_FIELDS.map(([n, t]) => (t === "address" ? word(message[n]) : t === "bytes32" ? message[n].slice(2) : word(message[n])));
    return "0x" + selector("submit((" + RECORD_FIELDS.map(([, t]) => t).join(",") + "),bytes)") + words.join("") +
        word((RECORD_FIELDS.length + 1) * 32) + word(65) + sig.padEnd(128 + 64, "0");
}

const mine = async (n) => { for (let i = 0; i < n; i++) await rpc("evm_mine", []); };
const openEscrow = (job, ranks, arbiter, window, price) =>
    "0x" + selector("openJobEscrow(bytes32,address[],address,uint64,uint256)") + job.slice(2) + word(5 * 32) +
    word(arbiter) + word(window) + word(price) + word(ranks.length) + ranks.map(word).join("");

async function escrowJob(contract) {
    const [payer, miner0, , arbiter] = await rpc("eth_accounts", []);
    const chainId = Number(BigInt(await rpc("eth_chainId", [])));
    const job = "0x" + keccak256("aicon ledger escrow job");
    if (!(await send(payer, contract, openEscrow(job, [miner0], arbiter, 5, 1000000000n), 10n ** 18n)))
        throw new Error("escrow-job: openJobEscrow failed");
    for (const seq of [1, 2])
        if (!(await send(miner0, contract, await signedRecord(contract, chainId, { jobId: job, rank: 0, seq, miner: miner0, samples: 100 }))))
            throw new Error(`escrow-job: the record of seq ${seq} was not accepted`);
    console.log(job);
}

async function escrowTest(contract) {
    const [payer, miner0, miner1, arbiter] = await rpc("eth_accounts", []);
    const chainId = Number(BigInt(await rpc("eth_chainId", [])));
    const bal = async (a) => BigInt(await rpc("eth_getBalance", [a, "latest"]));
    const job = "0x" + keccak256("escrow test job");
    const call = (sig, ...ws) => "0x" + selector(sig) + ws.join("");
    const claim = (rank, seq) => call("claim(bytes32,uint32,uint64)", job.slice(2), word(rank), word(seq));
    const price = 1000000000n, window = 5;
    check(await send(payer, contract, openEscrow(job, [miner0, miner1], arbiter, window, price), 10n ** 18n),
          "the payer opens the job with 1 ETH in escrow");

    // Signed by ganache's own EIP-712 (eth_signTypedData_v4) with a proof log: the contract keeps its root.
    const root = "0x" + keccak256("escrow test proof log");
    const rec0 = { jobId: job, rank: 0, seq: 10, miner: miner0, samples: 1000, proofRoot: root, proofSegments: 4 };
    const signed0 = await signedRecord(contract, chainId, rec0);
    // proofRoot is the record's 17th word: one hex digit of it changed after signing.
    const flipped = signed0.slice(0, 10 + 16 * 64) + (root[2] === "0" ? "1" : "0") + signed0.slice(11 + 16 * 64);
    check((await reason(miner0, contract, flipped)).includes("signature is not from this rank's key"),
          "a record whose proofRoot was changed after signing is refused");
    check(await send(miner0, contract, signed0), "rank 0's record is accepted");
    const kept = await proofOf(contract, job, 0, 10);
    check(kept.root === root && kept.segments === 4 && kept.events === 1,
          "proofOf gives the root and 4 segments rank 0 signed, in one ProofCommitted event");
    check((await reason(arbiter, contract, claim(0, 10))).includes("challenge window still open"),
          "a claim inside the window is refused");
    await mine(window);
    const before0 = await bal(miner0);
    check(await send(arbiter, contract, claim(0, 10)), "after the window the claim goes through");
    check((await bal(miner0)) - before0 === 1000n * price, "rank 0's miner is paid 1000 samples x 1 gwei");
    check((await reason(arbiter, contract, claim(0, 10))).includes("already settled"), "a claim is paid once");

    check(await send(miner1, contract, await signedRecord(contract, chainId, { jobId: job, rank: 1, seq: 10, miner: miner1, samples: 2000 })),
          "rank 1's record is accepted");
    const dispute = call("dispute(bytes32,uint32,uint64,uint64)", job.slice(2), word(1), word(10), word(7));
    check((await reason(miner1, contract, dispute)).includes("only the job's owner"), "only the job's owner disputes");
    check(await send(payer, contract, dispute), "the owner disputes rank 1's claim naming segment 7");
    await mine(window);
    check((await reason(arbiter, contract, claim(1, 10))).includes("disputed, waiting for the arbiter"),
          "a disputed claim is not paid after the window");
    const settle = (pay) => call("settle(bytes32,uint32,uint64,bool)", job.slice(2), word(1), word(10), word(pay ? 1 : 0));
    check((await reason(payer, contract, settle(true))).includes("only the job's arbiter"), "only the arbiter settles");
    const before1 = await bal(miner1);
    check(await send(arbiter, contract, settle(true)), "the arbiter settles it paid");
    check((await bal(miner1)) - before1 === 2000n * price, "rank 1's miner is paid 2000 samples x 1 gwei");

    const plain = "0x" + keccak256("job without escrow");
    check(await send(miner0, contract, "0x" + selector("openJob(bytes32,address[])") + plain.slice(2) + word(64) + word(1) + word(miner0)),
          "a job opened without escrow");
    check(await send(miner0, contract, await signedRecord(contract, chainId, { jobId: plain, rank: 0, seq: 5, miner: miner0, samples: 10 })),
          "its record is accepted");
    check((await reason(arbiter, contract, "0x" + selector("claim(bytes32,uint32,uint64)") + plain.slice(2) + word(0) + word(5)))
          .includes("job has no escrow"), "a claim for a job without escrow is refused");
}

async function wait(seconds) {
    const end = Date.now() + 1000 * Number(seconds);
    for (;;) {
        try {
            console.log(Number(BigInt(await rpc("eth_chainId", []))));
            return;
        } catch (e) {
            if (Date.now() > end) throw new Error(`${url}: no answer to eth_chainId within ${seconds} s: ${e.message}`);
            await new Promise((r) => setTimeout(r, 200));
        }
    }
}

(async () => {
    const [cmd, u, ...args] = process.argv.slice(2);
    url = u;
    if (cmd === "deploy" && args.length === 2) await deploy(args[0], args[1]);
    else if (cmd === "records" && args.length === 1) await records(args[0]);
    else if (cmd === "balance" && args.length === 2) await balance(args[0], args[1]);
    else if (cmd === "proof" && args.length === 4) console.log(JSON.stringify(await proofOf(...args)));
    else if (cmd === "wait" && args.length === 1) await wait(args[0]);
    else if (cmd === "escrow" && args.length === 1) await escrowTest(args[0]);
    else if (cmd === "escrow-job" && args.length === 1) await escrowJob(args[0]);
    else if (cmd === "mine" && args.length === 1) await mine(Number(args[0]));
    else throw new Error("usage: node chain.js deploy URL BUILD_DIR REWARD | records URL CONTRACT | " +
                             "balance URL CONTRACT ADDRESS | proof URL CONTRACT JOB RANK SEQ | wait URL SECONDS");
})().catch((e) => { console.error(e.message); process.exit(1); });
