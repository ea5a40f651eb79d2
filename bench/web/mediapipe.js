// MediaPipe's web image segmenter (@mediapipe/tasks-vision, its WASM on the CPU) on the same
// sources as deploy/web, the way MediaPipe's web samples run it: on the main thread, in VIDEO
// mode, with the selfie model read from a local file (modelAssetBuffer; no download). The same
// window.humanseg API as deploy/web/app.js (ready, processFrames, startSource, summary), so
// bench/bench_web.py drives both alike. URL parameters: model (a .tflite URL), source
// (camera | none), background (#RRGGBB).
import { FilesetResolver, ImageSegmenter } from '/mp/vision_bundle.mjs';
import { FrameStats, b64, quantize } from '/stats.js';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const video = $('video'), canvas = $('output'), ctx = canvas.getContext('2d', { willReadFrequently: true });
const stats = new FrameStats();
const errors = [];
let segmenter = null, running = false, info = null, lastTs = 0;
const bg = (params.get('background') || '#00b140').replace('#', '');
const bgRgb = [0, 2, 4].map((i) => parseInt(bg.slice(i, i + 2), 16));

function showError(stage, message) {
  errors.push(`${stage}: ${message}`);
  $('error').textContent = errors.join('\n');
  $('error').classList.add('visible');
}

async function init() {
  const fileset = await FilesetResolver.forVisionTasks('/mp/wasm');
  const url = params.get('model');
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const t0 = performance.now();
  segmenter = await ImageSegmenter.createFromOptions(fileset, {
    baseOptions: { modelAssetBuffer: new Uint8Array(await res.arrayBuffer()), delegate: 'CPU' },
    runningMode: 'VIDEO', outputConfidenceMasks: true, outputCategoryMask: false,
  });
  info = { model: url, initMs: performance.now() - t0, isolated: self.crossOriginIsolated };
  $('status').textContent = `MediaPipe ImageSegmenter, ${url.split('/').pop()}`;
  return info;
}
const ready = init();
ready.catch((e) => showError('init', e.message));

// One frame: the segmenter, then the blend over a solid colour; returns the alpha and timings.
function segment(source, w, h) {
  const t0 = performance.now();
  lastTs = Math.max(lastTs + 1, Math.round(t0));
  let alpha = null;
  segmenter.segmentForVideo(source, lastTs, (result) => {
    alpha = result.confidenceMasks[0].getAsFloat32Array().slice();
  });
  const t1 = performance.now();
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  ctx.drawImage(source, 0, 0, w, h);
  const img = ctx.getImageData(0, 0, w, h), d = img.data;
  for (let i = 0, j = 0; i < alpha.length; i++, j += 4) {
    const a = alpha[i], b = 1 - a;
    d[j] = d[j] * a + bgRgb[0] * b; d[j + 1] = d[j + 1] * a + bgRgb[1] * b; d[j + 2] = d[j + 2] * a + bgRgb[2] * b;
  }
  ctx.putImageData(img, 0, 0);
  const t2 = performance.now();
  return { alpha, timings: { infer: t1 - t0, composite: t2 - t1, total: t2 - t0 } };
}

let wantMask = [];
const onVideoFrame = stats.timed((now, meta) => {
  if (!running) return;
  video.requestVideoFrameCallback(onVideoFrame);
  const t0 = performance.now();
  const { alpha, timings } = segment(video, video.videoWidth, video.videoHeight);
  stats.record(performance.now() - t0, timings);
  if (wantMask.length) {
    const q = quantize(alpha);
    wantMask.shift()({ width: video.videoWidth, height: video.videoHeight, mask: b64(q.mask), alpha: b64(q.alpha) });
  }
  if (stats.frames % 15 === 0) $('stats').textContent = JSON.stringify(stats.summary(), null, 1);
});

async function startSource(kind) {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: false });
  } catch (e) {
    showError('camera', `${e.name}: ${e.message}`);
    return false;
  }
  video.srcObject = stream;
  await video.play();
  running = true;
  video.requestVideoFrameCallback(onVideoFrame);
  return true;
}

window.humanseg = {
  ready,
  summary: () => stats.summary({ source: running ? 'camera' : 'none', errors, info }),
  resetStats: () => stats.reset(),
  startSource,
  stopSource: () => { running = false; if (video.srcObject) video.srcObject.getTracks().forEach((t) => t.stop()); },
  nextMask: () => new Promise((resolve) => wantMask.push(resolve)),
  async processFrames(urls) {
    await ready;
    const out = [];
    for (const url of urls) {
      const bmp = await createImageBitmap(await (await fetch(url)).blob(),
                                          { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const t0 = performance.now();
      const { alpha, timings } = stats.timed(segment)(bmp, bmp.width, bmp.height);
      stats.record(performance.now() - t0, timings);
      const q = quantize(alpha);
      out.push({ width: bmp.width, height: bmp.height, mask: b64(q.mask), alpha: b64(q.alpha), timings });
      bmp.close();
    }
    return out;
  },
};

(async () => {
  try { await ready; } catch (e) { return; }
  if ((params.get('source') || 'camera') === 'camera') await startSource('camera');
})();
