// Shared helpers of the ownnet pages (no libraries, no external requests).
"use strict";

const ownnet = {
  // fetch JSON; throws an Error carrying the server's message on a non-2xx answer
  async request(url, options) {
    const response = await fetch(url, options);
    if (!response.ok) throw await ownnet.failure(response);
    const type = response.headers.get("content-type") || "";
    return type.includes("application/json") ? response.json() : null;
  },

  // the Error for a non-2xx answer, with the server's message
  async failure(response) {
    let body = null;
    const type = response.headers.get("content-type") || "";
    if (type.includes("application/json")) body = await response.json();
    let message = `${response.status} ${response.statusText}`;
    if (body && body.detail) {
      message = typeof body.detail === "string" ? body.detail
        : body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
    }
    const error = new Error(message);
    error.status = response.status;
    return error;
  },

  // draw uint8 greyscale pixels (Uint8Array or array, row by row) on a canvas of that size
  drawPixels(canvas, pixels, side) {
    canvas.width = side;
    canvas.height = side;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const v = pixels[i];
      img.data[4 * i] = v;
      img.data[4 * i + 1] = v;
      img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  },

  // base64 text -> Uint8Array
  fromBase64(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  },

  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child);
    return node;
  },

  percent(x, digits = 1) {
    return x == null ? "–" : `${(100 * x).toFixed(digits)} %`;
  },

  // a colour for t in 0..1: dark blue, through teal and green, to yellow (signal strength)
  heat(t) {
    const stops = [[13, 8, 70], [33, 104, 142], [35, 170, 120], [150, 215, 60], [253, 231, 37]];
    const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
    const i = Math.min(Math.floor(x), stops.length - 2);
    const f = x - i;
    return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
  },

  // a colour for t in -1..1: blue (negative), white (0), red (positive)
  diverging(t) {
    const s = Math.min(Math.max(t, -1), 1);
    const a = Math.abs(s);
    const far = s >= 0 ? [192, 57, 43] : [36, 113, 163];
    return far.map((c) => Math.round(255 + a * (c - 255)));
  },

  // draw a w x h picture of colours colourAt(i) (i row by row) on a canvas of that size
  paint(canvas, w, h, colourAt) {
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(w, h);
    for (let i = 0; i < w * h; i++) {
      const c = colourAt(i);
      if (c === null) continue; // transparent
      img.data[4 * i] = c[0];
      img.data[4 * i + 1] = c[1];
      img.data[4 * i + 2] = c[2];
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  },

  // largest absolute value of an array
  maxAbs(values) {
    let m = 0;
    for (const v of values) if (Math.abs(v) > m) m = Math.abs(v);
    return m;
  },
};
