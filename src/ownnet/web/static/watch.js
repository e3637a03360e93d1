// The watch page: start a training run and draw its progress events as they come.
"use strict";

(() => {
  const form = document.getElementById("settings");
  const startBtn = document.getElementById("start");
  const stopBtn = document.getElementById("stop");
  const saveBtn = document.getElementById("save");
  const statusEl = document.getElementById("run-status");
  const presetTitle = document.getElementById("preset-title");
  const picturesEl = document.getElementById("pictures");
  const picturesTitle = document.getElementById("pictures-title");
  const lossChart = document.getElementById("loss-chart");
  const accChart = document.getElementById("acc-chart");

  let presets = {};
  let source = null;
  let points = [];
  let totalSamples = 0;

  function status(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", Boolean(isError));
  }

  function fillPreset(name) {
    const p = presets[name];
    if (!p) return;
    for (const key of ["hidden", "lr", "samples", "epochs", "every"]) form.elements[key].value = p[key];
    presetTitle.textContent = p.title;
  }

  function setRunning(running) {
    startBtn.disabled = running;
    stopBtn.disabled = !running;
    for (const el of form.elements) if (el.tagName !== "BUTTON") el.disabled = running;
  }

  // -- charts -------------------------------------------------------------------------------------
  // series: [{values: [[x, y], ...], color, dash}], y range [lo, hi] (hi null: from the data)
  function chart(canvas, series, yLabel, lo, hi, asPercent) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    const left = 56, right = 12, top = 12, bottom = 36;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "#555";
    ctx.strokeStyle = "#bbb";
    let maxY = hi;
    if (maxY === null) {
      maxY = 0;
      for (const s of series) for (const [, y] of s.values) maxY = Math.max(maxY, y);
      maxY = maxY > 0 ? maxY * 1.05 : 1;
    }
    const maxX = Math.max(totalSamples, 1);
    const px = (x) => left + (W - left - right) * x / maxX;
    const py = (y) => top + (H - top - bottom) * (1 - (y - lo) / (maxY - lo));
    // grid and y ticks
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const y = lo + (maxY - lo) * i / 4;
      ctx.beginPath();
      ctx.moveTo(left, py(y));
      ctx.lineTo(W - right, py(y));
      ctx.stroke();
      ctx.fillText(asPercent ? `${(100 * y).toFixed(0)}%` : y.toPrecision(2), left - 6, py(y));
    }
    // x ticks
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (let i = 0; i <= 4; i++) {
      const x = maxX * i / 4;
      ctx.fillText(x >= 1000 ? `${(x / 1000).toFixed(x % 1000 ? 1 : 0)}k` : String(Math.round(x)), px(x), H - bottom + 6);
    }
    ctx.fillText("training samples seen", left + (W - left - right) / 2, H - 16);
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
      ctx.lineWidth = 1;
      const [x, y] = s.values[s.values.length - 1];
      ctx.fillStyle = s.color;
      ctx.beginPath();
      ctx.arc(px(x), py(y), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  function redraw() {
    const loss = points.map((p) => [p.samples, p.loss]);
    const train = points.filter((p) => p.train_loss !== undefined).map((p) => [p.samples, p.train_loss]);
    const series = [{ values: loss, color: "#c0392b" }];
    if (train.length) series.push({ values: train, color: "#7f8c8d", dash: [5, 4] });
    chart(lossChart, series, "loss", 0, null, false);
    chart(accChart, [{ values: points.map((p) => [p.samples, p.accuracy]), color: "#2471a3" }],
      "accuracy", 0, 1, true);
    document.getElementById("loss-caption").textContent = train.length
      ? "Loss on held-out test images (red) and on the last training batches (grey dashes)"
      : "Loss on held-out test images (lower is better)";
  }

  function showPictures(pics) {
    picturesTitle.textContent = pics.title;
    picturesEl.replaceChildren();
    pics.images.forEach((b64, i) => {
      const canvas = ownnet.el("canvas", { class: "picture" });
      ownnet.drawPixels(canvas, ownnet.fromBase64(b64), pics.size);
      picturesEl.append(ownnet.el("figure", {}, canvas, ownnet.el("figcaption", { text: pics.labels[i] })));
    });
  }

  // -- the event stream ------------------------------------------------------------------------
  function follow() {
    if (source) source.close();
    source = new EventSource("/api/train/events");
    source.addEventListener("start", (e) => {
      const d = JSON.parse(e.data);
      points = [];
      totalSamples = d.samples;
      presetTitle.textContent = `${d.title} · ${d.description} · a report every ${d.every} batches of ${d.batch}`;
      setRunning(true);
      saveBtn.disabled = true;
      status(`Run ${d.run} started…`);
      redraw();
    });
    source.addEventListener("progress", (e) => {
      const d = JSON.parse(e.data);
      points.push(d);
      redraw();
      showPictures(d.pictures);
      status(`epoch ${d.epoch} · ${d.samples.toLocaleString()} of ${totalSamples.toLocaleString()} samples · ` +
        `loss ${d.loss.toFixed(4)} · accuracy ${ownnet.percent(d.accuracy)} · ${d.seconds.toFixed(1)} s`);
    });
    source.addEventListener("end", (e) => {
      const d = JSON.parse(e.data);
      source.close();
      source = null;
      setRunning(false);
      saveBtn.disabled = !d.can_save;
      const acc = d.test_accuracy != null ? ` · accuracy on the whole test set ${ownnet.percent(d.test_accuracy, 2)}` : "";
      if (d.status === "error") status(`The run failed: ${d.error}`, true);
      else status(`The run ${d.status === "stopped" ? "was stopped" : "is done"} after ${d.seconds.toFixed(1)} s${acc}.`);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { preset: form.elements.preset.value };
    for (const key of ["hidden", "samples", "epochs", "every"]) body[key] = parseInt(form.elements[key].value, 10);
    body.lr = parseFloat(form.elements.lr.value);
    try {
      setRunning(true);
      await ownnet.request("/api/train", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      });
      follow();
    } catch (err) {
      setRunning(false);
      status(err.message, true);
    }
  });

  stopBtn.addEventListener("click", async () => {
    try {
      stopBtn.disabled = true;
      await ownnet.request("/api/train/stop", { method: "POST" });
      // the end event may already have come (and said so): only say "Stopping" while it hasn't
      if (source !== null) status("Stopping…");
    } catch (err) {
      status(err.message, true);
    }
  });

  saveBtn.addEventListener("click", async () => {
    try {
      saveBtn.disabled = true;
      const saved = await ownnet.request("/api/train/save", { method: "POST" });
      status(`Saved as ${saved.saved}; it is now the model of the Draw page.`);
    } catch (err) {
      saveBtn.disabled = false;
      status(err.message, true);
    }
  });

  document.getElementById("preset").addEventListener("change", (e) => fillPreset(e.target.value));

  async function init() {
    try {
      presets = await ownnet.request("/api/train/presets");
    } catch (err) {
      status(err.message, true);
    }
    fillPreset(form.elements.preset.value);
    redraw();
    try {
      const run = await ownnet.request("/api/train");
      if (run.run !== null) follow();  // replays a running or finished run
    } catch (err) {
      status(err.message, true);
    }
  }
  init();
})();
