// Shared helpers of the ownnet pages (no libraries, no external requests).
"use strict";

const ownnet = {
  // fetch JSON; throws an Error carrying the server's message on a non-2xx answer
  async request(url, options) {
    const response = await fetch(url, options);
    let body = null;
    const type = response.headers.get("content-type") || "";
    if (type.includes("application/json")) body = await response.json();
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      if (body && body.detail) {
        message = typeof body.detail === "string" ? body.detail
          : body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
      }
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return body;
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
};
