// Backgrounds and the alpha blend (deploy/python/compositing.py): the frame over a blurred copy
// of itself, a solid colour or an image scaled to cover the frame.

// "#RRGGBB" -> [r, g, b]
export function parseColor(spec) {
  const s = spec.replace(/^#/, '');
  if (!/^[0-9a-fA-F]{6}$/.test(s))
    throw new Error(`background ${JSON.stringify(spec)}: a colour must be written #RRGGBB, e.g. #00FF00`);
  return [0, 2, 4].map((i) => parseInt(s.slice(i, i + 2), 16));
}

export class Background {
  // spec: {kind: 'blur', radius} | {kind: 'color', color: '#RRGGBB'} | {kind: 'image', bitmap}
  constructor(spec) {
    this.spec = spec || { kind: 'blur', radius: 10 };
    if (this.spec.kind === 'color') this.rgb = parseColor(this.spec.color);
    else if (this.spec.kind === 'image' && !this.spec.bitmap)
      throw new Error('background image: no picture was given');
    else if (!['blur', 'color', 'image'].includes(this.spec.kind))
      throw new Error(`background kind ${JSON.stringify(this.spec.kind)}: use blur, color or image`);
    this.cache = null;
  }

  // RGBA pixels of the background for a frame (`bitmap` w x h); still ones are cached.
  pixels(bitmap, w, h) {
    if (this.spec.kind === 'color') {
      if (!this.cache || this.cache.length !== w * h * 4) {
        this.cache = new Uint8ClampedArray(w * h * 4);
        for (let i = 0; i < w * h; i++) this.cache.set([...this.rgb, 255], i * 4);
      }
      return this.cache;
    }
    if (this.spec.kind === 'image') {
      if (!this.cache || this.cache.length !== w * h * 4) {
        const img = this.spec.bitmap, scale = Math.max(w / img.width, h / img.height);
        const nw = img.width * scale, nh = img.height * scale;
        const ctx = new OffscreenCanvas(w, h).getContext('2d');
        ctx.drawImage(img, (w - nw) / 2, (h - nh) / 2, nw, nh);
        this.cache = ctx.getImageData(0, 0, w, h).data;
      }
      return this.cache;
    }
    // blur at a quarter of the size, as compositing.BlurBackground does
    const sw = Math.max(w >> 2, 1), sh = Math.max(h >> 2, 1);
    if (!this.small || this.small.canvas.width !== sw || this.small.canvas.height !== sh) {
      this.small = new OffscreenCanvas(sw, sh).getContext('2d');
      this.full = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true });
    }
    this.small.filter = `blur(${Math.max(this.spec.radius / 4, 1)}px)`;
    this.small.drawImage(bitmap, 0, 0, sw, sh);
    this.full.imageSmoothingEnabled = true;
    this.full.drawImage(this.small.canvas, 0, 0, w, h);
    return this.full.getImageData(0, 0, w, h).data;
  }
}

// out = alpha * frame + (1 - alpha) * background, in place into `out` (RGBA); alpha in 1/256
// steps, whole pixels through 32-bit views
export function blend(frame, alpha, background, out) {
  const f32 = new Uint32Array(frame.buffer, frame.byteOffset, alpha.length);
  const b32 = new Uint32Array(background.buffer, background.byteOffset, alpha.length);
  const o32 = new Uint32Array(out.buffer, out.byteOffset, alpha.length);
  for (let i = 0; i < alpha.length; i++) {
    const a = (alpha[i] * 256 + 0.5) | 0, b = 256 - a, f = f32[i], g = b32[i];
    const r = ((f & 0xff) * a + (g & 0xff) * b) >> 8;
    const gr = (((f >>> 8) & 0xff) * a + ((g >>> 8) & 0xff) * b) >> 8;
    const bl = (((f >>> 16) & 0xff) * a + ((g >>> 16) & 0xff) * b) >> 8;
    o32[i] = 0xff000000 | (bl << 16) | (gr << 8) | r;   // little-endian RGBA
  }
  return out;
}
