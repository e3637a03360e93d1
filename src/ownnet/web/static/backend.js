// Where the draw page's numbers come from: this server's API.
//
// The draw page never asks the server itself; it calls window.ownnetBackend. A static
// copy of the page (`ownnet export web`) loads static-backend.js instead, which has the
// same methods computed in the browser. All methods are async and give plain JSON-like
// objects (names and shapes are fixed; new fields may only be added, as optional ones):
//
//   model()                 {kind: "classic"|"nn", name, layers: [{name, kind, shape}],
//                            meaning, card: {...the model card...}}
//   predict(pixels)         {digit, probabilities: [10], meaning}
//   inside(pixels, digit)   {layers: [{name, kind, shape, values: flat}], digit,
//                            saliency: {digit, values: [784]}, probabilities: [10]}
//                           (the top answer's saliency when digit is null)
//   pictures()              {method: "backquery"|"maximize", images: [[784] x 10],
//                            read_as: [10 digits]}
//   prepare(imageData)      {pixels: [784], box: [top, left, bottom, right]}: a drawing
//                           (a canvas ImageData) made MNIST-style, as `ownnet predict` does
//
// pixels: the prepared 28x28, 784 numbers 0..1 row by row (0 background, 1 full ink).
// Layers, input first: "input" [28, 28]; "conv1", "conv2", ... [F, H, W] (a convolution
// and what follows it: BatchNorm, relu); "pool1", ... [F, H, W]; "hidden1", ... [units]
// (every Dense layer but the last); "output" [10]. Flatten and Dropout are no layers here.
// values: the layer's output (after its activation), channel by channel, row by row.
// saliency.values: pixel x d(net input of the digit)/d(pixel); > 0 pushed towards it.
//
// Features that need the server are listed in `capabilities` (all false in a static copy,
// which leaves their methods out; the page hides what is missing):
//   teach(pixels, digit)    {digit, rule, before: {digit, probabilities}, after: {...},
//                            change: {relative, max, arrays: [{name, relative}]}, taught, undo}
//   undo(), reset()         {model: card, undo}
//   saveAs(name)            {saved, model: card}
//   models()                {models: [{name, size, modified}], served, taught, undo}
//   useModel(name)          {model: card}
//   dream(pixels, steps)    {layers: [{name, kind, image: [784], start, end}]}
"use strict";

(() => {
  const json = (body) => ({
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

  // ImageData -> PNG blob (the server prepares images from files)
  function pngOf(imageData) {
    const canvas = document.createElement("canvas");
    canvas.width = imageData.width;
    canvas.height = imageData.height;
    canvas.getContext("2d").putImageData(imageData, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  // an inside-view answer in bytes -> the JSON answer's shape, values as Float32Arrays
  function fromBytes(buffer) {
    const length = new DataView(buffer).getUint32(0, true);
    const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
    const bytes = new Uint8Array(buffer, 4 + length);
    for (const part of [...head.layers, head.saliency]) {
      const values = new Float32Array(part.size);
      const step = (part.high - part.low) / 255;
      for (let i = 0; i < part.size; i++) values[i] = part.low + step * bytes[part.offset + i];
      part.values = values;
      for (const k of ["low", "high", "offset", "size"]) delete part[k];
    }
    return head;
  }

  function asModel(card) {
    return { kind: card.kind, name: card.name, layers: card.layers, meaning: card.meaning, card };
  }

  window.ownnetBackend = {
    capabilities: { teach: true, dream: true, watch: true, models: true },

    async model() {
      return asModel(await ownnet.request("/api/model"));
    },

    async predict(pixels) {
      const r = await ownnet.request("/api/predict", json({ pixels: Array.from(pixels), scale: 1 }));
      return { digit: r.digit, probabilities: r.probabilities, meaning: r.meaning };
    },

    // (asked for in bytes: a quarter of the JSON's size and nothing to parse per value)
    async inside(pixels, digit) {
      const response = await fetch("/api/inside?encoding=uint8",
        json({ pixels: Array.from(pixels), scale: 1, digit: digit == null ? null : digit }));
      if (!response.ok) throw await ownnet.failure(response);
      return fromBytes(await response.arrayBuffer());
    },

    async pictures() {
      return ownnet.request("/api/pictures");
    },

    async prepare(imageData) {
      const form = new FormData();
      form.append("file", await pngOf(imageData), "drawing.png");
      return ownnet.request("/api/prepare", { method: "POST", body: form });
    },

    async teach(pixels, digit) {
      return ownnet.request("/api/teach", json({ pixels: Array.from(pixels), scale: 1, digit }));
    },

    async undo() {
      const r = await ownnet.request("/api/teach/undo", json({}));
      return { model: r.model, undo: r.undo };
    },

    async reset() {
      return ownnet.request("/api/teach/reset", json({}));
    },

    async saveAs(name) {
      return ownnet.request("/api/models/save", json({ name }));
    },

    async models() {
      return ownnet.request("/api/models");
    },

    async useModel(name) {
      return ownnet.request("/api/models/use", json({ name }));
    },

    async dream(pixels, steps) {
      return ownnet.request("/api/dream", json({ pixels: Array.from(pixels), scale: 1, steps }));
    },
  };
})();
