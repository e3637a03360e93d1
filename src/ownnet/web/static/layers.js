// The layers of ownnet's matrix engine in the browser: forward and backward, one sample at a time.
//
// A plain script (no libraries, no modules, so it also runs from file://) that defines one
// global, `ownnetLayers`, used by forward.js. Each layer is built from its spec (what
// `layer.spec()` gives in Python, ownnet/nn/*.py), its stored arrays and its input shape:
//
//   const dense = new ownnetLayers.LAYERS.Dense({units: 10, activation: {name: "softmax"}},
//                                               {W: {shape: [784, 10], data}, b: ...}, [784]);
//   const y = dense.forward(x);     // keeps what backward needs
//   const gx = dense.backward(gy);  // dL/dx from dL/dy
//
// Values are Float32Array (sums are taken in double precision and stored as float32, as the
// matrix engine stores them). Image layers keep one sample as (channels, height, width),
// row-major: PyTorch's order and the order of `Flatten` in ownnet/nn/flatten.py.
"use strict";

const ownnetLayers = (() => {
  // -- activations: y = f(z) elementwise, and dL/dz from g = dL/dy and the output y ------------
  // (as ownnet/nn/activations.py: every derivative is taken from the output y)
  function activation(spec) {
    const name = spec == null ? "linear" : typeof spec === "string" ? spec : spec.name;
    const alpha = spec && spec.alpha !== undefined ? spec.alpha : 0.01;
    const acts = {
      linear: { forward: (z) => z, backward: (g) => g },
      sigmoid: {
        forward: (z) => z.map((v) => 1 / (1 + Math.exp(-v))),
        backward: (g, y) => g.map((v, i) => v * y[i] * (1 - y[i])),
      },
      tanh: {
        forward: (z) => z.map(Math.tanh),
        backward: (g, y) => g.map((v, i) => v * (1 - y[i] * y[i])),
      },
      relu: {
        forward: (z) => z.map((v) => (v > 0 ? v : 0)),
        backward: (g, y) => g.map((v, i) => (y[i] > 0 ? v : 0)),
      },
      leaky_relu: {
        forward: (z) => z.map((v) => (v > 0 ? v : alpha * v)),
        backward: (g, y) => g.map((v, i) => (y[i] > 0 ? v : alpha * v)),
      },
      softmax: {
        forward(z) {
          let top = -Infinity;
          for (const v of z) top = Math.max(top, v);
          const e = z.map((v) => Math.exp(v - top));
          let sum = 0;
          for (const v of e) sum += v;
          return e.map((v) => v / sum);
        },
        backward(g, y) { // dL/dz = y * (g - sum(g * y))
          let dot = 0;
          for (let i = 0; i < g.length; i++) dot += g[i] * y[i];
          return g.map((v, i) => y[i] * (v - dot));
        },
      },
    };
    if (!(name in acts)) throw new Error(`unknown activation ${JSON.stringify(name)}`);
    return Object.assign({ name }, acts[name]);
  }

  const size = (shape) => shape.reduce((a, b) => a * b, 1);

  // A stored array {shape, data: Float32Array}, checked against the shape the layer expects.
  function param(arrays, name, shape, where) {
    const arr = arrays[name];
    if (!arr) throw new Error(`${where}: the model has no array ${name}`);
    if (arr.shape.join(",") !== shape.join(",")) {
      throw new Error(`${where}: ${name} has shape [${arr.shape}], expected [${shape}]`);
    }
    return arr.data;
  }

  // -- layers (ownnet/nn/*.py): forward(x) keeps what backward(g) needs; backward gives dL/dx --
  class Dense {
    constructor(config, arrays, inputShape, where) {
      this.units = config.units;
      this.nIn = inputShape[0];
      this.outputShape = [this.units];
      this.act = activation(config.activation);
      this.W = param(arrays, "W", [this.nIn, this.units], where); // (n_in, units)
      this.b = config.use_bias === false ? null : param(arrays, "b", [this.units], where);
    }

    forward(x) { // y = f(x @ W + b)
      const { nIn, units, W } = this;
      const z = new Float64Array(units);
      if (this.b) z.set(this.b);
      for (let i = 0; i < nIn; i++) {
        const xi = x[i];
        if (xi === 0) continue;
        const row = i * units;
        for (let j = 0; j < units; j++) z[j] += xi * W[row + j];
      }
      this.z = Float32Array.from(z);
      this.y = Float32Array.from(this.act.forward(this.z));
      return this.y;
    }

    // g is dL/dy, or dL/dz when `netInput` (the gradient of the net input z itself)
    backward(g, netInput = false) {
      const { nIn, units, W } = this;
      const delta = netInput ? g : this.act.backward(g, this.y);
      const gx = new Float32Array(nIn);
      for (let i = 0; i < nIn; i++) {
        let s = 0;
        const row = i * units;
        for (let j = 0; j < units; j++) s += W[row + j] * delta[j];
        gx[i] = s;
      }
      return gx;
    }
  }

  class Dropout { // at test time it does nothing
    constructor(config, arrays, inputShape) { this.outputShape = inputShape; }
    forward(x) { return x; }
    backward(g) { return g; }
  }

  class Flatten { // (C, H, W) -> C*H*W values: the same numbers in the same order
    constructor(config, arrays, inputShape) { this.outputShape = [size(inputShape)]; }
    forward(x) { return x; }
    backward(g) { return g; }
  }

  class Activation {
    constructor(config, arrays, inputShape) {
      this.outputShape = inputShape;
      this.act = activation(config.activation);
    }
    forward(x) { this.y = Float32Array.from(this.act.forward(x)); return this.y; }
    backward(g) { return Float32Array.from(this.act.backward(g, this.y)); }
  }

  class PReLU { // y = x where x > 0, else alpha * x, with a learned alpha per unit
    constructor(config, arrays, inputShape, where) {
      this.outputShape = inputShape;
      this.alpha = param(arrays, "alpha", inputShape, where);
    }
    forward(x) {
      this.x = x;
      return x.map((v, i) => (v > 0 ? v : this.alpha[i] * v));
    }
    backward(g) { return g.map((v, i) => (this.x[i] < 0 ? this.alpha[i] * v : v)); }
  }

  // Inference only: the running statistics replace the batch's (ownnet/nn/batchnorm.py).
  class BatchNorm {
    constructor(config, arrays, inputShape, where) {
      this.outputShape = inputShape;
      const c = inputShape[0];
      this.perChannel = size(inputShape) / c; // H * W for images, 1 for vectors
      const eps = config.eps === undefined ? 1e-5 : config.eps;
      const gamma = param(arrays, "gamma", [c], where);
      const beta = param(arrays, "beta", [c], where);
      const mean = param(arrays, "running_mean", [c], where);
      const variance = param(arrays, "running_var", [c], where);
      // y = f(x * scale + shift), scale = gamma / sqrt(var + eps), shift = beta - mean * scale
      this.scale = gamma.map((g, k) => g / Math.sqrt(variance[k] + eps));
      this.shift = beta.map((b, k) => b - mean[k] * this.scale[k]);
      this.act = activation(config.activation);
    }
    forward(x) {
      const n = this.perChannel;
      const z = x.map((v, i) => v * this.scale[Math.floor(i / n)] + this.shift[Math.floor(i / n)]);
      this.y = Float32Array.from(this.act.forward(z));
      return this.y;
    }
    backward(g) {
      const n = this.perChannel;
      const delta = this.act.backward(g, this.y);
      return Float32Array.from(delta, (v, i) => v * this.scale[Math.floor(i / n)]);
    }
  }

  // Padding along one axis, as ownnet/nn/im2col.py `out_size`: [outputs, before, after].
  function outSize(n, kernel, stride, padding) {
    if (padding === "valid") return [Math.floor((n - kernel) / stride) + 1, 0, 0];
    const out = Math.ceil(n / stride); // "same": the odd pixel of padding goes after
    const total = Math.max((out - 1) * stride + kernel - n, 0);
    return [out, Math.floor(total / 2), total - Math.floor(total / 2)];
  }

  // y[f, i, j] = f(b[f] + sum over (di, dj, c) of
  //                x[c, i*s + di - top, j*s + dj - left] * W[di, dj, c, f])
  // with zeros outside the image; W is (kh, kw, C, F) as in ownnet/nn/conv.py.
  class Conv2D {
    constructor(config, arrays, inputShape, where) {
      [this.c, this.h, this.w] = inputShape;
      const k = config.kernel_size;
      [this.kh, this.kw] = Array.isArray(k) ? k : [k, k];
      this.f = config.filters;
      this.stride = config.stride || 1;
      let ho, wo;
      [ho, this.top] = outSize(this.h, this.kh, this.stride, config.padding || "valid");
      [wo, this.left] = outSize(this.w, this.kw, this.stride, config.padding || "valid");
      [this.ho, this.wo] = [ho, wo];
      this.outputShape = [this.f, ho, wo];
      this.act = activation(config.activation);
      this.W = param(arrays, "W", [this.kh, this.kw, this.c, this.f], where);
      this.b = config.use_bias === false ? null : param(arrays, "b", [this.f], where);
    }

    // calls visit(inputIndex, weightIndex, outputIndex) for every multiply of the convolution
    eachTap(visit) {
      const { c: C, h: H, w: Wd, kh, kw, f: F, ho, wo, stride, top, left } = this;
      for (let di = 0; di < kh; di++) {
        for (let dj = 0; dj < kw; dj++) {
          for (let c = 0; c < C; c++) {
            const wBase = ((di * kw + dj) * C + c) * F;
            for (let i = 0; i < ho; i++) {
              const row = i * stride + di - top;
              if (row < 0 || row >= H) continue;
              for (let j = 0; j < wo; j++) {
                const col = j * stride + dj - left;
                if (col < 0 || col >= Wd) continue;
                visit((c * H + row) * Wd + col, wBase, i * wo + j);
              }
            }
          }
        }
      }
    }

    forward(x) {
      const { f: F, W } = this;
      const plane = this.ho * this.wo;
      const z = new Float64Array(F * plane);
      if (this.b) for (let f = 0; f < F; f++) z.fill(this.b[f], f * plane, (f + 1) * plane);
      this.eachTap((xi, wBase, o) => {
        const v = x[xi];
        if (v === 0) return;
        for (let f = 0; f < F; f++) z[f * plane + o] += v * W[wBase + f];
      });
      this.y = Float32Array.from(this.act.forward(Float32Array.from(z)));
      return this.y;
    }

    backward(g) {
      const { f: F, W } = this;
      const plane = this.ho * this.wo;
      const delta = this.act.backward(g, this.y);
      const gx = new Float64Array(this.c * this.h * this.w);
      this.eachTap((xi, wBase, o) => {
        let s = 0;
        for (let f = 0; f < F; f++) s += delta[f * plane + o] * W[wBase + f];
        gx[xi] += s;
      });
      return Float32Array.from(gx);
    }
  }

  // The largest value of each window; the gradient goes to the first position of the window
  // (row by row) holding it, as ownnet/nn/pooling.py and PyTorch send it.
  class MaxPool2D {
    constructor(config, arrays, inputShape) {
      [this.c, this.h, this.w] = inputShape;
      this.p = config.pool_size || 2;
      this.stride = config.stride || this.p;
      this.ho = Math.floor((this.h - this.p) / this.stride) + 1;
      this.wo = Math.floor((this.w - this.p) / this.stride) + 1;
      this.outputShape = [this.c, this.ho, this.wo];
    }
    forward(x) {
      const { c: C, h: H, w: Wd, p, stride, ho, wo } = this;
      const y = new Float32Array(C * ho * wo);
      this.from = new Int32Array(y.length); // the input position each output came from
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < ho; i++) {
          for (let j = 0; j < wo; j++) {
            let best = -Infinity;
            let at = -1;
            for (let di = 0; di < p; di++) {
              for (let dj = 0; dj < p; dj++) {
                const k = (c * H + i * stride + di) * Wd + j * stride + dj;
                if (x[k] > best) { best = x[k]; at = k; }
              }
            }
            const o = (c * ho + i) * wo + j;
            y[o] = best;
            this.from[o] = at;
          }
        }
      }
      return y;
    }
    backward(g) {
      const gx = new Float32Array(this.c * this.h * this.w);
      for (let o = 0; o < g.length; o++) gx[this.from[o]] += g[o];
      return gx;
    }
  }

  const LAYERS = { Dense, Dropout, Flatten, Activation, PReLU, BatchNorm, Conv2D, MaxPool2D };
  return { activation, size, param, LAYERS };
})();

if (typeof module !== "undefined") module.exports = ownnetLayers;
