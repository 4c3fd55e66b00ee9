// SPDX-License-Identifier: Apache-2.0
// node onnxruntime.js DIR: every one-op model listed in DIR/manifest.tsv (tests/test_ops.c writes it)
// run by onnxruntime on its stored inputs, its first output against aicon's: the same shape, and
// values within 1e-5 of aicon's largest |output|. One line per model; exits 1 when any model fails,
// or when the manifest lists none.
const fs = require("fs");
const path = require("path");
const ort = require("onnxruntime-node");

const TOL = 1e-5;

function readF32(file) {
    const b = fs.readFileSync(file);
    return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

// An input's tensor: NNN.name.f32, or NNN.name.i32 for an int input (labels, ids).
function input(dir, id, name, dims) {
    const ints = path.join(dir, `${id}.${name}.i32`);
    if (fs.existsSync(ints)) {
        const b = fs.readFileSync(ints);
        return new ort.Tensor("int32", new Int32Array(b.buffer, b.byteOffset, b.length / 4), dims);
    }
    return new ort.Tensor("float32", readF32(path.join(dir, `${id}.${name}.f32`)), dims);
}

// "name=d0,d1,..." -> [name, [d0, d1, ...]]; "name=" (a scalar) -> [name, []]
function field(f) {
    const [name, dims] = f.split("=");
    return [name, dims ? dims.split(",").map(Number) : []];
}

// One manifest line: id, label, name=dims per input, output=dims. Returns the failure, or "".
async function check(dir, line) {
    const [id, label, ...rest] = line.split("\t");
    const [, outDims] = field(rest.pop());
    const session = await ort.InferenceSession.create(path.join(dir, `${id}.onnx`));
    const feeds = {};
    for (const f of rest) {
        const [name, dims] = field(f);
        feeds[name] = input(dir, id, name, dims);
    }
    const y = (await session.run(feeds))[session.outputNames[0]];
    const want = readF32(path.join(dir, `${id}.y.f32`));
    if (y.dims.join(",") !== outDims.join(",") || y.data.length !== want.length)
        return `${label}: onnxruntime's output is ${y.dims.join("x")}, aicon's ${outDims.join("x")}`;
    let diff = 0, scale = 0, at = 0;
    for (let i = 0; i < want.length; i++) {
        const d = Math.abs(y.data[i] - want[i]);
        if (!(d <= diff)) { // NaN counts as the worst
            diff = Number.isNaN(d) ? Infinity : d;
            at = i;
        }
        scale = Math.max(scale, Math.abs(want[i]));
    }
    const ok = diff <= TOL * scale;
    console.log(`${ok ? "ok  " : "FAIL"} ${label}: max |diff| ${diff.toExponential(2)} (max |output| ` +
                `${scale.toPrecision(3)})`);
    return ok ? "" : `${label}: onnxruntime ${y.data[at]} vs aicon ${want[at]} at ${at} (tol ${TOL} of the largest)`;
}

(async () => {
    const dir = process.argv[2];
    const lines = fs.readFileSync(path.join(dir, "manifest.tsv"), "utf8").split("\n").filter((l) => l);
    const failures = [];
    for (const line of lines) {
        let why;
        try {
            why = await check(dir, line);
        } catch (e) { // a model onnxruntime refuses fails alone; the others still run
            why = `${line.split("\t")[1]}: ${e.message}`;
        }
        if (why)
            failures.push(why);
    }
    for (const f of failures)
        console.error(`FAIL ${f}`);
    console.log(`onnxruntime: ${lines.length - failures.length} of ${lines.length} one-op models agree with aicon`);
    process.exit(failures.length || !lines.length ? 1 : 0);
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
