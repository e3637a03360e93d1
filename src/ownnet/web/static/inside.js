// Drawing the inside view: layer outputs, saliency maps, class pictures, dreams.
"use strict";

const ownnetInside = (() => {
  const TILE_COLUMNS = 8; // feature maps per row
  const GAP = 1; // pixels between feature maps

  function sum(values) {
    let s = 0;
    for (const v of values) s += v;
    return s;
  }

  // feature maps [F, H, W] tiled in rows of TILE_COLUMNS, gaps left blank
  function drawMaps(canvas, layer, scale) {
    const [f, h, w] = layer.shape;
    const cols = Math.min(TILE_COLUMNS, f);
    const rows = Math.ceil(f / cols);
    const W = cols * (w + GAP) - GAP, H = rows * (h + GAP) - GAP;
    const v = layer.values;
    ownnet.paint(canvas, W, H, (i) => {
      const x = i % W, y = Math.floor(i / W);
      const c = Math.floor(x / (w + GAP)), r = Math.floor(y / (h + GAP));
      const xx = x % (w + GAP), yy = y % (h + GAP);
      const k = r * cols + c;
      if (xx >= w || yy >= h || k >= f) return [255, 255, 255];
      return ownnet.heat(v[k * h * w + yy * w + xx] / scale);
    });
    canvas.style.width = `${Math.min(W * (h >= 20 ? 2 : 3), 560)}px`;
  }

  // units as a square-ish grid of cells
  function drawUnits(canvas, layer, scale) {
    const n = layer.values.length;
    const cols = Math.ceil(Math.sqrt(n));
    const rows = Math.ceil(n / cols);
    ownnet.paint(canvas, cols, rows, (i) => (i < n ? ownnet.heat(layer.values[i] / scale) : [255, 255, 255]));
    canvas.style.width = `${Math.min(cols * 14, 220)}px`;
  }

  function outputCells(layer, digit) {
    const scale = ownnet.maxAbs(layer.values) || 1;
    const row = ownnet.el("div", { class: "output-cells" });
    layer.values.forEach((v, d) => {
      const [r, g, b] = ownnet.heat(v / scale);
      const cell = ownnet.el("span", { class: d === digit ? "cell best" : "cell", text: String(d) });
      cell.style.background = `rgb(${r},${g},${b})`;
      cell.style.color = v / scale > 0.6 ? "#000" : "#fff";
      row.append(cell);
    });
    return row;
  }

  function describe(layer) {
    const s = layer.shape;
    if (layer.kind === "conv" || layer.kind === "pool") return `${s[0]} maps of ${s[1]}×${s[2]}`;
    if (layer.kind === "input") return `${s.join("×")} pixels`;
    return `${s[0]} units`;
  }

  return {
    // one figure per layer, input first
    layers(container, result) {
      container.replaceChildren();
      for (const layer of result.layers) {
        const fig = ownnet.el("figure", { class: `layer ${layer.kind}`, "data-layer": layer.name });
        fig.dataset.sum = sum(layer.values).toFixed(4);
        const scale = ownnet.maxAbs(layer.values) || 1;
        if (layer.kind === "output") {
          fig.append(outputCells(layer, result.digit));
        } else {
          const canvas = ownnet.el("canvas", { class: "map" });
          if (layer.kind === "input") ownnet.paint(canvas, 28, 28, (i) => {
            const g = Math.round(255 * layer.values[i]);
            return [g, g, g];
          });
          else if (layer.kind === "conv" || layer.kind === "pool") drawMaps(canvas, layer, scale);
          else drawUnits(canvas, layer, scale);
          if (layer.kind === "input") canvas.style.width = "84px";
          fig.append(canvas);
        }
        fig.append(ownnet.el("figcaption", {}, ownnet.el("strong", { text: layer.name }),
          ` ${describe(layer)}`));
        container.append(fig);
      }
    },

    // a saliency map: red pushed towards the digit, blue away (each map to its own
    // scale; the square root of each share, so that the smaller ones show too), on a
    // faint grey copy of the input
    saliency(canvas, values, pixels) {
      const scale = ownnet.maxAbs(values) || 1;
      ownnet.paint(canvas, 28, 28, (i) => {
        const t = values[i] / scale;
        const c = ownnet.diverging(Math.sign(t) * Math.sqrt(Math.abs(t)));
        const shade = pixels ? 1 - 0.18 * pixels[i] : 1; // the ink, faintly
        return c.map((x) => Math.round(x * shade));
      });
      canvas.dataset.sum = sum(values).toFixed(4);
    },

    // pictures [[784] x k] in 0..1 with captions
    gallery(container, images, captions, attrs) {
      container.replaceChildren();
      images.forEach((pixels, i) => {
        const canvas = ownnet.el("canvas", { class: "picture" });
        ownnet.paint(canvas, 28, 28, (j) => {
          const g = Math.round(255 * (1 - pixels[j])); // ink dark, as the book draws digits
          return [g, g, g];
        });
        const fig = ownnet.el("figure", attrs ? attrs(i) : {}, canvas,
          ownnet.el("figcaption", { text: captions[i] }));
        container.append(fig);
      });
    },
  };
})();
