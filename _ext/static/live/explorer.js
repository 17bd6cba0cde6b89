// The website's live explorers: the sliders of each chapter's trajectory, loss-curve and
// schedule explorers, running optim_lib's own Python (in Pyodide, in a module Web Worker: worker.js)
// in the reader's browser. The build writes each explorer's description (sliders, settings,
// the figure's background and geometry) into the page, next to the static figure; this script
// turns it into controls, forwards slider positions to the worker and draws what comes back.
// It holds no math: Python maps positions to values and data to pixels.
//
// A classic script, not a module: a page opened from file:// refuses module scripts and
// workers, and must still show its static figures and say how to get live sliders.
(function () {
  "use strict";

  const BASE = document.currentScript.src.replace(/[^/]*$/, "");  // .../_static/offline/live/
  const FONT = '"DejaVu Sans", "Bitstream Vera Sans", Verdana, sans-serif';  // matplotlib's
  const TEXT = {
    waiting: "Live sliders: Python starts in your browser when you reach this explorer.",
    starting: "Starting Python in your browser…",
    live: "Live: these sliders run optim_lib's update rules in your browser.",
    file: "The sliders run live when the site is served over http: in _build/html run " +
          "python -m http.server and open http://localhost:8000, or read the course website.",
    failed: "Python could not start in your browser, so the sliders are off; the figure shows " +
            "the default setting. (",
  };

  const explorers = new Map();  // id -> explorer
  let worker = null;
  let workerReady = false;
  let busy = false;
  let sequence = 0;
  const pending = new Map();  // id -> {positions, t0}: only the newest setting is kept

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setStatus(explorer, text, state) {
    explorer.status.textContent = text;
    explorer.root.dataset.state = state;
  }

  // --- Controls --------------------------------------------------------------------------

  function buildControls(explorer) {
    const panel = element("div", "optim-live-controls");
    explorer.inputs = {};
    explorer.readouts = {};
    for (const slider of explorer.spec.sliders) {
      const row = element("div", "optim-live-row");
      const id = `${explorer.spec.id}-${slider.name}`;
      const label = element("label", "optim-live-label", slider.description);
      label.htmlFor = id;
      const input = element("input", "optim-live-input");
      input.id = id;
      input.name = slider.name;
      if (slider.kind === "checkbox") {
        input.type = "checkbox";
        input.checked = slider.start === 1;
      } else {
        input.type = "range";
        input.min = "0";
        input.max = String(slider.count - 1);
        input.step = "1";
        input.value = String(slider.start);
      }
      input.disabled = true;
      const readout = element("output", "optim-live-readout", slider.readout);
      readout.htmlFor = id;
      // The event's own time stamp: the moment of the reader's input.
      const update = (event) => request(explorer, event.timeStamp);
      if (slider.kind === "checkbox" || !explorer.spec.continuous_update) {
        input.addEventListener("change", update);
      } else {
        input.addEventListener("input", update);
      }
      row.append(label, input, readout);
      panel.append(row);
      explorer.inputs[slider.name] = input;
      explorer.readouts[slider.name] = readout;
    }
    return panel;
  }

  function positions(explorer) {
    const result = {};
    for (const [name, input] of Object.entries(explorer.inputs)) {
      result[name] = input.type === "checkbox" ? (input.checked ? 1 : 0) : Number(input.value);
    }
    return result;
  }

  function setEnabled(explorer, enabled) {
    for (const input of Object.values(explorer.inputs)) input.disabled = !enabled;
  }

  // --- The worker ------------------------------------------------------------------------

  function startWorker() {
    if (worker) return;
    const t0 = performance.now();
    for (const explorer of explorers.values()) setStatus(explorer, TEXT.starting, "starting");
    try {
      worker = new Worker(`${BASE}worker.js`, { type: "module" });
    } catch (error) {
      return fail(error);
    }
    worker.onerror = (event) => fail(event.message || "the worker did not load");
    worker.onmessage = (event) => receive(event.data, t0);
    worker.postMessage({ type: "start" });
    for (const explorer of explorers.values()) {
      worker.postMessage({ type: "register", id: explorer.spec.id, spec: explorer.spec });
    }
  }

  function fail(error, which) {
    const reason = String(error && error.message ? error.message : error);
    for (const explorer of which || explorers.values()) {
      setEnabled(explorer, false);
      explorer.controls.hidden = true;
      setStatus(explorer, `${TEXT.failed}${reason})`, "failed");
    }
    console.warn("optim_lib live explorers:", reason);
  }

  function receive(message, t0) {
    if (message.type === "ready") {
      workerReady = true;
      window.optimLive.readyMs = performance.now() - t0;
      window.optimLive.pythonMs = message.ms;
      window.optimLive.phases = message.phases;
      for (const explorer of explorers.values()) {
        setEnabled(explorer, true);
        setStatus(explorer, TEXT.live, "live");
      }
      pump();
    } else if (message.type === "result") {
      busy = false;
      const explorer = explorers.get(message.id);
      const job = explorer.inFlight;
      draw(explorer, message.result);
      const drawn = performance.now();
      // Timings, for benchmarks/bench_website.py: input to drawn, and to the next frame.
      requestAnimationFrame(() => explorer.events.push(
        { ms: drawn - job.t0, frameMs: performance.now() - job.t0, pythonMs: message.ms }));
      explorer.inFlight = null;
      pump();
    } else if (message.type === "error") {
      if (message.request === "start") return fail(message.message);
      if (message.request === "register") return fail(message.message, [explorers.get(message.id)]);
      busy = false;
      const explorer = explorers.get(message.id);
      explorer.inFlight = null;
      console.error("optim_lib live explorer:", message.message);
      showMessage(explorer, message.message);
      pump();
    }
  }

  function request(explorer, t0) {
    pending.set(explorer.spec.id, { positions: positions(explorer), t0 });
    pump();
  }

  function pump() {
    if (!workerReady || busy || pending.size === 0) return;
    const [id, job] = pending.entries().next().value;
    pending.delete(id);
    busy = true;
    explorers.get(id).inFlight = job;
    worker.postMessage({ type: "run", id, positions: job.positions, seq: ++sequence });
  }

  // --- Drawing ---------------------------------------------------------------------------

  function wrapFigure(explorer) {
    const image = explorer.image;
    const { width, height } = explorer.spec.figure;
    const wrapper = element("div", "optim-live-figure");
    image.parentNode.insertBefore(wrapper, image);
    wrapper.append(image);
    const canvas = element("canvas", "optim-live-canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.hidden = true;  // the static figure shows until the first live run
    wrapper.append(canvas);
    explorer.canvas = canvas;
    explorer.background = new Image();
    explorer.background.src = explorer.spec.figure.background;
  }

  function styleLine(context, style) {
    context.strokeStyle = style.color;
    context.fillStyle = style.color;
    context.globalAlpha = style.alpha;
    context.lineWidth = style.width;
    context.lineJoin = "round";
    context.lineCap = "butt";
    context.setLineDash(style.dash);
  }

  function drawLines(context, lines, styles) {
    for (const line of lines) {
      const style = styles[line.role];
      styleLine(context, style);
      for (const piece of line.pieces) {
        context.beginPath();
        piece.forEach(([x, y], i) => (i === 0 ? context.moveTo(x, y) : context.lineTo(x, y)));
        context.stroke();
      }
      if (style.marker_radius > 0) {
        context.setLineDash([]);
        for (const [x, y] of line.markers) {
          context.beginPath();
          context.arc(x, y, style.marker_radius, 0, 2 * Math.PI);
          context.fill();
        }
      }
      context.globalAlpha = 1;
    }
  }

  function drawStars(context, minima) {
    if (!minima) return;
    context.fillStyle = minima.color;
    context.setLineDash([]);
    for (const [x, y] of minima.points) {
      context.beginPath();
      minima.star.forEach(([dx, dy], i) => (i === 0 ? context.moveTo(x + dx, y + dy) : context.lineTo(x + dx, y + dy)));
      context.closePath();
      context.fill();
    }
  }

  function drawTicks(context, ticks, place) {
    // Tick labels whose values change with the run (the schedule panel's learning rates),
    // right-aligned at place.x, each centred on its tick's y.
    if (!ticks || !place) return;
    context.font = `${place.size}px ${FONT}`;
    context.fillStyle = place.color;
    context.textAlign = "right";
    context.textBaseline = "middle";
    for (const tick of ticks) context.fillText(tick.text, place.x, tick.y);
    context.textAlign = "start";
    context.textBaseline = "alphabetic";
  }

  function drawText(context, lines, place, weight, color) {
    // A block of lines at (x, y), aligned as matplotlib aligns it (ha, va); returns its box.
    const size = place.size;
    const step = 1.2 * size;  // matplotlib's default line spacing
    context.font = `${weight} ${size}px ${FONT}`;
    context.fillStyle = color;
    context.textBaseline = "alphabetic";
    const width = Math.max(0, ...lines.map((line) => context.measureText(line).width));
    const height = step * (lines.length - 1) + size;
    const left = place.ha === "right" ? place.x - width : place.ha === "center" ? place.x - width / 2 : place.x;
    const top = place.va === "bottom" ? place.y - height : place.va === "center" ? place.y - height / 2 : place.y;
    return { left, top, width, height, step, size };
  }

  function drawTitle(context, lines, place) {
    // The last line sits on the title's baseline; the lines above it step up.
    context.font = `${place.size}px ${FONT}`;
    context.fillStyle = "black";
    context.textAlign = "center";
    context.textBaseline = "alphabetic";
    const step = 1.2 * place.size;
    lines.forEach((line, i) => context.fillText(line, place.x, place.y - step * (lines.length - 1 - i)));
    context.textAlign = "start";
  }

  function drawMessage(context, message, place) {
    if (!message) return;
    const lines = message.split("\n");
    const box = drawText(context, lines, place, "bold", place.color);
    const pad = 0.3 * box.size;
    context.beginPath();
    context.roundRect(box.left - pad, box.top - pad, box.width + 2 * pad, box.height + 2 * pad, pad);
    context.globalAlpha = 0.9;
    context.fillStyle = "white";
    context.fill();
    context.globalAlpha = 1;
    context.strokeStyle = place.color;
    context.lineWidth = 1;
    context.setLineDash([]);
    context.stroke();
    context.fillStyle = place.color;
    lines.forEach((line, i) => context.fillText(line, box.left, box.top + box.size * 0.8 + box.step * i));
  }

  function draw(explorer, result) {
    const figure = explorer.spec.figure;
    const context = explorer.canvas.getContext("2d");
    context.clearRect(0, 0, figure.width, figure.height);
    context.drawImage(explorer.background, 0, 0);
    // Each line inside its own axes: the figure's, or a second panel's (the schedule's).
    const panels = figure.panels || {};
    for (const name of ["", ...Object.keys(panels)]) {
      const [left, top, width, height] = name ? panels[name].axes : figure.axes;
      context.save();
      context.beginPath();
      context.rect(left, top, width, height);
      context.clip();
      drawLines(context, result.lines.filter((line) => (line.panel || "") === name), figure.lines);
      context.restore();
    }
    drawTicks(context, result.lr_ticks, figure.lr_ticks);
    drawStars(context, figure.minima);
    drawTitle(context, result.title, figure.title);
    drawMessage(context, result.message, figure.message);
    explorer.canvas.hidden = false;
    explorer.image.classList.add("optim-live-replaced");
    if (explorer.summary) explorer.summary.textContent = result.summary;
    for (const [name, text] of Object.entries(result.readouts)) explorer.readouts[name].textContent = text;
    explorer.result = result;
    explorer.root.dataset.runs = String(Number(explorer.root.dataset.runs || 0) + 1);
  }

  function showMessage(explorer, message) {
    draw(explorer, { lines: [], title: [""], message, summary: `cannot run: ${message}`, readouts: {} });
  }

  // --- Setting up the page -----------------------------------------------------------------

  function following(reference, candidates) {
    return [...candidates].find((node) => reference.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING);
  }

  function setUp(root) {
    const specNode = root.querySelector("script.optim-live-spec");
    if (!specNode) return;
    const spec = JSON.parse(specNode.textContent);
    const cell = root.closest(".cell_output") || root.parentElement;
    const explorer = {
      root, spec, events: [], inFlight: null, result: null,
      image: following(root, cell.querySelectorAll("img")),
      summary: following(root, cell.querySelectorAll("pre")),
      status: element("p", "optim-live-status"),
    };
    root.optimLive = explorer;
    if (location.protocol === "file:") {
      explorer.controls = element("div");
      root.append(explorer.status);
      setStatus(explorer, TEXT.file, "file");
      return;
    }
    if (!explorer.image) return;
    explorer.controls = buildControls(explorer);
    root.append(explorer.controls, explorer.status);
    wrapFigure(explorer);
    setStatus(explorer, TEXT.waiting, "waiting");
    explorers.set(spec.id, explorer);
    // Python starts when an explorer comes into view, or on the first touch of its controls.
    root.addEventListener("pointerdown", startWorker, { once: true });
    root.addEventListener("focusin", startWorker, { once: true });
  }

  function setUpAll() {
    window.optimLive = { explorers, readyMs: null, pythonMs: null, start: startWorker };
    document.querySelectorAll(".optim-live").forEach(setUp);
    if (explorers.size === 0 || !("IntersectionObserver" in window)) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        startWorker();
      }
    }, { rootMargin: "800px 0px" });  // a head start: Python is ready sooner after the reader arrives
    for (const explorer of explorers.values()) observer.observe(explorer.root.closest(".cell") || explorer.root);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpAll);
  else setUpAll();
})();
