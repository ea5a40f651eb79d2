// The per-frame arithmetic of deploy/python, ported so that the page's masks equal video.py's:
// letterbox (compositing.letterbox), the deploy.yaml Resize + Normalize (preprocess.py, with
// OpenCV's INTER_LINEAR / INTER_AREA rules), the alpha from the network output mapped back to
// the frame (compositing.alpha_from_output + preprocess.reverse) and the motion-adaptive EMA
// (smoothing.EmaSmoother). Pure functions on typed arrays: no DOM, no onnxruntime.

export const LETTERBOX_VALUE = 127;

// compositing.letterbox: (top, bottom, left, right) padding to the width/height ratio `aspect`
export function letterboxPads(w, h, aspect) {
  if (!aspect) return [0, 0, 0, 0];
  let pads;
  if (w / h > aspect) {
    const pad = Math.max(Math.round(w / aspect) - h, 0);
    pads = [Math.floor(pad / 2), pad - Math.floor(pad / 2), 0, 0];
  } else {
    const pad = Math.max(Math.round(h * aspect) - w, 0);
    pads = [0, 0, Math.floor(pad / 2), pad - Math.floor(pad / 2)];
  }
  if (pads[0] + pads[1] <= 1 && pads[2] + pads[3] <= 1) return [0, 0, 0, 0];
  return pads;
}

// Python rounds half to even (round()); Math.round rounds half up.
function pyRound(x) {
  const r = Math.round(x);
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0) ? r - 1 : r;
}
export { pyRound };

// One axis of cv2.resize INTER_LINEAR: source index and weight of the left tap per output index.
function linearTaps(src, dst) {
  const scale = 1 / (dst / src);
  const idx = new Int32Array(dst);
  const wgt = new Float32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f -= s;
    if (s < 0) { f = 0; s = 0; }
    if (s >= src - 1) { f = 0; s = src - 1; }
    idx[d] = s;
    wgt[d] = f;
  }
  return { idx, wgt };
}

// cv2.resize of a planar float32 image (c planes of sh x sw) to dh x dw, INTER_LINEAR (with
// OpenCV's switch to INTER_AREA for an exact 2x downscale), keeping only output rows
// [r0, r1) and columns [c0, c1) (the un-letterbox crop, computed without the padded rest).
export function resizeLinear(src, c, sh, sw, dh, dw, crop = null) {
  const [r0, r1, c0, c1] = crop || [0, dh, 0, dw];
  const oh = r1 - r0, ow = c1 - c0;
  const out = new Float32Array(c * oh * ow);
  if (sh === dh && sw === dw) {
    for (let k = 0; k < c; k++)
      for (let y = 0; y < oh; y++)
        out.set(src.subarray(k * sh * sw + (y + r0) * sw + c0, k * sh * sw + (y + r0) * sw + c1),
                k * oh * ow + y * ow);
    return out;
  }
  if (sh === 2 * dh && sw === 2 * dw) {
    for (let k = 0; k < c; k++) {
      const p = k * sh * sw;
      for (let y = 0; y < oh; y++) {
        const a = p + 2 * (y + r0) * sw, b = a + sw;
        for (let x = 0; x < ow; x++) {
          const sx = 2 * (x + c0);
          out[k * oh * ow + y * ow + x] = (src[a + sx] + src[a + sx + 1] + src[b + sx] +
                                           src[b + sx + 1]) * 0.25;
        }
      }
    }
    return out;
  }
  // separable: each needed source row interpolated horizontally once, then rows blended
  const tx = linearTaps(sw, dw), ty = linearTaps(sh, dh);
  const x0 = new Int32Array(ow), x1 = new Int32Array(ow), fx = new Float32Array(ow);
  for (let x = 0; x < ow; x++) {
    x0[x] = tx.idx[x + c0]; x1[x] = Math.min(x0[x] + 1, sw - 1); fx[x] = tx.wgt[x + c0];
  }
  const ylo = ty.idx[r0], yhi = Math.min(ty.idx[r1 - 1] + 1, sh - 1);
  const rows = new Float32Array((yhi - ylo + 1) * ow);
  for (let k = 0; k < c; k++) {
    const p = k * sh * sw, q = k * oh * ow;
    for (let sy = ylo; sy <= yhi; sy++) {
      const a = p + sy * sw, r = (sy - ylo) * ow;
      for (let x = 0; x < ow; x++) {
        const v0 = src[a + x0[x]];
        rows[r + x] = v0 + (src[a + x1[x]] - v0) * fx[x];
      }
    }
    for (let y = 0; y < oh; y++) {
      const sy = ty.idx[y + r0], fy = ty.wgt[y + r0];
      const a = (sy - ylo) * ow, b = (Math.min(sy + 1, sh - 1) - ylo) * ow, o = q + y * ow;
      for (let x = 0; x < ow; x++) {
        const top = rows[a + x];
        out[o + x] = top + (rows[b + x] - top) * fy;
      }
    }
  }
  return out;
}

// The network input: letterboxed RGBA frame -> [1, 3, netH, netW] float32 in the network's
// colour order, resized (cv2 rules) and normalised as deploy.yaml says.
export function preprocess(rgba, w, h, plan) {
  const pads = letterboxPads(w, h, plan.aspect);
  const [top, bottom, left, right] = pads;
  const ph = h + top + bottom, pw = w + left + right;
  const [nw, nh] = plan.netSize;
  const order = plan.colorOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  // the letterboxed frame, sampled where the resize reads it (grey outside the frame)
  const at = (y, x, k) => {
    const fy = y - top, fx = x - left;
    return fy < 0 || fy >= h || fx < 0 || fx >= w ? LETTERBOX_VALUE : rgba[(fy * w + fx) * 4 + order[k]];
  };
  const n = nh * nw, x = new Float32Array(3 * n);
  if (ph === nh && pw === nw) {
    for (let k = 0; k < 3; k++)
      for (let y = 0; y < nh; y++) for (let i = 0; i < nw; i++) x[k * n + y * nw + i] = at(y, i, k);
  } else if (ph === 2 * nh && pw === 2 * nw) {   // OpenCV: INTER_AREA for an exact 2x downscale
    for (let k = 0; k < 3; k++)
      for (let y = 0; y < nh; y++)
        for (let i = 0; i < nw; i++)
          x[k * n + y * nw + i] = (at(2 * y, 2 * i, k) + at(2 * y, 2 * i + 1, k) +
                                   at(2 * y + 1, 2 * i, k) + at(2 * y + 1, 2 * i + 1, k)) * 0.25;
  } else {
    const tx = linearTaps(pw, nw), ty = linearTaps(ph, nh);
    for (let y = 0; y < nh; y++) {
      const y0 = ty.idx[y], y1 = Math.min(y0 + 1, ph - 1), fy = ty.wgt[y];
      for (let i = 0; i < nw; i++) {
        const x0 = tx.idx[i], x1 = Math.min(x0 + 1, pw - 1), fx = tx.wgt[i];
        for (let k = 0; k < 3; k++) {
          const t = at(y0, x0, k) * (1 - fx) + at(y0, x1, k) * fx;
          const b = at(y1, x0, k) * (1 - fx) + at(y1, x1, k) * fx;
          x[k * n + y * nw + i] = t * (1 - fy) + b * fy;
        }
      }
    }
  }
  for (let k = 0; k < 3; k++) {
    // preprocess.py: x * (1 / (255 * std)) + (-mean / std), per channel
    const scale = Math.fround(1 / (255 * plan.std[k])), offset = Math.fround(-plan.mean[k] / plan.std[k]);
    for (let i = k * n; i < (k + 1) * n; i++) x[i] = Math.fround(x[i] * scale) + offset;
  }
  return { x, pads, padded: [ph, pw] };
}

// 1 / (1 + exp(-d)) from a table (Math.exp per pixel costs more than the rest of the frame's
// post-processing): linear interpolation, step 1/256 on [-16, 16], error < 2e-6; exactly 0.5 at
// 0 and monotonic, so alpha > 0.5 is exactly d > 0, as in Python.
const SIG_RANGE = 16, SIG_STEPS = 256;
const SIG = new Float64Array(2 * SIG_RANGE * SIG_STEPS + 2);
for (let i = 0; i < SIG.length; i++) SIG[i] = 1 / (1 + Math.exp(-(i / SIG_STEPS - SIG_RANGE)));
export function sigmoid(d) {
  if (d <= -SIG_RANGE) return 1 / (1 + Math.exp(-d));
  if (d >= SIG_RANGE) return 1 / (1 + Math.exp(-d));
  const x = (d + SIG_RANGE) * SIG_STEPS, i = x | 0, f = x - i;
  return SIG[i] + (SIG[i + 1] - SIG[i]) * f;
}

// compositing.alpha_from_output through preprocess.reverse and unletterbox: the foreground alpha
// (1 - P(class 0)) at the frame size from one network output [C, oh, ow] (or [oh, ow] labels).
export function alphaFromOutput(data, dims, op, pads, padded, w, h) {
  const [top, , left] = pads;
  const [ph, pw] = padded;
  const crop = [top, top + h, left, left + w];
  const oh = dims[dims.length - 2], ow = dims[dims.length - 1];
  const C = dims.length === 4 ? dims[1] : 1;
  const n = oh * ow;
  if (op === 'argmax') {
    const fg = new Float32Array(n);
    for (let i = 0; i < n; i++) fg[i] = Number(data[i]) !== 0 ? 1 : 0;
    return resizeLinear(fg, 1, oh, ow, ph, pw, crop);
  }
  const logit = op === 'softmax' ? (v) => Math.log(Math.max(v, 1e-30)) : (v) => v;
  if (C === 2) {
    const d = new Float32Array(n);
    if (op === 'softmax')   // log(p1) - log(p0) with one log
      for (let i = 0; i < n; i++) d[i] = Math.log(Math.max(data[n + i], 1e-30) / Math.max(data[i], 1e-30));
    else for (let i = 0; i < n; i++) d[i] = data[n + i] - data[i];
    const a = resizeLinear(d, 1, oh, ow, ph, pw, crop);
    for (let i = 0; i < a.length; i++) a[i] = sigmoid(a[i]);
    return a;
  }
  const logits = new Float32Array(C * n);
  for (let i = 0; i < C * n; i++) logits[i] = logit(data[i]);
  const r = resizeLinear(logits, C, oh, ow, ph, pw, crop);
  const m = w * h, a = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    let mx = -Infinity;
    for (let k = 0; k < C; k++) mx = Math.max(mx, r[k * m + i]);
    let sum = 0;
    for (let k = 0; k < C; k++) sum += Math.exp(r[k * m + i] - mx);
    a[i] = 1 - Math.exp(r[i] - mx) / sum;
  }
  return a;
}

// cv2.cvtColor(BGR2GRAY) on uint8: fixed point, 14 bits
export function grayOf(rgba, w, h) {
  const g = new Uint8Array(w * h);
  for (let i = 0, j = 0; i < g.length; i++, j += 4)
    g[i] = (rgba[j] * 4899 + rgba[j + 1] * 9617 + rgba[j + 2] * 1868 + 8192) >> 14;
  return g;
}

// cv2.resize INTER_AREA of a uint8 plane (smoothing._gray_small's downscale)
function areaU8(src, sh, sw, dh, dw) {
  const out = new Uint8Array(dh * dw);
  const kx = sw / dw, ky = sh / dh;
  if (Number.isInteger(kx) && Number.isInteger(ky)) {
    const area = kx * ky;
    for (let y = 0; y < dh; y++)
      for (let x = 0; x < dw; x++) {
        let s = 0;
        for (let j = 0; j < ky; j++)
          for (let i = 0; i < kx; i++) s += src[(y * ky + j) * sw + x * kx + i];
        out[y * dw + x] = kx === 2 && ky === 2 ? (s + 2) >> 2 : Math.round(s / area);
      }
    return out;
  }
  const taps = (s, d, k) => {  // per output index: [[source index, weight], ...]
    const t = [];
    for (let o = 0; o < d; o++) {
      const a = o * k, b = a + k, row = [];
      for (let i = Math.floor(a); i < Math.min(Math.ceil(b), s); i++) {
        const wgt = Math.min(b, i + 1) - Math.max(a, i);
        if (wgt > 1e-6) row.push([i, wgt / k]);
      }
      t.push(row);
    }
    return t;
  };
  const tx = taps(sw, dw, kx), ty = taps(sh, dh, ky);
  for (let y = 0; y < dh; y++)
    for (let x = 0; x < dw; x++) {
      let s = 0;
      for (const [j, wy] of ty[y]) for (const [i, wx] of tx[x]) s += src[j * sw + i] * wy * wx;
      out[y * dw + x] = Math.min(255, Math.round(s));
    }
  return out;
}

// smoothing._gray_small: the grey frame at most `width` wide
export function graySmall(rgba, w, h, width) {
  const g = grayOf(rgba, w, h);
  if (w <= width) return { g, gw: w, gh: h };
  const gh = Math.max(pyRound(h * width / w), 1);
  return { g: areaU8(g, h, w, gh, width), gw: width, gh };
}

// cv2.blur(diff, (3, 3)) on uint8 with BORDER_REFLECT_101 (separable integer sums)
function box3(src, h, w) {
  const out = new Uint8Array(w * h);
  const rf = (i, n) => (n === 1 ? 0 : i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);
  const xl = new Int32Array(w), xr = new Int32Array(w);
  for (let x = 0; x < w; x++) { xl[x] = rf(x - 1, w); xr[x] = rf(x + 1, w); }
  const rowSum = new Uint16Array(w * h);
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) rowSum[r + x] = src[r + xl[x]] + src[r + x] + src[r + xr[x]];
  }
  for (let y = 0; y < h; y++) {
    const a = rf(y - 1, h) * w, b = y * w, c = rf(y + 1, h) * w;
    for (let x = 0; x < w; x++) out[b + x] = Math.round((rowSum[a + x] + rowSum[b + x] + rowSum[c + x]) / 9);
  }
  return out;
}

// smoothing.EmaSmoother: alpha_t = prev + w * (new - prev), w = clip(weight + gain * motion,
// weight, 1) with motion the blurred grey-level change (0..1) at `motionWidth`, resized to the
// alpha. `weight` is the lag-versus-flicker knob (lower: smoother, more lag).
export class EmaSmoother {
  constructor(weight = 0.1, gain = 8.0, motionWidth = 320) {
    if (!(weight > 0 && weight <= 1)) throw new Error(`smoothing weight must be in (0, 1]; got ${weight}`);
    this.weight = weight; this.gain = gain; this.motionWidth = motionWidth;
    this.reset();
  }

  reset() { this.prevAlpha = null; this.prevGray = null; }

  apply(alpha, rgba, w, h) {
    const { g, gw, gh } = graySmall(rgba, w, h, this.motionWidth);
    const prev = this.prevAlpha, pg = this.prevGray;
    let out = alpha;
    if (prev && prev.w === w && prev.h === h && pg.gw === gw && pg.gh === gh) {
      const diff = new Uint8Array(gw * gh);
      for (let i = 0; i < diff.length; i++) diff[i] = Math.abs(g[i] - pg.g[i]);
      const blurred = box3(diff, gh, gw);
      let wt = new Float32Array(gw * gh);
      const weight = Math.fround(this.weight), gain = Math.fround(this.gain);
      for (let i = 0; i < wt.length; i++) {
        const v = Math.fround(weight + Math.fround(gain * Math.fround(blurred[i] / 255)));
        wt[i] = Math.min(Math.max(v, weight), 1);
      }
      if (gw !== w || gh !== h) wt = resizeLinear(wt, 1, gh, gw, h, w);
      out = new Float32Array(alpha.length);
      const p = prev.a;
      for (let i = 0; i < out.length; i++) out[i] = p[i] + wt[i] * (alpha[i] - p[i]);
    }
    this.prevAlpha = { a: out, w, h };
    this.prevGray = { g, gw, gh };
    return out;
  }
}

export class NoSmoother {
  reset() {}
  apply(alpha) { return alpha; }
}

export function makeSmoother(mode, weight) {
  if (mode === 'none') return new NoSmoother();
  if (mode === 'ema') return new EmaSmoother(weight);
  throw new Error(`smoothing "${mode}" is not available in the page: use none or ema ` +
                  '(flow smoothing needs OpenCV\'s DIS optical flow: deploy/python/video.py)');
}
