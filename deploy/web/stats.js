// Frame statistics of a page's main thread (the page and bench/web's MediaPipe page share it):
// fps over results, capture-to-display latency, per-stage times, time spent in our main-thread
// handlers and the browser's long tasks (> 50 ms); and masks encoded for the tests.
const STAGES = ['decode', 'preprocess', 'infer', 'postprocess', 'smooth', 'composite', 'total'];
const KEEP = 600;

function quantile(xs, q) {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

export class FrameStats {
  constructor() {
    this.reset();
    this.longTasks = 0;
    this.longTaskMs = 0;
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) { this.longTasks++; this.longTaskMs += e.duration; }
      }).observe({ type: 'longtask' });
    } catch (e) { /* no long-task timing in this browser */ }
  }

  reset() {
    Object.assign(this, { frames: 0, dropped: 0, latencies: [], timings: [], mainBusy: 0,
                          first: 0, last: 0, longTasks: 0, longTaskMs: 0 });
  }

  // fn, with the time it runs added to the main thread's busy time
  timed(fn) {
    return (...args) => {
      const t = performance.now();
      try { return fn(...args); } finally { this.mainBusy += performance.now() - t; }
    };
  }

  record(latencyMs, timings) {
    const t = performance.now();
    this.frames++;
    if (!this.first) this.first = t;
    this.last = t;
    if (latencyMs !== null) this.latencies.push(latencyMs);
    if (timings) this.timings.push(timings);
    if (this.latencies.length > KEEP) this.latencies.shift();
    if (this.timings.length > KEEP) this.timings.shift();
  }

  summary(extra = {}) {
    const stageMs = {};
    for (const k of STAGES) {
      const xs = this.timings.filter((t) => k in t);
      stageMs[k] = xs.length ? xs.reduce((a, t) => a + t[k], 0) / xs.length : 0;
    }
    const span = (this.last - this.first) / 1000;
    return {
      frames: this.frames, dropped: this.dropped, fps: span > 0 ? (this.frames - 1) / span : 0,
      latencyMs: { median: quantile(this.latencies, 0.5), p90: quantile(this.latencies, 0.9) },
      stageMs, mainBusyMs: this.mainBusy,
      mainBusyPerFrameMs: this.frames ? this.mainBusy / this.frames : 0,
      longTasks: this.longTasks, longTaskMs: this.longTaskMs, ...extra,
    };
  }
}

export function b64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// {alpha: uint8 0..255, mask: 0/1 where alpha > 0.5} of a float alpha
export function quantize(alpha) {
  const a8 = new Uint8Array(alpha.length), mask = new Uint8Array(alpha.length);
  for (let i = 0; i < alpha.length; i++) {
    a8[i] = Math.round(Math.min(Math.max(alpha[i], 0), 1) * 255);
    mask[i] = alpha[i] > 0.5 ? 1 : 0;
  }
  return { alpha: a8, mask };
}
