#!/usr/bin/env node
// TensorFlow.js Layers models for the import tests, made by TF.js itself (npm @tensorflow/tfjs,
// a dev dependency; never loaded by the page):
//
//   node tests/js/make_tfjs_models.mjs OUT_DIR
//
// writes OUT_DIR/<case>/{encoder_model,decoder_model}/model.json + .bin shards, and
// OUT_DIR/<case>/expected.json: a fixed input per model and what TF.js's predict() gives for it.
// The models are saved through TF.js's own save handler (tf.io.withSaveHandler: its
// modelTopology, weightSpecs and weightData); the weight data is then cut into several shards
// as the tensorflowjs converter does (paths of one group, concatenated in order). Cases:
// - original: the original Audio Intellimixer's architecture (encoder 256x64x1 -> Conv2D 256
//   5x5/2 ... -> Dense 4 log_variance and mu; decoder Dense 65536 -> Reshape 64x16x64 ->
//   Conv2DTranspose ... -> sigmoid), with non-trivial BatchNorm statistics, in the converter's
//   modelTopology form ({keras_version, backend, model_config});
// - small: a functional encoder (mu first, valid padding, elu/tanh/softplus, LeakyReLU, ReLU,
//   Activation, Dropout) and a Sequential decoder, in TF.js's own form;
// - uint8, uint16, float16: the small models with weights quantised as the converter does
//   (affine uint8/uint16 with scale and min; float16), predict() run with the dequantised values.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";

const out = process.argv[2];
if (!out) { console.error("usage: make_tfjs_models.mjs OUT_DIR"); process.exit(2); }

// a seeded generator (the models and inputs are the same at every run)
let seed = 12345;
const rand = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32; };
const uniform = (n, lo, hi) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

// Random weights everywhere, BatchNorm statistics included (so inference-mode BN matters).
function randomise(model) {
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (!ws.length) continue;
    const fresh = ws.map((w, k) => {
      const n = w.size, name = layer.weights[k].name;
      let data;
      if (/moving_variance/.test(name)) data = uniform(n, 0.5, 2.0);
      else if (/moving_mean/.test(name)) data = uniform(n, -0.3, 0.3);
      else if (/gamma/.test(name)) data = uniform(n, 0.7, 1.3);
      else if (/beta|bias/.test(name)) data = uniform(n, -0.1, 0.1);
      else { const fanIn = n / w.shape[w.shape.length - 1]; const s = Math.sqrt(3 / fanIn); data = uniform(n, -s, s); }
      return tf.tensor(data, w.shape);
    });
    layer.setWeights(fresh);
  }
}

// Affine quantisation of one float32 array as the tensorflowjs converter does it.
function quantise(values, dtype) {
  if (dtype === "float16") {
    const half = new Uint16Array(values.length);
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);
    for (let i = 0; i < values.length; i++) {
      f[0] = values[i];
      const x = u[0], sign = (x >>> 16) & 0x8000, exp = ((x >>> 23) & 0xff) - 127 + 15, mant = x & 0x7fffff;
      if (exp <= 0) half[i] = sign; // (tiny values flush to zero: none here)
      else if (exp >= 31) half[i] = sign | 0x7c00;
      else half[i] = sign | (exp << 10) | ((mant + 0x1000) >>> 13);
    }
    const back = Float32Array.from(half, (h) => {
      const s = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
      return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
    });
    return { bytes: new Uint8Array(half.buffer), back, quantization: { dtype: "float16" } };
  }
  const levels = dtype === "uint8" ? 255 : 65535;
  let min = Math.min(...values), max = Math.max(...values);
  if (max === min) max = min + 1e-6;
  const scale = (max - min) / levels;
  const q = dtype === "uint8" ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.round((values[i] - min) / scale);
  const back = Float32Array.from(q, (v) => v * scale + min);
  return { bytes: new Uint8Array(q.buffer), back, quantization: { dtype, scale, min } };
}

async function artifactsOf(model) {
  let saved = null;
  await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } }; }));
  return saved;
}

// model.json + shards (at most `shardBytes` each) in `dir`; quantised if `dtype` is given (then
// the model's own weights are set to the dequantised values, so predict() matches the files).
async function save(model, dir, { shardBytes = 64 * 1024, dtype = null, converterForm = false } = {}) {
  mkdirSync(dir, { recursive: true });
  const a = await artifactsOf(model);
  let specs = a.weightSpecs, data = new Uint8Array(a.weightData);
  if (dtype) {
    const parts = [], newSpecs = [], values = [];
    let offset = 0;
    for (const spec of specs) {
      const n = spec.shape.reduce((x, y) => x * y, 1);
      const floats = new Float32Array(data.buffer.slice(offset, offset + 4 * n));
      offset += 4 * n;
      const qd = quantise(floats, dtype);
      parts.push(qd.bytes);
      values.push([spec.name, tf.tensor(qd.back, spec.shape)]);
      newSpecs.push({ ...spec, quantization: qd.quantization });
    }
    // predict() with what the files hold
    const byName = new Map(values);
    for (const layer of model.layers) {
      if (layer.weights.length) layer.setWeights(layer.weights.map((w) => byName.get(w.originalName ?? w.name)));
    }
    specs = newSpecs;
    const total = parts.reduce((x, p) => x + p.length, 0);
    data = new Uint8Array(total);
    let at = 0;
    for (const p of parts) { data.set(p, at); at += p.length; }
  }
  const paths = [];
  const n = Math.max(1, Math.ceil(data.length / shardBytes));
  for (let i = 0; i < n; i++) {
    const name = `group1-shard${i + 1}of${n}.bin`;
    writeFileSync(join(dir, name), data.subarray(i * shardBytes, Math.min(data.length, (i + 1) * shardBytes)));
    paths.push(name);
  }
  const topology = converterForm
    ? { keras_version: "2.9.0", backend: "tensorflow", model_config: { class_name: a.modelTopology.class_name, config: a.modelTopology.config } }
    : a.modelTopology;
  const json = {
    format: "layers-model", generatedBy: converterForm ? "keras v2.9.0" : `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: converterForm ? "TensorFlow.js Converter v3.19.0" : null,
    modelTopology: topology, weightsManifest: [{ paths, weights: specs }],
  };
  writeFileSync(join(dir, "model.json"), JSON.stringify(json));
}

function predictions(model, inputShape, count = 2) {
  const shape = [count, ...inputShape];
  const x = uniform(shape.reduce((a, b) => a * b, 1), 0, 1);
  const ys = model.predict(tf.tensor(x, shape));
  const list = Array.isArray(ys) ? ys : [ys];
  return { input: { shape, data: Array.from(x) },
    outputs: list.map((y, k) => ({ name: model.outputNames[k], shape: y.shape, data: Array.from(y.dataSync()) })) };
}

const L = tf.layers;
const suffix = (k) => (k ? `_${k}` : "");

// The original's block: a convolution, then ReLU, then BatchNorm (its layer names numbered as Keras does).
function block(h, conv, k) {
  h = conv.apply(h);
  h = L.reLU({ name: `re_lu${suffix(k)}` }).apply(h);
  return L.batchNormalization({ name: `batch_normalization${suffix(k)}` }).apply(h);
}

function originalEncoder() {
  const x = tf.input({ shape: [256, 64, 1], name: "input_1" });
  let h = x;
  [[256, 5, 2], [128, 3, 2], [64, 3, 1]].forEach(([filters, kernelSize, strides], k) => {
    h = block(h, L.conv2d({ filters, kernelSize, strides, padding: "same", name: `conv2d${suffix(k)}` }), k);
  });
  h = L.flatten({ name: "flatten" }).apply(h);
  h = L.dropout({ rate: 0.2, name: "dropout" }).apply(h);
  h = L.dense({ units: 30, name: "dense" }).apply(h);
  h = L.batchNormalization({ name: "batch_normalization_3" }).apply(h);
  const logvar = L.dense({ units: 4, name: "log_variance" }).apply(h);
  const mu = L.dense({ units: 4, name: "mu" }).apply(h);
  return tf.model({ inputs: x, outputs: [logvar, mu], name: "encoder" });
}

function originalDecoder() {
  const z = tf.input({ shape: [4], name: "input_2" });
  let h = L.dense({ units: 65536, name: "dense_1" }).apply(z);
  h = L.reshape({ targetShape: [64, 16, 64], name: "reshape" }).apply(h);
  [[64, 1], [128, 2]].forEach(([filters, strides], k) => {
    h = block(h, L.conv2dTranspose({ filters, kernelSize: 3, strides, padding: "same", name: `conv2d_transpose${suffix(k)}` }), k + 3);
  });
  h = L.conv2dTranspose({ filters: 1, kernelSize: 5, strides: 2, padding: "same", activation: "sigmoid", name: "conv2d_transpose_2" }).apply(h);
  return tf.model({ inputs: z, outputs: h, name: "decoder" });
}

// 32 bins x 16 frames, latent 3: every supported layer kind at least once
function smallEncoder() {
  const x = tf.input({ shape: [32, 16, 1], name: "spec" });
  let h = L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: "valid", activation: "elu", name: "c1" }).apply(x);
  h = L.leakyReLU({ alpha: 0.2, name: "leaky" }).apply(h);
  h = L.conv2d({ filters: 5, kernelSize: [3, 2], strides: [1, 2], padding: "same", name: "c2" }).apply(h);
  h = L.batchNormalization({ name: "bn", epsilon: 0.01 }).apply(h);
  h = L.activation({ activation: "tanh", name: "act" }).apply(h);
  h = L.flatten({ name: "flat" }).apply(h);
  h = L.dropout({ rate: 0.3, name: "drop" }).apply(h);
  h = L.dense({ units: 10, activation: "softplus", name: "hidden" }).apply(h);
  const mu = L.dense({ units: 3, name: "z_mean" }).apply(h);
  const logvar = L.dense({ units: 3, name: "z_log_var" }).apply(h);
  return tf.model({ inputs: x, outputs: [mu, logvar], name: "small_encoder" });
}

function smallDecoder() {
  return tf.sequential({ name: "small_decoder", layers: [
    L.dense({ inputShape: [3], units: 8 * 4 * 4, activation: "relu", name: "d1" }),
    L.reshape({ targetShape: [8, 4, 4], name: "r" }),
    L.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: "same", name: "t1" }),
    L.batchNormalization({ name: "bn2" }),
    L.reLU({ maxValue: 6, name: "relu6" }),
    L.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 2, padding: "valid", activation: "elu", name: "t2" }),
    L.conv2dTranspose({ filters: 1, kernelSize: 1, strides: 1, padding: "same", name: "t3" }),
    L.activation({ activation: "sigmoid", name: "out" }),
  ] });
}

async function make(name, encoder, decoder, opts = {}) {
  randomise(encoder); randomise(decoder);
  const dir = join(out, name);
  await save(encoder, join(dir, "encoder_model"), opts);
  await save(decoder, join(dir, "decoder_model"), opts);
  const expected = {
    encoder: predictions(encoder, encoder.inputs[0].shape.slice(1)),
    decoder: predictions(decoder, decoder.inputs[0].shape.slice(1)),
  };
  writeFileSync(join(dir, "expected.json"), JSON.stringify(expected));
  console.log(`make_tfjs_models: ${dir}`);
}

await make("original", originalEncoder(), originalDecoder(), { shardBytes: 4 * 1024 * 1024, converterForm: true });
await make("small", smallEncoder(), smallDecoder());
for (const dtype of ["uint8", "uint16", "float16"]) await make(dtype, smallEncoder(), smallDecoder(), { dtype });
