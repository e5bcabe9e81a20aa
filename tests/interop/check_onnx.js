// Runs the ONNX files adaptive-train exported with ONNX Runtime (npm's
// onnxruntime-node, its CPU library) as a service would, and compares every
// output with what the C++ library computed (expected.json).
//
// Usage: node check_onnx.js DIR ORT_MODULE   (DIR/model.onnx: every width
// behind width_index; DIR/widthK.onnx: width K alone; DIR/clip.f32: the
// input's float32 bytes; DIR/expected.json)
// Exit: 0 pass, 1 fail, 77 skipped (no onnxruntime-node at ORT_MODULE; with
// ADAPTIVE_NO_SKIP=1 in the environment, as on CI, a failure).
'use strict';
const fs = require('fs');
const [dir, ortModule] = process.argv.slice(2);
let ort;
try {
  ort = require(ortModule);
} catch (e) {
  const reason = `cannot load ${ortModule} (scripts/setup.sh --with-onnxruntime installs it): ` +
                 String(e.message).split('\n')[0];
  const noSkip = process.env.ADAPTIVE_NO_SKIP || '';
  if (noSkip !== '' && noSkip !== '0') {
    console.log(`FAIL: ${reason}, and ADAPTIVE_NO_SKIP=${noSkip} makes a skip a failure`);
    process.exit(1);
  }
  console.log(`SKIPPED: ${reason}`);
  process.exit(77);
}

// Outputs match the C++ ones up to float32 rounding at their scale
// (tests/test_support.h, kParityRtol and kParityAtol).
const RTOL = 1e-5, ATOL = 1e-7;

function fail(what) {
  console.log('FAIL:', what);
  process.exit(1);
}

// `minScale`: the scale below which the bound stops shrinking. Gate scores
// are differences of terms near 1 (a hidden layer's outputs), so their
// rounding is that of the terms, whatever the scores' own size.
function close(actual, dims, expected, what, minScale = 0) {
  const rows = expected.length, cols = expected[0].length;
  if (dims.length !== 2 || dims[0] !== rows || dims[1] !== cols)
    fail(`${what}: shape [${dims}] != [${rows}, ${cols}]`);
  let diff = 0, scale = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      diff = Math.max(diff, Math.abs(actual[i * cols + j] - expected[i][j]));
      scale = Math.max(scale, Math.abs(expected[i][j]));
    }
  }
  const bound = RTOL * Math.max(scale, minScale) + ATOL;
  if (diff > bound) fail(`${what}: max difference ${diff} > ${bound}`);
  console.log(`ok: ${what} (max difference ${diff.toExponential(2)})`);
}

async function main() {
  const expected = JSON.parse(fs.readFileSync(`${dir}/expected.json`, 'utf8'));
  const shape = expected.shape;
  const bytes = fs.readFileSync(`${dir}/clip.f32`);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const clip = new ort.Tensor('float32', data, shape);
  const widths = expected.forward_at.length;
  const index = (k) => new ort.Tensor('int64', BigInt64Array.from([BigInt(k)]), []);

  // Every width in one file: the width input picks the subgraph.
  const all = await ort.InferenceSession.create(`${dir}/model.onnx`);
  const names = [...all.inputNames].sort().join(',');
  if (names !== 'clip,width_index') fail(`model.onnx inputs: ${names}`);
  for (let k = 0; k < widths; k++) {
    const out = await all.run({clip, width_index: index(k)});
    close(out.logits.data, out.logits.dims, expected.forward_at[k], `model.onnx width ${k} logits`);
    close(out.gate_scores.data, out.gate_scores.dims, expected.gate_at[k],
          `model.onnx width ${k} gate_scores`, 1);
    const cols = expected.gate_at[k][0].length;
    expected.gate_at[k].forEach((row, i) => {
      const got = Array.from(out.gate_scores.data.slice(i * cols, (i + 1) * cols));
      if (got.indexOf(Math.max(...got)) !== row.indexOf(Math.max(...row)))
        fail(`model.onnx width ${k}: the gate chooses another width for clip ${i}`);
    });
  }
  // A width the file does not hold: the runtime's error names the check.
  let error = '';
  try {
    await all.run({clip, width_index: index(widths)});
  } catch (e) {
    error = String(e.message || e);
  }
  if (!error.includes('width_index_check')) fail(`width_index ${widths}: error '${error}'`);
  console.log(`ok: width_index ${widths} is refused: ${error.split('\n')[0]}`);

  // Each width alone.
  for (let k = 0; k < widths; k++) {
    const one = await ort.InferenceSession.create(`${dir}/width${k}.onnx`);
    const out = await one.run({clip});
    close(out.logits.data, out.logits.dims, expected.forward_at[k], `width${k}.onnx logits`);
  }
  console.log('check_onnx.js: all outputs match');
}

main().catch((e) => fail(e.stack || e));
