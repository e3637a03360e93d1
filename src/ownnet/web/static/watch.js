// The watch page: start one or two training runs, follow their progress events, slow them
// down, replay them, save their models.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("settings");
  const fieldsets = { A: form.querySelector("[data-run=A]"), B: form.querySelector("[data-run=B]") };
  const COLORS = { A: "#2471a3", B: "#d35400" };
  const DASH = { A: [], B: [7, 4] };
  // the speed slider's stops, samples per second (null: as fast as it goes)
  const SPEEDS = [2, 5, 10, 50, 200, 500, 2000, 10000, 50000, null];
  const SLOW_MOTION = 20; // at or below: a report for every step
  const KEEP_PICTURES = 1000; // reports per run whose pictures are kept for replay

  let presets = {};
  const runs = { A: null, B: null }; // {id, start, points, source, end, saved}
  let replayAt = null; // samples seen shown by the replay slider (null: live)
  let playTimer = null;

  function status(text, isError) {
    $("run-status").textContent = text;
    $("run-status").classList.toggle("error", Boolean(isError));
  }

  const speed = () => SPEEDS[Number($("speed").value)];
  function showSpeed() {
    const s = speed();
    $("speed-text").textContent = s === null ? "as fast as it goes" : `${s.toLocaleString()} samples per second`;
  }
  function setSpeed(value) {
    const i = SPEEDS.indexOf(value);
    $("speed").value = String(i >= 0 ? i : SPEEDS.length - 1);
    showSpeed();
  }

  // -- settings ------------------------------------------------------------------------------
  function fill(name) {
    const fs = fieldsets[name];
    const p = presets[fs.elements.preset.value];
    if (!p) return;
    for (const key of ["hidden", "lr", "samples", "epochs", "every"]) fs.elements[key].value = p[key];
    fs.querySelector(".preset-title").textContent = p.title;
    fs.querySelector(".every-label").textContent = `Report every N ${p.unit}s`;
  }

  function settingsOf(name) {
    const fs = fieldsets[name];
    const body = { preset: fs.elements.preset.value, lr: parseFloat(fs.elements.lr.value), speed: speed() };
    for (const key of ["hidden", "samples", "epochs", "every"]) body[key] = parseInt(fs.elements[key].value, 10);
    return body;
  }

  function setRunning(running) {
    $("start").disabled = running;
    $("stop").disabled = !running;
    for (const fs of Object.values(fieldsets)) fs.disabled = running;
    $("compare").disabled = running;
    $("play").disabled = running || !(runs.A || runs.B);
    $("replay").disabled = running || !(runs.A || runs.B);
  }

  const anyRunning = () => Object.values(runs).some((r) => r && !r.end);

  // -- drawing ------------------------------------------------------------------------------
  function visible(run) {
    return replayAt === null ? run.points : run.points.filter((p) => p.samples <= replayAt);
  }

  function redraw() {
    const loss = [], acc = [];
    let maxX = 0;
    for (const [name, run] of Object.entries(runs)) {
      if (!run || !run.start) continue;
      maxX = Math.max(maxX, run.start.samples);
      const pts = visible(run);
      loss.push({ values: pts.map((p) => [p.samples, p.loss]), color: COLORS[name], dash: DASH[name] });
      const train = pts.filter((p) => p.train_loss !== undefined);
      if (train.length) {
        loss.push({ values: train.map((p) => [p.samples, p.train_loss]), color: "#95a5a6", dash: [2, 3] });
      }
      acc.push({ values: pts.map((p) => [p.samples, p.accuracy]), color: COLORS[name], dash: DASH[name] });
    }
    if (!maxX) maxX = parseInt(fieldsets.A.elements.samples.value, 10) * parseInt(fieldsets.A.elements.epochs.value, 10) || 1;
    const xLabel = "training samples seen";
    ownnetChart.draw($("loss-chart"), { series: loss, xLabel, yLabel: "loss", maxX });
    ownnetChart.draw($("acc-chart"), { series: acc, xLabel, yLabel: "accuracy", maxX, hi: 1, asPercent: true });
    const hasTrain = loss.some((s) => s.color === "#95a5a6");
    $("loss-caption").textContent = "Loss on held-out test images (lower is better)" +
      (hasTrain ? "; grey dots: on the last training batches" : "") +
      (runs.B ? "; A solid, B dashed" : "");
    showPictures();
  }

  function showPictures() {
    const out = $("pictures");
    out.replaceChildren();
    for (const [name, run] of Object.entries(runs)) {
      if (!run || !run.points.length) continue;
      const pts = visible(run);
      const shown = [...pts].reverse().find((p) => p.pictures) || run.points.find((p) => p.pictures);
      if (!shown) continue;
      const pics = shown.pictures;
      const block = ownnet.el("div", { class: "run-pictures", "data-run": name });
      block.append(ownnet.el("h3", {}, ownnet.el("span", { class: `swatch ${name.toLowerCase()}` }),
        `${runs.B ? `${name}: ` : ""}${pics.title} (after ${shown.samples.toLocaleString()} samples)`));
      const row = ownnet.el("div", { class: "pictures" });
      pics.images.forEach((b64, i) => {
        const canvas = ownnet.el("canvas", { class: "picture" });
        ownnet.drawPixels(canvas, ownnet.fromBase64(b64), pics.size);
        row.append(ownnet.el("figure", {}, canvas, ownnet.el("figcaption", { text: pics.labels[i] })));
      });
      const last = pts[pts.length - 1];
      if (last && last.sample) {
        const canvas = ownnet.el("canvas", { class: "picture sample" });
        ownnet.drawPixels(canvas, ownnet.fromBase64(last.sample.image), 28);
        const said = last.sample.answer === last.sample.label ? "right" : `it said ${last.sample.answer}`;
        row.prepend(ownnet.el("figure", { class: "learning" }, canvas,
          ownnet.el("figcaption", { text: `learning a ${last.sample.label} (${said})` })));
      }
      block.append(row);
      out.append(block);
    }
  }

  function describeRun(d) {
    const unit = d.unit === "sample" ? "one sample at a time" : `batches of ${d.batch}`;
    const every = d.unit === "sample" ? `a report every ${d.every.toLocaleString()} sample${d.every > 1 ? "s" : ""}`
      : `a report every ${d.every} batch${d.every > 1 ? "es" : ""} (${(d.every * d.batch).toLocaleString()} samples)`;
    return `${d.description} · ${unit} · ${every}`;
  }

  function showStatus() {
    const parts = [];
    for (const [name, run] of Object.entries(runs)) {
      if (!run) continue;
      const tag = runs.B ? `${name}: ` : "";
      const p = run.points[run.points.length - 1];
      if (run.end) {
        const e = run.end;
        const acc = e.test_accuracy != null ? `, accuracy on the whole test set ${ownnet.percent(e.test_accuracy, 2)}` : "";
        parts.push(e.status === "error" ? `${tag}the run failed: ${e.error}`
          : `${tag}the run ${e.status === "stopped" ? "was stopped" : "is done"} after ${e.seconds.toFixed(1)} s${acc}.`);
      } else if (p && run.start) {
        parts.push(`${tag}epoch ${p.epoch} · ${p.samples.toLocaleString()} of ${run.start.samples.toLocaleString()} samples · ` +
          `loss ${p.loss.toFixed(4)} · accuracy ${ownnet.percent(p.accuracy)} · ${p.seconds.toFixed(1)} s`);
      } else {
        parts.push(`${tag}run ${run.id} starting…`);
      }
    }
    const failed = Object.values(runs).some((r) => r && r.end && r.end.status === "error");
    status(parts.join("  |  "), failed);
  }

  // -- following runs ----------------------------------------------------------------------------
  function follow(name, id) {
    const run = { id, start: null, points: [], source: null, end: null, saved: null };
    runs[name] = run;
    const source = new EventSource(`/api/train/events?run=${id}`);
    run.source = source;
    source.addEventListener("start", (e) => {
      run.start = JSON.parse(e.data);
      run.points = [];
      fieldsets[name].querySelector(".preset-title").textContent = describeRun(run.start);
      redraw();
      showStatus();
    });
    source.addEventListener("progress", (e) => {
      const d = JSON.parse(e.data);
      run.points.push(d);
      document.body.dataset.reports = String(Object.values(runs).reduce((n, r) => n + (r ? r.points.length : 0), 0));
      const kept = run.points.filter((p) => p.pictures);
      if (kept.length > KEEP_PICTURES) kept[kept.length - KEEP_PICTURES - 1].pictures = null;
      if (replayAt === null) redraw();
      showStatus();
    });
    source.addEventListener("end", (e) => {
      run.end = JSON.parse(e.data);
      source.close();
      run.source = null;
      showStatus();
      showSaves();
      if (!anyRunning()) {
        setRunning(false);
        setupReplay();
      }
    });
  }

  // -- saving -----------------------------------------------------------------------------------
  function showSaves() {
    const out = $("saves");
    out.replaceChildren();
    for (const [name, run] of Object.entries(runs)) {
      if (!run || !run.end || !run.end.can_save) continue;
      const tag = runs.B ? ` ${name}` : "";
      const row = ownnet.el("div", { class: "buttons save-row", "data-run": name });
      const save = ownnet.el("button", { type: "button", class: "save", text: `Save${tag}` });
      const note = ownnet.el("span", { class: "hint" });
      save.addEventListener("click", async () => {
        try {
          save.disabled = true;
          const r = await ownnet.request("/api/train/save", {
            method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ run: run.id }),
          });
          run.saved = r.saved;
          note.textContent = `Saved as ${r.saved} in the server's model folder. The Draw page keeps its model until you choose:`;
          const use = ownnet.el("button", { type: "button", class: "use", text: "Use it on the Draw page" });
          use.addEventListener("click", async () => {
            try {
              await ownnet.request("/api/models/use", {
                method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: r.saved }),
              });
              use.disabled = true;
              note.textContent = `${r.saved} is now the Draw page's model.`;
            } catch (err) {
              status(err.message, true);
            }
          });
          row.append(use);
        } catch (err) {
          save.disabled = false;
          status(err.message, true);
        }
      });
      row.append(save, note);
      out.append(row);
    }
  }

  // -- replay -----------------------------------------------------------------------------------
  function setupReplay() {
    const max = Math.max(0, ...Object.values(runs).filter(Boolean).map((r) => r.points.length
      ? r.points[r.points.length - 1].samples : 0));
    const slider = $("replay");
    slider.max = String(max);
    slider.value = String(max);
    replayAt = null;
    $("replay-text").textContent = `${max.toLocaleString()} samples (the end)`;
  }

  function scrub(value) {
    const max = Number($("replay").max);
    replayAt = value >= max ? null : value;
    $("replay-text").textContent = `${Number(value).toLocaleString()} samples${replayAt === null ? " (the end)" : ""}`;
    redraw();
  }

  $("replay").addEventListener("input", (e) => scrub(Number(e.target.value)));
  // play the runs back report by report (20 a second)
  $("play").addEventListener("click", () => {
    if (playTimer !== null) {
      clearInterval(playTimer);
      playTimer = null;
      $("play").textContent = "Play";
      return;
    }
    const slider = $("replay");
    const max = Number(slider.max);
    const stops = [...new Set(Object.values(runs).filter(Boolean)
      .flatMap((r) => r.points.map((p) => p.samples)))].sort((a, b) => a - b);
    let i = Number(slider.value) >= max ? 0 : stops.findIndex((s) => s > Number(slider.value));
    $("play").textContent = "Pause";
    playTimer = setInterval(() => {
      const at = i < 0 || i >= stops.length ? max : stops[i++];
      slider.value = String(at);
      scrub(at);
      if (at >= max) {
        clearInterval(playTimer);
        playTimer = null;
        $("play").textContent = "Play";
      }
    }, 50);
  });

  // -- controls ---------------------------------------------------------------------------------
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const names = $("compare").checked ? ["A", "B"] : ["A"];
    for (const r of Object.values(runs)) if (r && r.source) r.source.close();
    runs.A = runs.B = null;
    replayAt = null;
    $("saves").replaceChildren();
    setRunning(true);
    try {
      for (const name of names) {
        const body = settingsOf(name);
        if (name === "B") body.beside = runs.A.id;
        const r = await ownnet.request("/api/train", {
          method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
        });
        follow(name, r.run);
      }
      status("Starting…");
    } catch (err) {
      status(err.message, true);
      if (!anyRunning()) setRunning(false);
    }
  });

  $("stop").addEventListener("click", async () => {
    try {
      $("stop").disabled = true;
      await ownnet.request("/api/train/stop", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      if (anyRunning()) status("Stopping…");
    } catch (err) {
      status(err.message, true);
    }
  });

  $("speed").addEventListener("input", async () => {
    showSpeed();
    const s = speed();
    if (!anyRunning()) {
      if (s !== null && s <= SLOW_MOTION) for (const fs of Object.values(fieldsets)) fs.elements.every.value = 1;
      return;
    }
    try {
      await ownnet.request("/api/train/speed", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ speed: s }),
      });
    } catch (err) {
      status(err.message, true);
    }
  });

  $("compare").addEventListener("change", (e) => {
    fieldsets.B.hidden = !e.target.checked;
    if (e.target.checked) {
      fieldsets.B.elements.preset.value = fieldsets.A.elements.preset.value;
      fill("B");
      // something to compare: the same settings with another learning rate
      const lr = parseFloat(fieldsets.A.elements.lr.value);
      fieldsets.B.elements.lr.value = String(+(lr * 6).toPrecision(3));
      for (const key of ["hidden", "samples", "epochs", "every"]) fieldsets.B.elements[key].value = fieldsets.A.elements[key].value;
    }
  });

  for (const name of ["A", "B"]) {
    fieldsets[name].elements.preset.addEventListener("change", () => {
      fill(name);
      if (name === "A") setSpeed(presets[fieldsets.A.elements.preset.value].suggested_speed);
    });
  }

  async function init() {
    try {
      presets = await ownnet.request("/api/train/presets");
    } catch (err) {
      status(err.message, true);
    }
    fill("A");
    fill("B");
    setSpeed((presets[fieldsets.A.elements.preset.value] || {}).suggested_speed || null);
    redraw();
    try {
      const all = (await ownnet.request("/api/train")).runs;
      if (all.length) {
        // the latest run, and the one before it if the two were started side by side
        const last = all[all.length - 1], before = all[all.length - 2];
        const pair = before && last.beside === before.run;
        if (pair) {
          $("compare").checked = true;
          fieldsets.B.hidden = false;
          follow("A", before.run);
          follow("B", last.run);
        } else {
          follow("A", last.run);
        }
        setRunning(true); // until the runs' end events (replayed at once for finished runs)
      }
    } catch (err) {
      status(err.message, true);
    }
  }
  init();
})();
