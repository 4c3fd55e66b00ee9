// SPDX-License-Identifier: Apache-2.0
// Compiles UsageLedger.sol with npm solc (solcjs, standard JSON) for the tests' local chain.
// Usage: node build.js NODE_MODULES OUT_DIR
// Writes OUT_DIR/UsageLedger.json and OUT_DIR/UsageToken.json: {abi, bytecode, methodIdentifiers}.
// evmVersion paris: no PUSH0, so any ganache hardfork from the merge on runs the code.
"use strict";
const fs = require("fs");
const path = require("path");

const [modules, out] = process.argv.slice(2);
if (!modules || !out) {
    console.error("usage: node build.js NODE_MODULES OUT_DIR");
    process.exit(2);
}
const solc = require(path.resolve(modules, "solc"));
const src = path.join(__dirname, "UsageLedger.sol");
const input = {
    language: "Solidity",
    sources: { "UsageLedger.sol": { content: fs.readFileSync(src, "utf8") } },
    settings: {
        evmVersion: "paris",
        optimizer: { enabled: true, runs: 200 },
        outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.methodIdentifiers"] } },
    },
};
const result = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (result.errors || []).filter((e) => e.severity === "error");
for (const e of result.errors || []) console.error(e.formattedMessage);
if (errors.length) {
    console.error(`${src}: solc ${solc.version()} failed with ${errors.length} error(s)`);
    process.exit(1);
}
fs.mkdirSync(out, { recursive: true });
for (const name of ["UsageLedger", "UsageToken"]) {
    const c = result.contracts["UsageLedger.sol"][name];
    fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify({
        abi: c.abi, bytecode: "0x" + c.evm.bytecode.object, methodIdentifiers: c.evm.methodIdentifiers,
    }, null, 1));
}
console.log(`${src}: compiled with solc ${solc.version()} into ${out}`);
