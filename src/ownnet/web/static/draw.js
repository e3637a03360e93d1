// The draw page: a drawing pad whose digit is sent to /api/predict as you draw.
"use strict";

(() => {
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const preview = document.getElementById("preview");
  const digitEl = document.getElementById("digit");
  const confidenceEl = document.getElementById("confidence");
  const barsEl = document.getElementById("bars");
  const statusEl = document.getElementById("status");
  const INK = "#000";
  const PAPER = "#fff";
  const PEN = 20;            // pen width in pad pixels (the pad is 280 x 280)
  const DEBOUNCE_MS = 120;   // at most one prediction per this many ms while drawing

  let drawing = false;
  let last = null;
  let hasInk = false;
  let timer = null;
  let inFlight = false;
  let dirty = false;

  // ten bars, 0..9
  const bars = [];
  for (let d = 0; d < 10; d++) {
    const fill = ownnet.el("span", { class: "fill" });
    const value = ownnet.el("span", { class: "value", text: "" });
    const row = ownnet.el("div", { class: "bar", "data-digit": String(d) },
      ownnet.el("span", { class: "label", text: String(d) }),
      ownnet.el("span", { class: "track" }, fill), value);
    barsEl.append(row);
    bars.push({ row, fill, value });
  }

  function clearPad() {
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, pad.width, pad.height);
    hasInk = false;
    showAnswer(null);
    ownnet.drawPixels(preview, new Uint8Array(784), 28);
    status("");
  }

  function status(text, isError) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", Boolean(isError));
  }

  function showAnswer(result) {
    if (!result) {
      digitEl.textContent = "–";
      confidenceEl.textContent = "";
      for (const b of bars) {
        b.fill.style.width = "0%";
        b.value.textContent = "";
        b.row.classList.remove("best");
      }
      return;
    }
    digitEl.textContent = String(result.digit);
    document.getElementById("meaning").textContent = `Bars: ${result.meaning}.`;
    confidenceEl.textContent = ownnet.percent(result.probabilities[result.digit]);
    result.probabilities.forEach((p, d) => {
      bars[d].fill.style.width = `${(100 * p).toFixed(1)}%`;
      bars[d].value.textContent = ownnet.percent(p);
      bars[d].row.classList.toggle("best", d === result.digit);
    });
    ownnet.drawPixels(preview, result.input, 28);
  }

  // -- drawing with pointer events (mouse, touch and pen alike) -----------------------------
  function point(event) {
    const r = pad.getBoundingClientRect();
    return [(event.clientX - r.left) * pad.width / r.width,
            (event.clientY - r.top) * pad.height / r.height];
  }

  function stroke(from, to) {
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineWidth = PEN;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    hasInk = true;
  }

  pad.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    drawing = true;
    last = point(event);
    stroke(last, last);
    schedule();
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of (events.length ? events : [event])) {
      const p = point(e);
      stroke(last, p);
      last = p;
    }
    schedule();
  });
  for (const type of ["pointerup", "pointercancel"]) {
    pad.addEventListener(type, () => {
      if (!drawing) return;
      drawing = false;
      schedule(0);
    });
  }

  // -- asking the server ------------------------------------------------------------------------
  // pad.dataset.state is "busy" while an answer is due, else "idle" (tests wait for it)
  function markState() {
    pad.dataset.state = inFlight || dirty || timer !== null ? "busy" : "idle";
  }

  function schedule(delay = DEBOUNCE_MS) {
    if (!hasInk) return;
    dirty = true;
    markState();
    if (timer !== null && delay > 0) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; send(); }, delay);
  }

  function send() {
    if (inFlight || !dirty) {
      markState();
      return;
    }
    dirty = false;
    inFlight = true;
    markState();
    pad.toBlob((blob) => predict(blob, "drawing.png"), "image/png");
  }

  async function predict(file, name) {
    const form = new FormData();
    form.append("file", file, name);
    try {
      const result = await ownnet.request("/api/predict", { method: "POST", body: form });
      if (hasInk) showAnswer(result);
      status("");
    } catch (err) {
      status(err.message, true);
    } finally {
      inFlight = false;
      markState();
      if (dirty) schedule(0);
    }
  }

  document.getElementById("clear").addEventListener("click", () => {
    dirty = false;
    clearPad();
    markState();
  });

  document.getElementById("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    // show the picture on the pad, scaled to fit; predict from the original file
    try {
      const bitmap = await createImageBitmap(file);
      ctx.fillStyle = PAPER;
      ctx.fillRect(0, 0, pad.width, pad.height);
      const k = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
      const w = bitmap.width * k, h = bitmap.height * k;
      ctx.drawImage(bitmap, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    } catch (err) {
      ctx.fillStyle = PAPER;
      ctx.fillRect(0, 0, pad.width, pad.height);
    }
    hasInk = true;
    dirty = false;
    inFlight = true;
    markState();
    predict(file, file.name || "upload");
  });

  // -- the model card ---------------------------------------------------------------------------
  async function loadModel() {
    const card = document.getElementById("card");
    card.replaceChildren();
    let model;
    try {
      model = await ownnet.request("/api/model");
    } catch (err) {
      card.append(ownnet.el("dt", { text: "no model" }), ownnet.el("dd", { text: err.message }));
      return;
    }
    const rows = [
      ["file", `${model.name}${model.source === "trained here" ? " (trained here)" : ""}`],
      ["kind", model.kind],
      ["layers", model.description],
      ["test accuracy", ownnet.percent(model.test_accuracy, 2)],
      ["data", model.dataset],
      ["seed", model.seed],
      ["ownnet", model.ownnet_version],
    ];
    for (const [k, v] of Object.entries(model.settings || {})) {
      rows.push([k, typeof v === "object" ? JSON.stringify(v) : v]);
    }
    for (const [k, v] of rows) {
      if (v === null || v === undefined || v === "") continue;
      card.append(ownnet.el("dt", { text: k }), ownnet.el("dd", { text: String(v) }));
    }
    const fig = document.getElementById("backquery");
    fig.hidden = !model.has_backquery;
    if (model.has_backquery) {
      document.getElementById("backquery-img").src = `/api/backquery.png?model=${encodeURIComponent(model.name)}`;
    }
  }

  clearPad();
  markState();
  loadModel();
})();
