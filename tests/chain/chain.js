// SPDX-License-Identifier: Apache-2.0
// The local chain's side of the usage-ledger tests, over plain JSON-RPC (node's fetch):
//   node chain.js deploy URL BUILD_DIR REWARD_PER_SAMPLE   deploys UsageLedger from ganache's first
//                                                          account; prints the contract address
//   node chain.js records URL CONTRACT                     one JSON line per RecordAccepted event:
//                                                          {jobId, rank, seq, miner, samples,
//                                                           deviceMs, reward, tx}
//   node chain.js balance URL CONTRACT ADDRESS             the reward token balance of ADDRESS
//   node chain.js wait URL SECONDS                         waits until the node answers eth_chainId;
//                                                          prints the chain id
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

async function balance(contract, who) {
    const token = hexAddress((await rpc("eth_call", [{ to: contract, data: "0x" + selector("token()") }, "latest"])).slice(2));
    const data = "0x" + selector("balanceOf(address)") + word(who);
    console.log(BigInt(await rpc("eth_call", [{ to: token, data }, "latest"])).toString());
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
    else if (cmd === "wait" && args.length === 1) await wait(args[0]);
    else throw new Error("usage: node chain.js deploy URL BUILD_DIR REWARD | records URL CONTRACT | " +
                             "balance URL CONTRACT ADDRESS | wait URL SECONDS");
})().catch((e) => { console.error(e.message); process.exit(1); });
