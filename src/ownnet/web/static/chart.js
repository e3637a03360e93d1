// Line charts on a canvas, with readable axis ticks (no libraries).
"use strict";

const ownnetChart = (() => {
  // about `count` round tick values (1, 2 or 5 times a power of ten) covering lo..hi
  function ticks(lo, hi, count = 5) {
    if (!(hi > lo)) hi = lo + 1;
    const raw = (hi - lo) / count;
    const power = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || 10 * power;
    const out = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return { values: out, step };
  }

  function label(v, step, asPercent) {
    if (asPercent) return `${(100 * v).toFixed(step >= 0.01 ? 0 : 1)}%`;
    const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    if (Math.abs(v) >= 1000 && step >= 100) {
      const k = v / 1000;
      return `${k.toFixed(step >= 1000 ? 0 : 1)}k`;
    }
    return v.toFixed(decimals);
  }

  // series: [{values: [[x, y], ...], color, dash, label}]; x from 0 to maxX; y from lo to
  // hi (hi null: from the data)
  function draw(canvas, { series, xLabel, yLabel, maxX, lo = 0, hi = null, asPercent = false }) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    const left = 58, right = 14, top = 14, bottom = 40;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "12px system-ui, sans-serif";
    let top_ = hi;
    if (top_ === null) {
      top_ = lo;
      for (const s of series) for (const [, y] of s.values) top_ = Math.max(top_, y);
      top_ = top_ > lo ? top_ * 1.05 : lo + 1;
    }
    const xMax = maxX > 0 ? maxX : 1;
    const xt = ticks(0, xMax, 5), yt = ticks(lo, top_, 4);
    const yTop = Math.max(top_, yt.values[yt.values.length - 1]);
    const px = (x) => left + (W - left - right) * x / xMax;
    const py = (y) => top + (H - top - bottom) * (1 - (y - lo) / (yTop - lo));
    ctx.strokeStyle = "#d5d9e0";
    ctx.fillStyle = "#555";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const y of yt.values) {
      ctx.beginPath();
      ctx.moveTo(left, py(y));
      ctx.lineTo(W - right, py(y));
      ctx.stroke();
      ctx.fillText(label(y, yt.step, asPercent), left - 6, py(y));
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const x of xt.values) {
      if (x > xMax * 1.0001) continue;
      ctx.fillText(label(x, xt.step, false), px(x), H - bottom + 6);
    }
    ctx.fillText(xLabel, left + (W - left - right) / 2, H - 17);
    ctx.save();
    ctx.translate(14, top + (H - top - bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(yLabel, 0, -8);
    ctx.restore();
    for (const s of series) {
      if (!s.values.length) continue;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      s.values.forEach(([x, y], i) => (i ? ctx.lineTo(px(x), py(y)) : ctx.moveTo(px(x), py(y))));
      ctx.stroke();
      ctx.setLineDash([]);
      const [x, y] = s.values[s.values.length - 1];
      ctx.fillStyle = s.color;
      ctx.beginPath();
      ctx.arc(px(x), py(y), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    canvas.dataset.xticks = xt.values.filter((x) => x <= xMax * 1.0001).map((x) => label(x, xt.step, false)).join(" ");
  }

  return { ticks, draw };
})();
