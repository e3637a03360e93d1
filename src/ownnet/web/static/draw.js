// The draw page: the pad, the answer, the inside view, teaching, pictures, dreams and the
// model menu. Every number comes from window.ownnetBackend (backend.js on the server).
"use strict";

(() => {
  const backend = window.ownnetBackend;
  const caps = backend.capabilities || {};
  const $ = (id) => document.getElementById(id);
  const padCanvas = $("pad");
  const DEBOUNCE_MS = 120; // at most one answer per this many ms while drawing

  for (const el of document.querySelectorAll("[data-needs]")) el.hidden = !caps[el.dataset.needs];

  let pixels = null; // the prepared 28x28 (784 values 0..1) of what is on the pad
  let upload = null; // ImageData of an uploaded picture, prepared instead of the pad
  let chosen = null; // the digit the saliency map is for (null: the top answer)
  let timer = null;
  let inFlight = false;
  let dirty = false;

  function status(text, isError) {
    $("status").textContent = text;
    $("status").classList.toggle("error", Boolean(isError));
  }

  // ten bars, 0..9 (also the before/after bars of teaching)
  function makeBars(container, pairs) {
    const bars = [];
    for (let d = 0; d < 10; d++) {
      const fills = (pairs ? ["before", "after"] : [""]).map((k) => ownnet.el("span", { class: `fill ${k}` }));
      const value = ownnet.el("span", { class: "value" });
      const row = ownnet.el("div", { class: "bar", "data-digit": String(d) },
        ownnet.el("span", { class: "label", text: String(d) }),
        ownnet.el("span", { class: "track" }, ...fills), value);
      container.append(row);
      bars.push({ row, fills, value });
    }
    return bars;
  }
  const bars = makeBars($("bars"));
  const teachBars = makeBars($("teach-bars"), true);

  function showBars(probabilities, digit) {
    bars.forEach((b, d) => {
      const p = probabilities ? probabilities[d] : 0;
      b.fills[0].style.width = `${(100 * p).toFixed(1)}%`;
      b.value.textContent = probabilities ? ownnet.percent(p) : "";
      b.row.classList.toggle("best", probabilities !== null && d === digit);
    });
  }

  function showAnswer(result) {
    if (!result) {
      $("digit").textContent = "–";
      $("confidence").textContent = "";
      showBars(null);
      ownnet.drawPixels($("preview"), new Uint8Array(784), 28);
      $("layers").replaceChildren();
      ownnet.paint($("saliency"), 28, 28, () => [255, 255, 255]);
      $("saliency-caption").textContent = "Draw a digit.";
      return;
    }
    $("digit").textContent = String(result.digit);
    $("confidence").textContent = ownnet.percent(result.probabilities[result.digit]);
    showBars(result.probabilities, result.digit);
    ownnet.drawPixels($("preview"), pixels.map((v) => Math.round(255 * v)), 28);
    ownnetInside.layers($("layers"), result);
    ownnetInside.saliency($("saliency"), result.saliency.values, pixels);
    const d = result.saliency.digit;
    $("saliency-caption").textContent =
      `for ${d}${chosen === null ? " (the top answer)" : ""}: red towards ${d}, blue away (√ scale)`;
  }

  // -- asking the backend -----------------------------------------------------------------------
  // padCanvas.dataset.state is "busy" while an answer is due, else "idle" (tests wait for it)
  function markState() {
    padCanvas.dataset.state = inFlight || dirty || timer !== null ? "busy" : "idle";
  }

  function schedule(delay = DEBOUNCE_MS) {
    dirty = true;
    markState();
    if (timer !== null && delay > 0) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; update(); }, delay);
  }

  async function update() {
    if (inFlight || !dirty) {
      markState();
      return;
    }
    dirty = false;
    inFlight = true;
    markState();
    try {
      if (!upload && !pad.hasInk()) {
        pixels = null;
        showAnswer(null);
        status("");
        return;
      }
      const prepared = await backend.prepare(upload || pad.imageData());
      pixels = prepared.pixels;
      await ask();
    } catch (err) {
      status(err.message, true);
    } finally {
      inFlight = false;
      markState();
      if (dirty) schedule(0);
    }
  }

  // the inside view (with the answer) for the current pixels
  async function ask() {
    if (!pixels) return;
    const result = await backend.inside(pixels, chosen);
    showAnswer(result);
    status("");
  }

  const pad = ownnetPad(padCanvas, { undo: $("undo"), eraser: $("eraser"), pen: $("pen"), clear: $("clear") },
    (done) => {
      upload = null;
      schedule(done ? 0 : DEBOUNCE_MS);
    });

  $("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      pad.show(bitmap);
      // prepare the picture itself (at most 1200 px a side), not its copy on the pad
      const k = Math.min(1, 1200 / Math.max(bitmap.width, bitmap.height));
      const c = ownnet.el("canvas");
      c.width = Math.max(1, Math.round(bitmap.width * k));
      c.height = Math.max(1, Math.round(bitmap.height * k));
      const cx = c.getContext("2d");
      cx.fillStyle = "#fff";
      cx.fillRect(0, 0, c.width, c.height);
      cx.drawImage(bitmap, 0, 0, c.width, c.height);
      upload = cx.getImageData(0, 0, c.width, c.height);
      schedule(0);
    } catch (err) {
      status(`cannot read ${file.name}: ${err.message}`, true);
    }
  });

  // -- saliency for another digit ----------------------------------------------------------------
  function digitButtons(container, withTop, onClick) {
    const buttons = [];
    for (const d of withTop ? [null, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      const b = ownnet.el("button", { type: "button", "data-digit": d === null ? "top" : String(d),
        text: d === null ? "top answer" : String(d) });
      b.addEventListener("click", () => onClick(d, b));
      container.append(b);
      buttons.push(b);
    }
    return buttons;
  }
  const salButtons = digitButtons($("saliency-digits"), true, async (d, b) => {
    chosen = d;
    for (const x of salButtons) x.setAttribute("aria-pressed", String(x === b));
    try {
      await ask();
    } catch (err) {
      status(err.message, true);
    }
  });
  salButtons[0].setAttribute("aria-pressed", "true");

  // -- teaching --------------------------------------------------------------------------------
  function showTaught(r) {
    $("teach-result").hidden = false;
    const before = r.before, after = r.after;
    $("teach-text").textContent =
      `Learnt as ${r.digit} with ${r.rule}: it read ${before.digit} ` +
      `(${ownnet.percent(before.probabilities[before.digit])}), now ${after.digit} ` +
      `(${ownnet.percent(after.probabilities[after.digit])}); ${r.digit} went from ` +
      `${ownnet.percent(before.probabilities[r.digit])} to ${ownnet.percent(after.probabilities[r.digit])}. ` +
      `The weights moved by ${(100 * r.change.relative).toPrecision(2)} % of their size ` +
      `(the largest change of one weight: ${r.change.max.toPrecision(2)}).`;
    teachBars.forEach((b, d) => {
      b.fills[0].style.width = `${(100 * before.probabilities[d]).toFixed(1)}%`;
      b.fills[1].style.width = `${(100 * after.probabilities[d]).toFixed(1)}%`;
      b.value.textContent = `${ownnet.percent(before.probabilities[d], 0)} → ${ownnet.percent(after.probabilities[d], 0)}`;
      b.row.classList.toggle("best", d === r.digit);
    });
  }

  function setUndo(n, taught) {
    $("teach-undo").disabled = !n;
    $("teach-reset").disabled = !taught;
  }

  if (caps.teach) {
    digitButtons($("teach-digits"), false, async (d) => {
      if (!pixels) {
        status("Draw a digit first, then say which it is.", true);
        return;
      }
      try {
        const r = await backend.teach(pixels, d);
        showTaught(r);
        setUndo(r.undo, r.taught);
        await afterModelChange(false);
      } catch (err) {
        status(err.message, true);
      }
    });
    for (const [id, action] of [["teach-undo", () => backend.undo()], ["teach-reset", () => backend.reset()]]) {
      $(id).addEventListener("click", async () => {
        try {
          const r = await action();
          setUndo(r.undo, r.model.taught);
          await afterModelChange(false);
          status(id === "teach-undo" ? "Undone: the model is as it was before the last step."
            : "Reset: the model is the file again.");
        } catch (err) {
          status(err.message, true);
        }
      });
    }
    $("save-as").addEventListener("click", async () => {
      try {
        const r = await backend.saveAs($("save-name").value.trim());
        await afterModelChange(true);
        status(`Saved as ${r.saved} in the server's model folder; it is the model now.`);
      } catch (err) {
        status(err.message, true);
      }
    });
  }

  // -- dreams ------------------------------------------------------------------------------------
  if (caps.dream) {
    $("dream").addEventListener("click", async () => {
      if (!pixels) {
        status("Draw a digit (or upload one) to dream from.", true);
        return;
      }
      $("dream").disabled = true;
      status("Dreaming…");
      try {
        const r = await backend.dream(pixels, 40);
        ownnetInside.gallery($("dreams"), [pixels, ...r.layers.map((l) => l.image)],
          ["your drawing", ...r.layers.map((l) => `${l.name}: ×${(l.end / Math.max(l.start, 1e-12)).toFixed(1)}`)],
          (i) => ({ "data-layer": i ? r.layers[i - 1].name : "input" }));
        status("");
      } catch (err) {
        status(err.message, true);
      } finally {
        $("dream").disabled = false;
      }
    });
  }

  // -- the model: card, class pictures, menu ----------------------------------------------------
  async function loadPictures() {
    const caption = $("pictures-caption");
    caption.textContent = "working them out…";
    try {
      const pics = await backend.pictures();
      ownnetInside.gallery($("class-pictures"), pics.images,
        pics.images.map((_, d) => `${d} → reads ${pics.read_as[d]} ${pics.read_as[d] === d ? "✓" : "✗"}`),
        (d) => ({ "data-digit": String(d), class: pics.read_as[d] === d ? "right" : "wrong" }));
      const right = pics.read_as.filter((r, d) => r === d).length;
      caption.textContent = (pics.method === "backquery"
        ? "The book's back query: each output asks for its digit alone and the signal runs " +
          "backwards through the network, with the background set to 0 as in MNIST."
        : "Activation maximisation: starting from faint noise, each picture was changed step " +
          "by step to make its digit's score as large as possible.") +
        ` Fed forward again, ${right} of 10 read as their own digit.`;
    } catch (err) {
      caption.textContent = err.message;
    }
  }

  async function loadCard() {
    const card = $("card");
    card.replaceChildren();
    let model;
    try {
      model = await backend.model();
    } catch (err) {
      card.append(ownnet.el("dt", { text: "no model" }), ownnet.el("dd", { text: err.message }));
      return null;
    }
    const c = model.card || {};
    const rows = [
      ["file", `${model.name}${c.source === "trained here" ? " (trained here)" : ""}`],
      ["kind", model.kind],
      ["layers", c.description || model.layers.map((l) => l.name).join(", ")],
      ["test accuracy", c.test_accuracy == null ? null
        : ownnet.percent(c.test_accuracy, 2) + (c.taught ? " (of the file)" : "")],
      ["taught here", c.taught ? `${c.taught} step${c.taught > 1 ? "s" : ""}` : null],
      ["data", c.dataset],
      ["seed", c.seed],
      ["ownnet", c.ownnet_version],
    ];
    for (const [k, v] of Object.entries(c.settings || {})) {
      rows.push([k, typeof v === "object" ? JSON.stringify(v) : v]);
    }
    for (const [k, v] of rows) {
      if (v === null || v === undefined || v === "") continue;
      card.append(ownnet.el("dt", { text: k }), ownnet.el("dd", { text: String(v) }));
    }
    $("meaning").textContent = `Bars: ${model.meaning}.`;
    document.body.dataset.model = model.name;
    return model;
  }

  async function loadMenu() {
    if (!caps.models) return;
    try {
      const r = await backend.models();
      const menu = $("model-menu");
      menu.replaceChildren(...r.models.map((m) => ownnet.el("option", { value: m.name,
        text: `${m.name} (${(m.size / 1e6).toFixed(1)} MB, ${m.modified})` })));
      menu.value = r.served || "";
      setUndo(r.undo, r.taught);
    } catch (err) {
      status(err.message, true);
    }
  }

  async function afterModelChange(menuToo) {
    await loadCard();
    if (menuToo) await loadMenu();
    if (pixels) await ask();
    await loadPictures();
  }

  if (caps.models) {
    $("model-menu").addEventListener("change", async (event) => {
      try {
        await backend.useModel(event.target.value);
        $("teach-result").hidden = true;
        await afterModelChange(true);
        status(`Now serving ${event.target.value}.`);
      } catch (err) {
        status(err.message, true);
        await loadMenu();
      }
    });
  }

  showAnswer(null);
  markState();
  loadCard().then((model) => {
    if (model) loadPictures();
  });
  loadMenu();
})();
