// ownnet's models in the browser: the forward pass, each stage's activations and the input
// gradient for a saliency map.
//
// A plain script (no libraries, no modules, so it also runs from file://) after layers.js.
// It defines one global, `ownnetForward`, that rebuilds a model from what `model.state()`
// gives in Python (ownnet/io.py): the model's kind, its config and its arrays.
//
//   const net = ownnetForward.fromState("nn", config, ownnetForward.decodeArrays(stored));
//   const run = net.forward(pixels);      // pixels: 784 values 0..1, the 28x28 row by row
//   run.outputs                           // the last layer's outputs (softmax or sigmoid)
//   run.stages                            // each stage's activations, as net.stages lists them
//   net.inputGradient(pixels, digit)      // d z_digit / d pixel: 784 values
//
// z_digit is the output layer's net input for the digit (its logit, before the sigmoid or
// softmax), as ownnet.inspect.maximize takes it; the saliency map is this gradient times
// the pixels.
"use strict";

const ownnetForward = (() => {
  const { activation, size, param, LAYERS } =
    typeof ownnetLayers !== "undefined" ? ownnetLayers : require("./layers.js");
  // layers that start a stage of the inside view; the others belong to the stage before them
  const STAGE_KINDS = { Dense: "dense", Conv2D: "conv", MaxPool2D: "pool" };

  // Network inputs for pixels 0..1: "unit" is the pixel itself, "book" is 0.99 * x + 0.01.
  const INPUT_SCALES = { unit: [1, 0], book: [0.99, 0.01] };

  function checkPixels(pixels, n) {
    if (!pixels || pixels.length !== n) {
      throw new Error(`expected ${n} pixel values, found ${pixels ? pixels.length : pixels}`);
    }
    for (let i = 0; i < n; i++) {
      const v = pixels[i];
      if (!(v >= 0 && v <= 1)) throw new Error(`pixel ${i} is ${v}: expected a number 0..1`);
    }
  }

  // -- the matrix engine's network (ownnet/nn/network.py) ----------------------------------------
  class Network {
    constructor(config, arrays) {
      this.inputShape = config.input_shape || [784];
      this.nPixels = size(this.inputShape);
      const scale = INPUT_SCALES[config.input_scale || "unit"];
      if (!scale) throw new Error(`unknown input_scale ${JSON.stringify(config.input_scale)}`);
      [this.scaleA, this.scaleB] = scale;
      let shape = this.inputShape;
      this.layers = config.layers.map((spec, i) => {
        const Layer = LAYERS[spec.type];
        if (!Layer) throw new Error(`layer ${i}: no browser version of ${spec.type} layers`);
        const prefix = `layer${i}.`;
        const mine = {};
        for (const [k, v] of Object.entries(arrays)) {
          if (k.startsWith(prefix)) mine[k.slice(prefix.length)] = v;
        }
        const layer = new Layer(spec, mine, shape, `layer ${i} (${spec.type})`);
        layer.type = spec.type;
        shape = layer.outputShape;
        return layer;
      });
      const dense = this.layers.map((l) => l.type).lastIndexOf("Dense");
      if (dense < 0) throw new Error("the model has no Dense layer to answer with");
      this.outputLayer = dense; // saliency is taken of this layer's net inputs
      this.stages = this.findStages();
    }

    // The stages of the inside view: the input, then one per Dense, Conv2D or MaxPool2D layer
    // with the elementwise layers after it (Dropout, BatchNorm, PReLU, Activation, Flatten).
    findStages() {
      const stages = [{ name: "input", kind: "input", shape: this.inputShape.slice(), last: -1 }];
      const counts = { dense: 0, conv: 0, pool: 0 };
      this.layers.forEach((layer, i) => {
        const starts = layer.type in STAGE_KINDS || stages.length === 1;
        if (starts) {
          const image = layer.outputShape.length === 3;
          const kind = STAGE_KINDS[layer.type] || (image ? "conv" : "dense");
          counts[kind] += 1;
          const name = `${kind === "dense" ? "hidden" : kind} ${counts[kind]}`;
          stages.push({ name, kind, shape: layer.outputShape.slice(), last: i });
        } else {
          const stage = stages[stages.length - 1];
          stage.last = i;
          if (layer.type !== "Flatten") stage.shape = layer.outputShape.slice();
        }
      });
      const out = stages[stages.length - 1];
      Object.assign(out, { name: "output", kind: "output" });
      return stages;
    }

    // {outputs, stages: [Float32Array per stage, the input's being the pixels]}
    forward(pixels) {
      checkPixels(pixels, this.nPixels);
      const values = [Float32Array.from(pixels)];
      let x = Float32Array.from(pixels, (v) => this.scaleA * v + this.scaleB);
      const after = new Map(this.stages.slice(1).map((s, k) => [s.last, k + 1]));
      this.layers.forEach((layer, i) => {
        x = layer.forward(x);
        if (after.has(i)) values[after.get(i)] = x;
      });
      return { outputs: x, stages: values };
    }

    // d z_unit / d pixel for the output layer's net input z (its logit, before the sigmoid or
    // softmax), through every layer's backward pass: 784 values. Runs the forward pass first.
    inputGradient(pixels, unit) {
      this.forward(pixels);
      const out = this.layers[this.outputLayer];
      if (!(unit >= 0 && unit < out.units)) throw new Error(`no output ${unit}`);
      let g = new Float32Array(out.units);
      g[unit] = 1;
      g = out.backward(g, true);
      for (let i = this.outputLayer - 1; i >= 0; i--) g = this.layers[i].backward(g);
      return g.map((v) => v * this.scaleA);
    }
  }

  // -- the book's network (ownnet/classic.py): wih (hidden, in[+1]), who (out, hidden[+1]) ------
  class BookNetwork {
    constructor(config, arrays) {
      this.bias = Boolean(config.bias);
      const b = this.bias ? 1 : 0;
      [this.nIn, this.nHidden, this.nOut] = [config.n_input, config.n_hidden, config.n_output];
      this.nPixels = this.nIn;
      this.wih = param(arrays, "wih", [this.nHidden, this.nIn + b], "book network");
      this.who = param(arrays, "who", [this.nOut, this.nHidden + b], "book network");
      this.stages = [
        { name: "input", kind: "input", shape: [this.nIn] },
        { name: "hidden 1", kind: "dense", shape: [this.nHidden] },
        { name: "output", kind: "output", shape: [this.nOut] },
      ];
    }

    // w @ x (+ the bias node's weight, the last column, when there is one): (rows,)
    affine(w, x, rows) {
      const cols = x.length + (this.bias ? 1 : 0);
      const z = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        let s = this.bias ? w[r * cols + cols - 1] : 0;
        for (let i = 0; i < x.length; i++) s += w[r * cols + i] * x[i];
        z[r] = s;
      }
      return z;
    }

    // the book's query: inputs x * 0.99 + 0.01, hidden = sigmoid(wih x), out = sigmoid(who hidden)
    forward(pixels) {
      checkPixels(pixels, this.nIn);
      const sigmoid = activation("sigmoid").forward;
      const x = Float32Array.from(pixels, (v) => 0.99 * v + 0.01);
      const hidden = Float32Array.from(sigmoid(this.affine(this.wih, x, this.nHidden)));
      const out = Float32Array.from(sigmoid(this.affine(this.who, hidden, this.nOut)));
      return { outputs: out, stages: [Float32Array.from(pixels), hidden, out] };
    }

    // d z_unit / d pixel, z_unit = who[unit] . hidden: the true gradient (not the book's
    // errors who.T @ e, which leave out the sigmoid's slope)
    inputGradient(pixels, unit) {
      if (!(unit >= 0 && unit < this.nOut)) throw new Error(`no output ${unit}`);
      const hidden = this.forward(pixels).stages[1];
      const hCols = this.nHidden + (this.bias ? 1 : 0);
      const xCols = this.nIn + (this.bias ? 1 : 0);
      const grad = new Float64Array(this.nIn);
      for (let h = 0; h < this.nHidden; h++) {
        const dh = this.who[unit * hCols + h] * hidden[h] * (1 - hidden[h]);
        for (let i = 0; i < this.nIn; i++) grad[i] += dh * this.wih[h * xCols + i];
      }
      return Float32Array.from(grad, (v) => 0.99 * v);
    }
  }

  // -- reading the stored arrays ---------------------------------------------------------------
  function bytesOf(text) {
    if (typeof atob === "function") {
      const raw = atob(text);
      const out = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
      return out;
    }
    return new Uint8Array(Buffer.from(text, "base64")); // Node, for the tests
  }

  // {name: {shape, dtype: "float32", data: base64 little-endian}} -> {name: {shape, data}}
  function decodeArrays(stored) {
    const out = {};
    for (const [name, arr] of Object.entries(stored)) {
      if (arr.dtype !== "float32") throw new Error(`${name}: expected float32, found ${arr.dtype}`);
      const bytes = bytesOf(arr.data);
      const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      if (data.length !== size(arr.shape)) {
        throw new Error(`${name}: ${data.length} values for shape [${arr.shape}]`);
      }
      out[name] = { shape: arr.shape, data };
    }
    return out;
  }

  // A model from its kind ("classic" or "nn"), config and arrays, as ownnet.io stores them.
  function fromState(kind, config, arrays) {
    if (kind === "classic") return new BookNetwork(config, arrays);
    if (kind === "nn") return new Network(config, arrays);
    throw new Error(`no browser version of ${JSON.stringify(kind)} models`);
  }

  return { fromState, decodeArrays, bytesOf, Network, BookNetwork };
})();

if (typeof module !== "undefined") module.exports = ownnetForward;
