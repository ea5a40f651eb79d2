// The segmentation worker: onnxruntime-web + the pipeline of deploy/python/video.py, off the main
// thread. Message API (docs/web.md):
//   -> {type: 'init', modelUrl, options}        <- {type: 'ready', info} | {type: 'error', ...}
//   -> {type: 'frame', id, bitmap, wantAlpha}   <- {type: 'result', id, frame, timings, alpha?}
//   -> {type: 'options', options}               (smooth, weight, background; resets smoothing)
//   -> {type: 'reset'}                          (forget the temporal state)
// options: {smooth: 'ema'|'none', weight: 0.1, background: {kind, ...}, backend: 'auto'|'wasm'|
// 'webgpu', threads: 0 (= up to 4 where cross-origin isolated), spin: false, composite: true}
import * as ort from './node_modules/onnxruntime-web/dist/ort.all.min.mjs';
import { loadPlan, ModelError } from './config.js';
import { alphaFromOutput, makeSmoother, preprocess } from './pipeline.js';
import { Background, blend } from './composite.js';
import { quantize } from './stats.js';

let session = null, plan = null, smoother = null, background = null, options = {};
let canvas = null, ctx = null, outCanvas = null, outCtx = null;

const now = () => performance.now();

function post(msg, transfer = []) { self.postMessage(msg, transfer); }

function fail(stage, error) {
  const message = error instanceof ModelError || stage !== 'model' ? error.message
    : `${plan ? plan.onnxUrl : 'the model'}: ${error.message}`;
  post({ type: 'error', stage, message });
}

// {name: size} of the first input's named dynamic dims (N = 1, H, W = the network size)
function symbolicDims(session, [w, h]) {
  const meta = session.inputMetadata && session.inputMetadata[0];
  if (!meta || !meta.shape || meta.shape.length !== 4) return null;
  const out = {};
  [1, null, h, w].forEach((size, i) => {
    if (size !== null && typeof meta.shape[i] === 'string' && meta.shape[i]) out[meta.shape[i]] = size;
  });
  return Object.keys(out).length ? out : null;
}

async function createSession(onnxUrl, backend, threads, netSize, spin = false) {
  ort.env.wasm.wasmPaths = new URL('./node_modules/onnxruntime-web/dist/', import.meta.url).href;
  ort.env.wasm.numThreads = threads || (self.crossOriginIsolated
    ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
  ort.env.logLevel = 'error';
  const res = await fetch(onnxUrl);
  if (!res.ok)
    throw new ModelError(`${onnxUrl}: HTTP ${res.status}: deploy.yaml names an ONNX file that ` +
                         'the folder does not have (copy the whole exported folder)');
  const bytes = new Uint8Array(await res.arrayBuffer());
  const tries = [];
  if ((backend === 'auto' || backend === 'webgpu') && self.navigator.gpu) {
    const adapter = await navigator.gpu.requestAdapter().catch(() => null);
    if (adapter) tries.push('webgpu');
  }
  if (backend !== 'webgpu' || !tries.length) tries.push('wasm');
  let lastError = null;
  for (const ep of tries) {
    try {
      // idle onnxruntime threads do not spin-wait (as deploy/python's default: spinning threads
      // take the cores the worker's own per-frame JavaScript needs)
      const opts = { executionProviders: [ep], graphOptimizationLevel: 'all',
                     extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } } };
      let s = await ort.InferenceSession.create(bytes, opts);
      // A dynamic input (tools/export.py's default [-1, 3, -1, -1]) fixed to the network size:
      // onnxruntime then folds the graph's shape arithmetic (Shape/Slice/Reshape chains), which
      // otherwise runs on every frame.
      const overrides = symbolicDims(s, netSize);
      if (overrides) {
        await s.release();
        s = await ort.InferenceSession.create(bytes, { ...opts, freeDimensionOverrides: overrides });
      }
      return { session: s, ep, overrides };
    } catch (e) {
      lastError = e;
    }
  }
  throw new ModelError(`${onnxUrl}: onnxruntime-web cannot load it (${lastError.message}); it ` +
                       'must be the model.onnx written by tools/export.py --format onnx');
}

// One network run; returns {data, dims} of the first output, checked to be a segmentation map.
async function run(x) {
  const [nw, nh] = plan.netSize;
  const feeds = { [session.inputNames.includes(plan.inputName) ? plan.inputName
    : session.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, nh, nw]) };
  const out = (await session.run(feeds))[session.outputNames[0]];
  const dims = out.dims.map(Number);
  const spatial = dims.length === 4 || (dims.length === 3 && plan.outputOp === 'argmax');
  if (!spatial || dims[0] !== 1)
    throw new ModelError(`${plan.onnxUrl}: its output has shape [${dims.join(', ')}], not a ` +
                         'segmentation map [1, C, H, W]: this is not a segmentation model ' +
                         '(export one with tools/export.py --format onnx)');
  if (dims.length === 4 && plan.outputOp !== 'argmax' && dims[1] < 2)
    throw new ModelError(`${plan.onnxUrl}: its output has ${dims[1]} channel(s); deploy.yaml ` +
                         `says output_op ${plan.outputOp}, which needs one per class (>= 2)`);
  return { data: out.data, dims };
}

function setOptions(opts) {
  options = { smooth: 'ema', weight: 0.1, background: { kind: 'blur', radius: 10 },
              composite: true, ...options, ...opts };
  smoother = makeSmoother(options.smooth, Number(options.weight));
  background = new Background(options.background);
}

async function init(msg) {
  try {
    plan = await loadPlan(msg.modelUrl);
  } catch (e) {
    fail('config', e);
    return;
  }
  try {
    setOptions(msg.options || {});
  } catch (e) {
    fail('options', e);
    return;
  }
  try {
    const opts = msg.options || {};
    const made = await createSession(plan.onnxUrl, opts.backend || 'auto', opts.threads || 0,
                                     plan.netSize, Boolean(opts.spin));
    session = made.session;
    const [nw, nh] = plan.netSize;
    const t0 = now();
    await run(new Float32Array(3 * nw * nh));   // validates the output, and warms up
    post({ type: 'ready', info: {
      backend: made.ep, threads: ort.env.wasm.numThreads, fixedDims: made.overrides || null, isolated: self.crossOriginIsolated,
      netSize: plan.netSize, outputOp: plan.outputOp, inputName: plan.inputName,
      deployYaml: plan.file, onnx: plan.onnxUrl, warmupMs: now() - t0,
      ortVersion: ort.env.versions ? ort.env.versions.web : '' } });
  } catch (e) {
    session = null;
    fail('model', e);
  }
}

function pixelsOf(bitmap) {
  const { width: w, height: h } = bitmap;
  if (!canvas || canvas.width !== w || canvas.height !== h) {
    canvas = new OffscreenCanvas(w, h);
    ctx = canvas.getContext('2d', { willReadFrequently: true });
  }
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, w, h).data;
}

async function frame(msg) {
  if (!session) {
    post({ type: 'error', stage: 'frame', message: 'no model is loaded (init failed or was not sent)' });
    return;
  }
  const t = { start: now() };
  const bitmap = msg.bitmap, w = bitmap.width, h = bitmap.height;
  const rgba = pixelsOf(bitmap);
  t.decode = now();
  const prep = preprocess(rgba, w, h, plan);
  t.preprocess = now();
  let out;
  try {
    out = await run(prep.x);
  } catch (e) {
    fail('model', e);
    return;
  }
  t.infer = now();
  const raw = alphaFromOutput(out.data, out.dims, plan.outputOp, prep.pads, prep.padded, w, h);
  t.postprocess = now();
  const alpha = smoother.apply(raw, rgba, w, h);
  t.smooth = now();
  let result = null;
  if (options.composite !== false) {
    if (!outCanvas || outCanvas.width !== w || outCanvas.height !== h) {
      outCanvas = new OffscreenCanvas(w, h);
      outCtx = outCanvas.getContext('2d');
    }
    const img = outCtx.createImageData(w, h);
    blend(rgba, alpha, background.pixels(bitmap, w, h), img.data);
    outCtx.putImageData(img, 0, 0);
    result = outCanvas.transferToImageBitmap();
  }
  bitmap.close();
  t.composite = now();
  const timings = {
    decode: t.decode - t.start, preprocess: t.preprocess - t.decode, infer: t.infer - t.preprocess,
    postprocess: t.postprocess - t.infer, smooth: t.smooth - t.postprocess,
    composite: t.composite - t.smooth, total: t.composite - t.start,
  };
  const reply = { type: 'result', id: msg.id, frame: result, timings, width: w, height: h };
  const transfer = result ? [result] : [];
  if (msg.wantAlpha) {
    const { alpha: a8, mask } = quantize(alpha);
    reply.alpha = a8;
    reply.mask = mask;
    transfer.push(a8.buffer, mask.buffer);
  }
  post(reply, transfer);
}

// frames are handled one at a time, in order (the smoothing state depends on the order)
let queue = Promise.resolve();
self.onmessage = (e) => {
  const msg = e.data;
  queue = queue.then(async () => {
    try {
      if (msg.type === 'init') await init(msg);
      else if (msg.type === 'frame') await frame(msg);
      else if (msg.type === 'options') setOptions(msg.options || {});
      else if (msg.type === 'reset') smoother && smoother.reset();
      else post({ type: 'error', stage: 'message', message: `unknown message type ${msg.type}` });
    } catch (err) {
      post({ type: 'error', stage: msg.type, message: err.message });
    }
  });
};
