// The image operations prepare.js needs, written out as the Python libraries do them:
// Pillow's bilinear Image.resize with a box, SciPy's gaussian_filter and grey_dilation.
//
// A plain script (no libraries, no modules, so it also runs from file://) that defines one
// global, `ownnetFilters`. A picture is {h, w, v: Float32Array(h * w)}, row by row, and
// every result is stored in float32 as NumPy and Pillow store a float32 picture.
"use strict";

const ownnetFilters = (() => {
  const picture = (h, w, v) => ({ h, w, v: v || new Float32Array(h * w) });

  // zeros around: `top` rows above, `left` columns before, ...
  function pad(pic, top, left, bottom, right) {
    const out = picture(pic.h + top + bottom, pic.w + left + right);
    for (let y = 0; y < pic.h; y++) {
      out.v.set(pic.v.subarray(y * pic.w, (y + 1) * pic.w), (y + top) * out.w + left);
    }
    return out;
  }

  // rows top..bottom-1 and columns left..right-1
  function crop(pic, top, left, bottom, right) {
    const out = picture(bottom - top, right - left);
    for (let y = 0; y < out.h; y++) {
      const start = (top + y) * pic.w;
      out.v.set(pic.v.subarray(start + left, start + right), y * out.w);
    }
    return out;
  }

  const largest = (values) => values.reduce((a, v) => Math.max(a, v), -Infinity);

  // -- scipy.ndimage.gaussian_filter(x, sigma): truncated at 4 sigma, edges reflected -----------
  function gaussian(pic, sigma) {
    const radius = Math.floor(4 * sigma + 0.5);
    const raw = [];
    for (let k = -radius; k <= radius; k++) raw.push(Math.exp((-0.5 * k * k) / (sigma * sigma)));
    const total = raw.reduce((a, b) => a + b, 0);
    const weights = raw.map((v) => v / total);
    const reflect = (i, n) => { // d c b a | a b c d | d c b a
      while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
      return i;
    };
    // out[i] = sum of weights[k] * src[at(i + k - radius)] along `n` values `step` apart
    const along = (src, out, n, step, count, stride) => {
      const at = Array.from({ length: n + 2 * radius }, (_, i) => reflect(i - radius, n) * step);
      for (let line = 0; line < count; line++) {
        const base = line * stride;
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let k = 0; k <= 2 * radius; k++) s += weights[k] * src[base + at[i + k]];
          out[base + i * step] = s;
        }
      }
      return out;
    };
    const { h, w } = pic;
    const down = along(pic.v, new Float32Array(h * w), h, w, w, 1); // each column, top to bottom
    return picture(h, w, along(down, new Float32Array(h * w), w, 1, h, w)); // then each row
  }

  // -- Pillow's Image.resize((outW, outH), BILINEAR, box) of a float ("F") picture --------------
  // Each output pixel is a weighted mean of the input pixels under a triangle around its
  // centre, as wide as one output pixel (at least one input pixel) either side: an
  // anti-aliased reduction. Rows first, then columns, as Pillow's Resample.c does.
  function coefficients(inSize, in0, in1, outSize) {
    [in0, in1] = [Math.fround(in0), Math.fround(in1)]; // Pillow takes the box as float32
    const scale = Math.fround(in1 - in0) / outSize;
    const filterscale = Math.max(scale, 1);
    const support = filterscale; // the bilinear filter reaches 1 pixel either side
    const ss = 1 / filterscale;
    const taps = [];
    for (let o = 0; o < outSize; o++) {
      const centre = in0 + (o + 0.5) * scale;
      const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
      const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
      const weights = [];
      for (let x = lo; x < hi; x++) {
        weights.push(Math.max(1 - Math.abs((x - centre + 0.5) * ss), 0)); // a triangle
      }
      const total = weights.reduce((a, v) => a + v, 0);
      taps.push({ lo, weights: total ? weights.map((v) => v / total) : weights });
    }
    return taps;
  }

  // box [x0, y0, x1, y1]: the part of `pic` that becomes the output (default: all of it)
  function resize(pic, outW, outH, box) {
    const [x0, y0, x1, y1] = box || [0, 0, pic.w, pic.h];
    const across = coefficients(pic.w, x0, x1, outW);
    const down = coefficients(pic.h, y0, y1, outH);
    const rows = picture(pic.h, outW);
    for (let y = 0; y < pic.h; y++) {
      across.forEach(({ lo, weights }, x) => {
        let s = 0;
        weights.forEach((k, t) => { s += pic.v[y * pic.w + lo + t] * k; });
        rows.v[y * outW + x] = s;
      });
    }
    const out = picture(outH, outW);
    down.forEach(({ lo, weights }, y) => {
      for (let x = 0; x < outW; x++) {
        let s = 0;
        weights.forEach((k, t) => { s += rows.v[(lo + t) * outW + x] * k; });
        out.v[y * outW + x] = s;
      }
    });
    return out;
  }

  // -- scipy.ndimage.grey_dilation(pic, footprint=disk of `radius`): the largest value around ---
  function dilateDisk(pic, radius) {
    const r = Math.ceil(radius);
    const out = picture(pic.h, pic.w);
    for (let y = 0; y < pic.h; y++) {
      for (let x = 0; x < pic.w; x++) {
        let m = -Infinity;
        for (let dy = -r; dy <= r; dy++) {
          for (let dx = -r; dx <= r; dx++) {
            const [yy, xx] = [y + dy, x + dx];
            if (dy * dy + dx * dx > radius * radius + 0.25) continue;
            if (yy < 0 || yy >= pic.h || xx < 0 || xx >= pic.w) continue;
            m = Math.max(m, pic.v[yy * pic.w + xx]);
          }
        }
        out.v[y * pic.w + x] = m;
      }
    }
    return out;
  }

  return { picture, pad, crop, largest, gaussian, resize, dilateDisk };
})();

if (typeof module !== "undefined") module.exports = ownnetFilters;
