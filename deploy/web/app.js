// The page: sources (camera through getUserMedia, or a video file), the worker, the output
// canvas, the fps / timing overlay and visible errors. The main thread only grabs frames and
// shows the worker's composited bitmaps. URL parameters: model (folder URL, default "model/"),
// source (camera | file | none), video (a video URL for source=file), background (blur | #RRGGBB
// | an image URL), smooth (ema | none), weight, backend (auto | wasm | webgpu), threads, spin,
// inflight.
// window.humanseg is the API the tests and bench/bench_web.py drive.
import { FrameStats, b64 } from './stats.js';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const statusEl = $('status'), errorEl = $('error'), statsEl = $('stats'), video = $('video');
const output = $('output').getContext('bitmaprenderer');

const stats = new FrameStats();
const state = { live: 0, nextId: 0, pending: new Map(), errors: [], wantAlpha: [],
                running: false, source: 'none', info: null };

// ---------------------------------------------------------------- errors and status
function report(level, message) {
  // the server prints what the page reports (tools/serve_web.py's /log); a static host just 404s
  fetch('log', { method: 'POST', body: JSON.stringify({ level, message }),
                 headers: { 'Content-Type': 'application/json' } }).catch(() => {});
}

function showError(stage, message) {
  const text = `${stage}: ${message}`;
  state.errors.push(text);
  errorEl.textContent = state.errors.join('\n');
  errorEl.classList.add('visible');
  statusEl.textContent = 'error';
  report('error', text);
}

window.addEventListener('error', (e) => showError('page', e.message));
window.addEventListener('unhandledrejection', (e) => showError('page', String(e.reason && e.reason.message || e.reason)));

const timed = (fn) => stats.timed(fn);

// ---------------------------------------------------------------- options
function backgroundFromParam(spec) {
  if (!spec || spec === 'blur') return { kind: 'blur', radius: 10 };
  if (spec.startsWith('blur:')) return { kind: 'blur', radius: Number(spec.slice(5)) || 10 };
  if (spec.startsWith('#')) return { kind: 'color', color: spec };
  return { kind: 'imageUrl', url: spec };
}

async function resolveBackground(bg) {
  if (bg.kind !== 'imageUrl' && bg.kind !== 'imageFile') return bg;
  const blob = bg.kind === 'imageFile' ? bg.file : await (async () => {
    const res = await fetch(bg.url);
    if (!res.ok) throw new Error(`background image ${bg.url}: HTTP ${res.status}`);
    return res.blob();
  })();
  try {
    return { kind: 'image', bitmap: await createImageBitmap(blob) };
  } catch (e) {
    throw new Error(`background image ${bg.url || bg.file.name}: cannot be decoded (give a PNG or JPEG)`);
  }
}

const options = {
  smooth: params.get('smooth') || 'ema',
  weight: Number(params.get('weight') || 0.1),
  backend: params.get('backend') || 'auto',
  threads: Number(params.get('threads') || 0),
  spin: params.get('spin') === '1',
  background: backgroundFromParam(params.get('background')),
};

async function sendOptions(change) {
  Object.assign(options, change);
  try {
    const bg = await resolveBackground(options.background);
    worker.postMessage({ type: 'options', options: { ...options, background: bg } });
  } catch (e) {
    showError('background', e.message);
  }
}

// ---------------------------------------------------------------- the worker
const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
let readyResolve, readyReject;
const ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
ready.catch(() => {});

worker.onerror = (e) => {
  const msg = `the worker failed to start (${e.message || 'script error'}); are the onnxruntime-web ` +
              'files installed? run `make web` (npm ci --prefix deploy/web)';
  showError('worker', msg);
  readyReject(new Error(msg));
};

worker.onmessage = timed((e) => {
  const msg = e.data;
  if (msg.type === 'ready') {
    state.info = msg.info;
    statusEl.textContent = `model ${msg.info.netSize.join('x')} on ${msg.info.backend}` +
      ` (${msg.info.threads} thread${msg.info.threads > 1 ? 's' : ''}` +
      `${msg.info.isolated ? ', cross-origin isolated' : ''})`;
    readyResolve(msg.info);
  } else if (msg.type === 'error') {
    showError(msg.stage, msg.message);
    if (!state.info) readyReject(new Error(msg.message));
    for (const entry of state.pending.values()) entry.reject(new Error(msg.message));
    state.pending.clear();
  } else if (msg.type === 'result') {
    const entry = state.pending.get(msg.id);
    state.pending.delete(msg.id);
    const t = performance.now();
    if (msg.frame) {
      if (output.canvas.width !== msg.width || output.canvas.height !== msg.height) {
        output.canvas.width = msg.width;
        output.canvas.height = msg.height;
      }
      output.transferFromImageBitmap(msg.frame);
    }
    stats.record(entry ? t - entry.t0 : null, msg.timings);
    if (entry) entry.resolve(msg);
    drawStats();
  }
});

// Send one ImageBitmap through the pipeline; resolves with the worker's result.
function submit(bitmap, wantAlpha = false) {
  const id = state.nextId++;
  return new Promise((resolve, reject) => {
    state.pending.set(id, { t0: performance.now(), resolve, reject });
    worker.postMessage({ type: 'frame', id, bitmap, wantAlpha }, [bitmap]);
  });
}

// ---------------------------------------------------------------- overlay
let lastDraw = 0;
function drawStats(force = false) {
  const t = performance.now();
  if (!force && t - lastDraw < 250) return;
  lastDraw = t;
  const s = summary();
  const st = s.stageMs;
  statsEl.textContent =
    `${s.fps.toFixed(1)} fps  latency ${s.latencyMs.median.toFixed(1)} ms\n` +
    `decode ${st.decode.toFixed(1)}  pre ${st.preprocess.toFixed(1)}  infer ${st.infer.toFixed(1)}` +
    `  post ${st.postprocess.toFixed(1)}\nsmooth ${st.smooth.toFixed(1)}  composite ` +
    `${st.composite.toFixed(1)}  worker ${st.total.toFixed(1)} ms\n` +
    `main thread ${s.mainBusyPerFrameMs.toFixed(2)} ms/frame, dropped ${s.dropped}`;
}

function summary() {
  return stats.summary({ source: state.source, errors: state.errors, info: state.info });
}

// ---------------------------------------------------------------- live sources
// Live frames in flight at once (?inflight=N, default 1): with 2, the next frame is grabbed and
// queued while the worker runs the current one (more fps, up to one frame more latency).
const maxInFlight = Math.max(1, Number(params.get('inflight') || 1));
const onVideoFrame = timed(() => {
  if (!state.running) return;
  video.requestVideoFrameCallback(onVideoFrame);
  if (state.live >= maxInFlight) { stats.dropped++; return; }
  state.live++;
  const want = state.wantAlpha.length > 0;
  createImageBitmap(video).then((bmp) => submit(bmp, want)).then((res) => {
    state.live--;
    if (want && res.mask && state.wantAlpha.length) state.wantAlpha.shift()(res);
  }).catch((e) => { state.live = 0; if (state.running) showError('frame', e.message); });
});

function cameraMessage(e) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
    return 'this page has no camera access here: open it at http://localhost:PORT/ or over https ' +
           '(browsers give cameras to secure contexts only), or choose a video file';
  if (e.name === 'NotAllowedError' || e.name === 'SecurityError')
    return 'camera permission denied: allow the camera for this site in the browser (the icon ' +
           'in the address bar), then reload; or choose a video file';
  if (e.name === 'NotFoundError' || e.name === 'OverconstrainedError')
    return 'no camera found: connect a webcam and reload, or choose a video file';
  if (e.name === 'NotReadableError')
    return 'the camera is in use by another program (or failed to start): close it and reload';
  return `the camera cannot be opened (${e.name}: ${e.message})`;
}

async function startCamera() {
  let stream;
  try {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error('no mediaDevices');
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: false });
  } catch (e) {
    showError('camera', cameraMessage(e));
    return false;
  }
  video.srcObject = stream;
  await video.play();
  return true;
}

async function startFile(url) {
  video.srcObject = null;
  video.src = url;
  video.loop = true;
  try {
    await video.play();
  } catch (e) {
    showError('video', `${url.startsWith('blob:') ? 'the chosen file' : url} cannot be played ` +
              `(${e.message}); give a video the browser decodes (mp4 H.264, webm VP8/VP9)`);
    return false;
  }
  return true;
}

async function startSource(kind, url) {
  stopSource();
  const ok = kind === 'camera' ? await startCamera() : await startFile(url);
  if (!ok) return false;
  state.source = kind;
  state.running = true;
  video.requestVideoFrameCallback(onVideoFrame);
  return true;
}

function stopSource() {
  state.running = false;
  if (video.srcObject) video.srcObject.getTracks().forEach((t) => t.stop());
  video.pause();
}

// ---------------------------------------------------------------- API for tests and embedding
window.humanseg = {
  ready,
  summary,
  resetStats: () => stats.reset(),
  startSource,
  stopSource,
  setOptions: sendOptions,
  // Each image URL in order through the worker (smoothing state carried; reset first unless
  // {reset: false}, to go on from an earlier call); returns per frame {width, height, mask
  // (base64 of 0/1 bytes, alpha > 0.5), alpha (base64 uint8 0..255), timings}.
  async processFrames(urls, { reset = true } = {}) {
    await ready;
    if (reset) worker.postMessage({ type: 'reset' });
    const out = [];
    for (const url of urls) {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      const bmp = await createImageBitmap(await res.blob(), { colorSpaceConversion: 'none',
                                                            premultiplyAlpha: 'none' });
      const r = await submit(bmp, true);  // (the worker quantizes: its buffers are transferred)
      out.push({ width: r.width, height: r.height, mask: b64(r.mask), alpha: b64(r.alpha), timings: r.timings });
    }
    drawStats(true);
    return out;
  },
  // The next live frame's mask (as processFrames gives it).
  nextMask() {
    return new Promise((resolve) => state.wantAlpha.push((r) => resolve(
      { width: r.width, height: r.height, mask: b64(r.mask), alpha: b64(r.alpha) })));
  },
};

// ---------------------------------------------------------------- controls
$('weightValue').textContent = options.weight;
$('weight').value = options.weight;
$('smooth').value = options.smooth;
$('weight').oninput = (e) => { $('weightValue').textContent = e.target.value; sendOptions({ weight: Number(e.target.value) }); };
$('smooth').onchange = (e) => sendOptions({ smooth: e.target.value });
$('background').onchange = (e) => {
  const kind = e.target.value;
  if (kind === 'blur') sendOptions({ background: { kind: 'blur', radius: 10 } });
  else if (kind === 'color') sendOptions({ background: { kind: 'color', color: $('color').value } });
  else if ($('image').files[0]) sendOptions({ background: { kind: 'imageFile', file: $('image').files[0] } });
};
$('color').oninput = (e) => { $('background').value = 'color'; sendOptions({ background: { kind: 'color', color: e.target.value } }); };
$('image').onchange = (e) => { $('background').value = 'image'; sendOptions({ background: { kind: 'imageFile', file: e.target.files[0] } }); };
$('source').onchange = (e) => { if (e.target.value === 'camera') startSource('camera'); else if ($('file').files[0]) startSource('file', URL.createObjectURL($('file').files[0])); };
$('file').onchange = (e) => { $('source').value = 'file'; startSource('file', URL.createObjectURL(e.target.files[0])); };

// ---------------------------------------------------------------- start
(async () => {
  const modelUrl = new URL(params.get('model') || 'model/', location.href).href;
  let bg;
  try {
    bg = await resolveBackground(options.background);
  } catch (e) {
    showError('background', e.message);
    bg = { kind: 'blur', radius: 10 };
  }
  if (bg.kind === 'color') { $('background').value = 'color'; $('color').value = bg.color; }
  else if (bg.kind === 'image') $('background').value = 'image';
  worker.postMessage({ type: 'init', modelUrl, options: { ...options, background: bg } });
  try {
    await ready;
  } catch (e) {
    return;
  }
  const source = params.get('source') || 'camera';
  if (source === 'camera') await startSource('camera');
  else if (source === 'file' && params.get('video')) { $('source').value = 'file'; await startSource('file', params.get('video')); }
})();
