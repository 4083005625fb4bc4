// Computes reference outputs of the third-party test models with ONNX Runtime Web (the WebAssembly
// build, a separate build from the native library the Java engine uses) and writes the small JSON
// file that ThirdPartyModelsTest compares against. The test cases (inputs and how to generate
// them) are defined here and copied into that JSON, so both sides generate identical inputs.
//
// Regenerate (from the repository root, with the models fetched by scripts/fetch-test-models.sh):
//   ORT_DIR="$(mktemp -d)" && (cd "$ORT_DIR" && npm install --no-save onnxruntime-web@1.22.0)
//   ORT_WEB="$ORT_DIR/node_modules/onnxruntime-web" node \
//     verity-runtime/src/test/reference/reference-outputs.mjs .cache/test-models \
//     > verity-runtime/src/test/resources/third-party/reference-outputs.json
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const ortDir = process.env.ORT_WEB;
if (!ortDir) {
  console.error('set ORT_WEB to the onnxruntime-web package folder');
  process.exit(2);
}
const ort = createRequire(path.resolve(ortDir) + '/')(path.resolve(ortDir));
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const modelDir = process.argv[2] ?? '.cache/test-models';

// Inputs: "lcg" fills float32 with scale * (uniform in [-1, 1)) from a 32-bit LCG
// (s = s * 1664525 + 1013904223 mod 2^32, value = (s >>> 8) / 2^24 * 2 - 1; exact in float32),
// "fill" repeats one value, "bars" draws dark blocks like lines of text on a light page (an image
// [N, C, H, W] whose pixel (y, x) is fg where 4 <= y % 16 < 12, 8 <= x < W - 8 and x % 12 < 9,
// else bg, in every channel). Values are powers of two, so every input is exact in float32.
const vadInputs16k = (stateName) => [
  { name: 'input', type: 'float32', shape: [1, 512], gen: { kind: 'lcg', seed: 1, scale: 0.5 } },
  { name: stateName, type: 'float32', shape: [2, 1, 128], gen: { kind: 'fill', value: 0 } },
  { name: 'sr', type: 'int64', shape: [], gen: { kind: 'fill', value: 16000 } },
];
const CASES = [
  { id: 'vad-v5-op15', model: 'silero_vad_16k_op15.onnx', inputs: vadInputs16k('state') },
  { id: 'vad-v5-op18', model: 'silero_vad_op18_ifless.onnx', inputs: vadInputs16k('state') },
  {
    id: 'vad-v4', model: 'silero_vad_v4.onnx', inputs: [
      { name: 'input', type: 'float32', shape: [1, 512], gen: { kind: 'lcg', seed: 2, scale: 0.25 } },
      { name: 'sr', type: 'int64', shape: [], gen: { kind: 'fill', value: 16000 } },
      { name: 'h', type: 'float32', shape: [2, 1, 64], gen: { kind: 'fill', value: 0 } },
      { name: 'c', type: 'float32', shape: [2, 1, 64], gen: { kind: 'fill', value: 0 } },
    ],
  },
  {
    id: 'ocr-det', model: 'ppocr_v4_det.onnx', inputs: [
      { name: 'x', type: 'float32', shape: [1, 3, 64, 96], gen: { kind: 'bars', fg: -2, bg: 2 } },
    ],
  },
  {
    id: 'ocr-cls', model: 'ppocr_mobile_v2_cls.onnx', inputs: [
      { name: 'x', type: 'float32', shape: [1, 3, 48, 192], gen: { kind: 'lcg', seed: 4, scale: 1 } },
    ],
  },
  {
    id: 'ocr-rec', model: 'ppocr_v4_rec.onnx', inputs: [
      { name: 'x', type: 'float32', shape: [1, 3, 48, 80], gen: { kind: 'lcg', seed: 5, scale: 1 } },
    ],
  },
];
const SAMPLES = 48;

function count(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

function generate(spec) {
  const n = count(spec.shape);
  if (spec.type === 'int64') {
    return new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt(spec.gen.value)), spec.shape);
  }
  const data = new Float32Array(n);
  if (spec.gen.kind === 'fill') {
    data.fill(spec.gen.value);
  } else if (spec.gen.kind === 'bars') {
    const [h, w] = spec.shape.slice(-2);
    for (let i = 0; i < n; i++) {
      const x = i % w;
      const y = Math.floor(i / w) % h;
      const ink = y % 16 >= 4 && y % 16 < 12 && x >= 8 && x < w - 8 && x % 12 < 9;
      data[i] = ink ? spec.gen.fg : spec.gen.bg;
    }
  } else {
    let s = spec.gen.seed >>> 0;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = ((s >>> 8) / 16777216 * 2 - 1) * spec.gen.scale;
    }
  }
  return new ort.Tensor('float32', data, spec.shape);
}

function summarize(t) {
  const v = Array.from(t.data, Number);
  const n = v.length;
  const out = {
    type: t.type,
    shape: t.dims,
    sum: v.reduce((a, b) => a + b, 0),
    sumAbs: v.reduce((a, b) => a + Math.abs(b), 0),
    min: Math.min(...v),
    max: Math.max(...v),
    samples: [],
  };
  for (let k = 0; k < Math.min(SAMPLES, n); k++) {
    const i = Math.floor((k * n) / Math.min(SAMPLES, n));
    out.samples.push([i, v[i]]);
  }
  const last = t.dims[t.dims.length - 1];
  if (t.dims.length >= 2 && last > 1 && n / last <= 4096) {
    // The index of the largest value in each row, and its lead over the runner-up (rows whose
    // lead is tiny may legitimately differ between runtimes).
    out.argmaxLastAxis = [];
    out.argmaxLead = [];
    for (let r = 0; r < n / last; r++) {
      let best = 0;
      for (let j = 1; j < last; j++) if (v[r * last + j] > v[r * last + best]) best = j;
      let second = -Infinity;
      for (let j = 0; j < last; j++) if (j !== best && v[r * last + j] > second) second = v[r * last + j];
      out.argmaxLastAxis.push(best);
      out.argmaxLead.push(v[r * last + best] - second);
    }
  }
  return out;
}

const result = {
  generator: 'verity-runtime/src/test/reference/reference-outputs.mjs',
  runtime: `onnxruntime-web ${ort.env.versions?.web ?? 'unknown'} (wasm, 1 thread)`,
  cases: [],
};
for (const c of CASES) {
  const session = await ort.InferenceSession.create(fs.readFileSync(path.join(modelDir, c.model)));
  const feeds = {};
  for (const spec of c.inputs) feeds[spec.name] = generate(spec);
  const outputs = await session.run(feeds);
  const summary = {};
  for (const name of session.outputNames) summary[name] = summarize(outputs[name]);
  result.cases.push({ ...c, outputs: summary });
  await session.release();
}
process.stdout.write(JSON.stringify(result, null, 1) + '\n');
