// A drawing or photo (canvas ImageData) -> the MNIST-style 28x28 input, in the browser.
//
// The steps a clean drawing needs, as ownnet.data.images did them before it learnt pages,
// local light, ruled lines, slant and stroke thinning (tests/browser_prepare_reference.py
// is the same in NumPy, and the tests check both give the same pixels): greyscale; a
// background plane fitted to the border, whose brightness decides the polarity (dark ink
// on light paper or light on dark); faint noise and specks removed; crop to the ink;
// strokes thinner than almost any in MNIST widened; the longer side scaled to 20 px and
// the centre of mass placed at pixel (14, 14), in one anti-aliased resampling. With a
// server, the page asks it instead (/api/prepare: the full preparation).
//
// A plain script after image-filters.js; one global:
//
//   ownnetPrepare.prepare(imageData) -> {pixels: Uint8Array(784) 0..255,
//                                        box: [top, left, bottom, right] of the ink}
//
// It throws an Error whose `noInk` is true for a blank picture.
"use strict";

const ownnetPrepare = (() => {
  const { picture, pad, crop, largest, gaussian, resize, dilateDisk } =
    typeof ownnetFilters !== "undefined" ? ownnetFilters : require("./image-filters.js");
  const SIZE = 28; // side of the prepared image
  const BOX = 20; // side of the box the ink is scaled into
  const CENTRE = 14; // the pixel the centre of mass is placed on
  const MAX_WORKING_SIDE = 1200; // larger pictures are first reduced by area averaging
  const MIN_CONTRAST = 0.08; // the weakest contrast (0..1) that counts as ink
  const MIN_COMPONENT_SHARE = 0.02; // specks with less of the ink than this are dropped
  const MIN_STROKE = 1.6; // thinner strokes (output pixels) are widened to this
  const FINE = 4; // widening works at this many times the output resolution

  function noInk(message) {
    const error = new Error(message);
    error.noInk = true;
    return error;
  }

  function roundHalfEven(x) { // Python's and NumPy's round
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  function median(values) {
    const s = Float64Array.from(values).sort();
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  // -- 1. greyscale 0..1; in a picture with transparency the transparent part is background ----
  function readGrey({ width: w, height: h, data }) {
    const grey = picture(h, w);
    const alpha = new Float32Array(h * w);
    const unit = (k) => Math.fround(data[k] / 255); // as NumPy makes float32 of uint8 / 255
    for (let i = 0; i < h * w; i++) {
      grey.v[i] = 0.299 * unit(4 * i) + 0.587 * unit(4 * i + 1) + 0.114 * unit(4 * i + 2);
      alpha[i] = unit(4 * i + 3);
    }
    if (alpha.every((a) => a >= 1)) return grey;
    let [weight, inked] = [0, 0];
    alpha.forEach((a, i) => { weight += a; inked += grey.v[i] * a; });
    if (weight <= 0) return picture(h, w); // fully transparent: blank
    const paper = inked / weight < 0.5 ? 1 : 0; // the opposite of the ink
    alpha.forEach((a, i) => { grey.v[i] = a * grey.v[i] + (1 - a) * paper; });
    return grey;
  }

  function reduce(grey) { // a very large picture, averaged over factor x factor blocks
    const factor = Math.ceil(Math.max(grey.h, grey.w) / MAX_WORKING_SIDE);
    if (factor <= 1) return { grey, factor: 1 };
    const out = picture(Math.floor(grey.h / factor), Math.floor(grey.w / factor));
    for (let y = 0; y < out.h; y++) {
      for (let x = 0; x < out.w; x++) {
        let s = 0;
        for (let dy = 0; dy < factor; dy++) {
          const row = (y * factor + dy) * grey.w + x * factor;
          for (let dx = 0; dx < factor; dx++) s += grey.v[row + dx];
        }
        out.v[y * out.w + x] = s / (factor * factor);
      }
    }
    return { grey: out, factor };
  }

  // -- 2. background: a plane a + b*y + c*x fitted robustly to the border, and its noise ---------
  function solve3(m, r) { // m x = r for a 3x3 m by elimination; a vanishing pivot gives 0
    const a = m.map((row, i) => [...row, r[i]]);
    for (let c = 0; c < 3; c++) {
      let p = c;
      for (let i = c + 1; i < 3; i++) if (Math.abs(a[i][c]) > Math.abs(a[p][c])) p = i;
      [a[c], a[p]] = [a[p], a[c]];
      if (Math.abs(a[c][c]) < 1e-12) continue;
      for (let i = 0; i < 3; i++) {
        const k = i === c ? 0 : a[i][c] / a[c][c];
        for (let j = c; j < 4; j++) a[i][j] -= k * a[c][j];
      }
    }
    return a.map((row, i) => (Math.abs(row[i]) < 1e-12 ? 0 : row[3] / row[i]));
  }

  function fitPlane(rows, keep) { // least squares over the kept rows [1, y, x, value]
    const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    const r = [0, 0, 0];
    rows.forEach((d, k) => {
      if (!keep[k]) return;
      for (let i = 0; i < 3; i++) {
        r[i] += d[i] * d[3];
        for (let j = 0; j < 3; j++) m[i][j] += d[i] * d[j];
      }
    });
    return solve3(m, r);
  }

  function background(grey) {
    const { h, w } = grey;
    const b = Math.max(1, roundHalfEven(0.02 * Math.min(h, w))); // border width
    const [ny, nx] = [(y) => y / Math.max(h - 1, 1) - 0.5, (x) => x / Math.max(w - 1, 1) - 0.5];
    const rows = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const border = y < b || y >= h - b || x < b || x >= w - b;
        if (border) rows.push([1, ny(y), nx(x), grey.v[y * w + x]]);
      }
    }
    const residuals = (c) => rows.map((d) => d[3] - (c[0] + c[1] * d[1] + c[2] * d[2]));
    const spread = (r, keep) => { // 1.4826 * the median absolute deviation of the kept ones
      const kept = r.filter((_, k) => keep[k]);
      const mid = median(kept);
      return 1.4826 * median(kept.map((v) => Math.abs(v - mid)));
    };
    let keep = rows.map(() => true);
    let coef = [median(rows.map((d) => d[3])), 0, 0];
    for (let round = 0; round < 3; round++) { // refit without the outliers (ink on the border)
      if (keep.filter(Boolean).length < 3) break;
      coef = fitPlane(rows, keep);
      const r = residuals(coef);
      const mad = spread(r, keep);
      keep = r.map((v) => Math.abs(v) <= Math.max(3 * mad, 0.02));
    }
    const noise = keep.some(Boolean) ? spread(residuals(coef), keep) : 0;
    const plane = picture(h, w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) plane.v[y * w + x] = coef[0] + coef[1] * ny(y) + coef[2] * nx(x);
    }
    return { plane, noise };
  }

  function isDarkOnLight(grey, plane) { // a light background means dark ink
    const level = plane.v.reduce((a, v) => a + v, 0) / plane.v.length;
    if (level >= 0.7) return true;
    if (level <= 0.3) return false;
    const smooth = gaussian(picture(grey.h, grey.w, grey.v.map((v, i) => v - plane.v[i])), 1);
    return -smooth.v.reduce((a, v) => Math.min(a, v), Infinity) >= largest(smooth.v);
  }

  // -- 3. the ink: faint noise and specks far from the digit removed ------------------------------
  function components(mask, h, w) { // 8-connected parts, numbered 1.. in raster order
    const labels = new Int32Array(h * w);
    let n = 0;
    for (let start = 0; start < h * w; start++) {
      if (!mask[start] || labels[start]) continue;
      labels[start] = ++n;
      const stack = [start];
      while (stack.length) {
        const i = stack.pop();
        const [y, x] = [Math.floor(i / w), i % w];
        for (let yy = Math.max(y - 1, 0); yy <= Math.min(y + 1, h - 1); yy++) {
          for (let xx = Math.max(x - 1, 0); xx <= Math.min(x + 1, w - 1); xx++) {
            const j = yy * w + xx;
            if (mask[j] && !labels[j]) { labels[j] = n; stack.push(j); }
          }
        }
      }
    }
    return { labels, n };
  }

  function growBox(box, y, x) { // [top, left, bottom, right], bottom and right exclusive
    [box[0], box[1]] = [Math.min(box[0], y), Math.min(box[1], x)];
    [box[2], box[3]] = [Math.max(box[2], y + 1), Math.max(box[3], x + 1)];
  }

  // keep the parts holding 10% of the ink of the largest, or 2% of all ink and lying near it
  // (within a quarter of its size): a detached bar of a 5 stays, dust in a corner goes
  function dropSpecks(labels, n, smooth) {
    const mass = new Float64Array(n + 1);
    const boxes = Array.from({ length: n + 1 }, () => [Infinity, Infinity, -1, -1]);
    labels.forEach((k, i) => {
      if (!k) return;
      mass[k] += smooth.v[i];
      growBox(boxes[k], Math.floor(i / smooth.w), i % smooth.w);
    });
    let big = 1;
    for (let k = 2; k <= n; k++) if (mass[k] > mass[big]) big = k;
    const [t, l, b, r] = boxes[big];
    const reach = 0.25 * Math.max(b - t, r - l);
    const all = mass.reduce((a, v) => a + v, 0);
    const keep = mass.map((m, k) => {
      const [kt, kl, kb, kr] = boxes[k];
      const near = Math.max(t - kb, kt - b, l - kr, kl - r, 0) <= reach;
      return k > 0 && (m >= 0.1 * mass[big] || (near && m >= MIN_COMPONENT_SHARE * all)) ? 1 : 0;
    });
    return labels.map((k) => keep[k]);
  }

  function cleanInk(signed, noise) {
    const { h, w } = signed;
    const raw = picture(h, w, signed.v.map((v) => Math.max(v, 0)));
    const smooth = gaussian(raw, 1);
    const peak = largest(smooth.v);
    const noiseSmooth = noise / (2 * Math.sqrt(Math.PI)); // a Gaussian of sigma 1 on white noise
    const needed = Math.max(MIN_CONTRAST, 6 * noiseSmooth);
    if (peak < needed) {
      throw noInk(
        `no ink found (the strongest mark differs from the background by ${peak.toFixed(3)} ` +
        `of full contrast; at least ${needed.toFixed(3)} is needed) - is the image blank?`);
    }
    const threshold = Math.fround(Math.max(0.2 * peak, 4 * noiseSmooth));
    let mask = smooth.v.map((v) => (v > threshold ? 1 : 0));
    const { labels, n } = components(mask, h, w);
    if (n > 1) mask = dropSpecks(labels, n, smooth);
    const core = raw.v.filter((v, i) => mask[i] && smooth.v[i] > Math.fround(0.5 * peak));
    const level = Math.max(core.length ? median(core) : peak, peak); // the solid ink level
    const floor = Math.min(2 * noise, 0.25 * level);
    const span = Math.max(level - floor, 1e-6);
    const strength = (v) => Math.min(Math.max((v - floor) / span, 0), 1);
    const ink = picture(h, w, raw.v.map((v, i) => strength(v) * mask[i]));
    const box = [Infinity, Infinity, -1, -1];
    ink.v.forEach((v, i) => { if (v >= 0.04) growBox(box, Math.floor(i / w), i % w); });
    if (box[2] < 0) throw noInk("no ink found (only faint marks after removing noise)");
    return { ink, box };
  }

  // -- 4. thin strokes widened (a grey dilation with a disk, at 4x the output scale) ------------
  function strokeWidth(pic) { // 2 * area / perimeter; the perimeter from the gradient magnitude
    const p = pad(pic, 1, 1, 1, 1);
    const at = (y, x) => p.v[y * p.w + x];
    const slope = (n, i, f) => // numpy.gradient: central inside, one-sided at the ends
      i === 0 ? f(1) - f(0) : i === n - 1 ? f(n - 1) - f(n - 2) : (f(i + 1) - f(i - 1)) / 2;
    let [area, perimeter] = [0, 0];
    for (let y = 0; y < p.h; y++) {
      for (let x = 0; x < p.w; x++) {
        area += at(y, x);
        perimeter += Math.hypot(slope(p.h, y, (k) => at(k, x)), slope(p.w, x, (k) => at(y, k)));
      }
    }
    return perimeter > 0 ? (2 * area) / perimeter : 0;
  }

  function thicken(ink, scale) { // -> {ink, scale}: scale is output pixels per ink pixel
    const fine = FINE * scale;
    const [w, h] = [Math.ceil(ink.w * fine), Math.ceil(ink.h * fine)];
    const margin = Math.ceil(1 / fine) + 1;
    let small = resize(pad(ink, 0, 0, margin, margin), w, h, [0, 0, w / fine, h / fine]);
    const top = Math.max(largest(small.v), 1e-6);
    small = picture(h, w, small.v.map((v) => v / top));
    const width = strokeWidth(small);
    const target = MIN_STROKE * FINE;
    if (width >= target) return { ink, scale };
    const radius = (target - width) / 2;
    const r = Math.ceil(radius); // zeros around, so that the disk never leaves the picture
    return { ink: dilateDisk(pad(small, r + 1, r + 1, r + 1, r + 1), radius), scale: 1 / FINE };
  }

  // -- 5. the longer side to 20 px, the centre of mass at (14, 14), in 28x28 --------------------
  function place(ink, box) {
    const boxed = crop(ink, ...box);
    const { ink: pic, scale } = thicken(boxed, BOX / Math.max(boxed.h, boxed.w));
    let [mass, my, mx] = [0, 0, 0];
    pic.v.forEach((v, i) => { mass += v; my += v * Math.floor(i / pic.w); mx += v * (i % pic.w); });
    const [cy, cx] = [my / mass + 0.5, mx / mass + 0.5]; // pixel i covers [i, i + 1]
    const target = CENTRE + 0.5; // the centre of output pixel 14
    const [x0, x1] = [cx - target / scale, cx + (SIZE - target) / scale];
    const [y0, y1] = [cy - target / scale, cy + (SIZE - target) / scale];
    const p = Math.ceil(Math.max(-x0, -y0, x1 - pic.w, y1 - pic.h, 0)) + 2;
    const out = resize(pad(pic, p, p, p, p), SIZE, SIZE, [x0 + p, y0 + p, x1 + p, y1 + p]);
    const peak = Math.max(largest(out.v), 0);
    if (peak <= 0) throw noInk("no ink found after scaling");
    return Uint8Array.from(out.v, (v) => roundHalfEven(Math.min(Math.max(v, 0) / peak, 1) * 255));
  }

  function prepare(imageData) {
    if (!imageData || !imageData.width || !imageData.height || !imageData.data) {
      throw new Error("expected the ImageData of a picture (width, height and RGBA data)");
    }
    const { grey, factor } = reduce(readGrey(imageData));
    const { plane, noise } = background(grey);
    const dark = isDarkOnLight(grey, plane);
    const contrast = (v, i) => (dark ? plane.v[i] - v : v - plane.v[i]); // ink > 0
    const signed = picture(grey.h, grey.w, grey.v.map(contrast));
    const { ink, box } = cleanInk(signed, noise);
    return { pixels: place(ink, box), box: box.map((v) => v * factor) }; // in the picture's pixels
  }

  return { prepare, strokeWidth };
})();

if (typeof module !== "undefined") module.exports = ownnetPrepare;
