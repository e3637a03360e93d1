// The draw page's backend for a static site (`ownnet export web`): everything in the browser.
//
// The draw page asks `window.ownnetBackend` for its answers. When the page is served by
// `ownnet serve`, backend.js defines it and asks the server; in an exported site this file
// defines the same object and computes the answers here, with the model in model.js
// (`window.ownnetModel`) and the engine in layers.js and forward.js; drawings are made
// MNIST-style by prepare.js. No request leaves the page's folder. All methods are async:
//
//   model()                  -> {kind, name, layers: [{name, kind, shape}], meaning, card}
//   predict(pixels)          -> {digit, probabilities: [10], meaning}
//   inside(pixels, digit)    -> {layers: [{name, kind, shape, values}], saliency: {digit,
//                                values: [784]}, probabilities: [10], digit}
//   pictures()               -> {method: "backquery" | "maximize", images: [[784] x 10],
//                                read_as: [10 digits]}
//   prepare(imageData)       -> {pixels: [784], box: [top, left, bottom, right]}
//   capabilities             -> what needs a server (all false here)
//
// `pixels` are the prepared 28x28 input, row by row, 784 values 0..1 (0 background, 1 ink).
// The saliency map is gradient x input: for each pixel, its value times the derivative of
// the digit's net input (its logit, before the sigmoid or softmax) with respect to it.
"use strict";

(() => {
  const stored = window.ownnetModel; // written by `ownnet export web` (model.js)
  if (!stored) throw new Error("static-backend.js needs model.js (window.ownnetModel) first");
  let net = null;

  function network() {
    if (net === null) {
      const arrays = ownnetForward.decodeArrays(stored.arrays);
      net = ownnetForward.fromState(stored.kind, stored.config, arrays);
    }
    return net;
  }

  // ownnet.inspect.confidence.normalise: softmax and sigmoid outputs divided by their sum,
  // anything else through a softmax (the rule is decided at export time: stored.confidence)
  function confidences(outputs) {
    const values = Array.from(outputs);
    if (stored.confidence === "softmax") {
      const top = Math.max(...values);
      const e = values.map((v) => Math.exp(v - top));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    }
    const sum = Math.max(values.reduce((a, b) => a + b, 0), 1e-300);
    return values.map((v) => v / sum);
  }

  function argmax(values) {
    let best = 0;
    values.forEach((v, i) => { if (v > values[best]) best = i; });
    return best;
  }

  function checkDigit(digit, n) {
    if (!Number.isInteger(digit) || digit < 0 || digit >= n) {
      throw new Error(`expected a digit 0..${n - 1} or null, found ${JSON.stringify(digit)}`);
    }
    return digit;
  }

  const describe = ({ name, kind, shape }) => ({ name, kind, shape: shape.slice() });

  window.ownnetBackend = {
    capabilities: { teach: false, dream: false, watch: false, models: false },

    async model() {
      return {
        kind: stored.kind,
        name: stored.name,
        layers: network().stages.map(describe),
        meaning: stored.meaning,
        card: stored.card,
      };
    },

    async predict(pixels) {
      const probabilities = confidences(network().forward(pixels).outputs);
      return { digit: argmax(probabilities), probabilities, meaning: stored.meaning };
    },

    async inside(pixels, digit = null) {
      const model = network();
      const run = model.forward(pixels);
      const probabilities = confidences(run.outputs);
      const top = argmax(probabilities);
      const n = probabilities.length;
      const chosen = digit === null || digit === undefined ? top : checkDigit(digit, n);
      const gradient = model.inputGradient(pixels, chosen);
      const layers = model.stages.map((stage, i) =>
        Object.assign(describe(stage), { values: Array.from(run.stages[i]) }));
      const saliency = { digit: chosen, values: Array.from(gradient, (g, i) => g * pixels[i]) };
      return { layers, saliency, probabilities, digit: top };
    },

    async pictures() {
      const pics = stored.pictures;
      if (!pics) throw new Error(`this model has no class pictures: ${stored.pictures_note}`);
      const bytes = ownnetForward.bytesOf(pics.images);
      const side = bytes.length / pics.read_as.length;
      const images = pics.read_as.map((_, d) =>
        Array.from(bytes.subarray(d * side, (d + 1) * side), (v) => v / 255));
      return { method: pics.method, images, read_as: pics.read_as.slice() };
    },

    async prepare(imageData) {
      const { pixels, box } = ownnetPrepare.prepare(imageData);
      return { pixels: Array.from(pixels, (v) => v / 255), box };
    },
  };
})();
