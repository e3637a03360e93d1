// The drawing pad: pointer strokes (mouse, finger, pen), pen width, eraser, undo, images.
"use strict";

// ownnetPad(canvas, {undo, eraser, pen, clear}, onChange): onChange() after every change
function ownnetPad(canvas, controls, onChange) {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const INK = "#000";
  const PAPER = "#fff";
  const MAX_UNDO = 30;
  const history = []; // the pad before each stroke (ImageData), most recent last
  let drawing = false;
  let last = null;
  let ink = false; // anything drawn since the pad was last blank

  function width() {
    return Number(controls.pen.value) || 20;
  }

  function erasing() {
    return controls.eraser.getAttribute("aria-pressed") === "true";
  }

  function blank() {
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }

  function remember() {
    history.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
    if (history.length > MAX_UNDO) history.shift();
    controls.undo.disabled = false;
  }

  // whether the pad has any dark pixel (after the eraser or an undo it may have none)
  function hasInk() {
    if (!ink) return false;
    const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < d.length; i += 16) if (d[i] < 128) return true;
    return false;
  }

  function point(event) {
    const r = canvas.getBoundingClientRect();
    return [(event.clientX - r.left) * canvas.width / r.width,
            (event.clientY - r.top) * canvas.height / r.height];
  }

  function stroke(from, to) {
    ctx.strokeStyle = erasing() ? PAPER : INK;
    ctx.lineWidth = erasing() ? width() * 1.5 : width();
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
    if (!erasing()) ink = true;
  }

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    remember();
    drawing = true;
    last = point(event);
    stroke(last, last);
    onChange(false);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of (events.length ? events : [event])) {
      const p = point(e);
      stroke(last, p);
      last = p;
    }
    onChange(false);
  });
  for (const type of ["pointerup", "pointercancel"]) {
    canvas.addEventListener(type, () => {
      if (!drawing) return;
      drawing = false;
      onChange(true);
    });
  }

  controls.undo.addEventListener("click", () => pad.undo());
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "z" && event.target.tagName !== "INPUT") {
      event.preventDefault();
      pad.undo();
    }
  });
  controls.eraser.addEventListener("click", () => {
    controls.eraser.setAttribute("aria-pressed", String(!erasing()));
  });
  controls.clear.addEventListener("click", () => {
    if (ink) remember();
    blank();
    ink = false;
    onChange(true);
  });

  const pad = {
    hasInk,
    imageData() {
      return ctx.getImageData(0, 0, canvas.width, canvas.height);
    },
    undo() {
      if (!history.length) return;
      ctx.putImageData(history.pop(), 0, 0);
      controls.undo.disabled = history.length === 0;
      ink = true; // hasInk() looks at the pixels
      onChange(true);
    },
    // show a picture (an ImageBitmap) on the pad, scaled to fit
    show(bitmap) {
      remember();
      blank();
      const k = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
      const w = bitmap.width * k, h = bitmap.height * k;
      ctx.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
      ink = true;
    },
  };
  blank();
  return pad;
}
