// The live explorers' worker: Python (Pyodide, served from this site) running optim_lib's own
// modules, the very files the kernel imports (copied from optim_lib/ at build time and listed
// in python/manifest.json). It answers one request at a time, in order; explorer.js keeps only
// the newest slider setting while a run is in flight. No math here: Python does it all.
import { loadPyodide } from "../pyodide/pyodide.mjs";

const here = new URL("./", import.meta.url);

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

const started = (async () => {
  const t0 = performance.now();
  // optim_lib's modules download while Pyodide starts.
  const sources = fetchOk(new URL("python/manifest.json", here))
    .then((response) => response.json())
    .then((manifest) => Promise.all(manifest.files.map(async (file) =>
      [file, await (await fetchOk(new URL(`python/${file}`, here))).text()])));
  const indexURL = new URL("../pyodide/", import.meta.url).href;
  let pyodide;
  let snapshot = true;
  try {
    // A snapshot of Pyodide just started, made at build time: restoring it takes about a
    // second where starting Python from scratch takes five (2-core machine, Chromium).
    const response = await fetchOk(new URL("pyodide-snapshot.gz", here));
    const memory = await new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
    pyodide = await loadPyodide({ indexURL, _loadSnapshot: new Uint8Array(memory) });
  } catch (error) {
    console.warn("optim_lib live explorers: no Pyodide snapshot, starting Python from scratch:", error);
    snapshot = false;
    pyodide = await loadPyodide({ indexURL });
  }
  const t1 = performance.now();
  for (const [file, source] of await sources) {
    const path = `/home/pyodide/site/${file}`;
    pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(path, source);
  }
  pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide/site')");
  const web = pyodide.pyimport("optim_lib.live.web");
  const t2 = performance.now();
  return { pyodide, web, ms: t2 - t0, phases: { pyodide: t1 - t0, optim_lib: t2 - t1, snapshot } };
})();

let airfoil = null;  // the rows are read once, when the first loss-curve explorer registers

async function handle(message) {
  const { pyodide, web, ms, phases } = await started;
  if (message.type === "start") return { type: "ready", ms, phases };
  if (message.type === "register") {
    const data = message.spec.data;
    if (data) {
      airfoil = airfoil || fetchOk(new URL("airfoil.f64", here)).then((r) => r.arrayBuffer());
      pyodide.FS.writeFile("/home/pyodide/airfoil.f64", new Uint8Array(await airfoil));
      web.load_airfoil_rows("/home/pyodide/airfoil.f64", data.sha1, data.features);
    }
    web.register(JSON.stringify(message.spec));
    return { type: "registered", id: message.spec.id };
  }
  if (message.type === "run") {
    const t0 = performance.now();
    const result = JSON.parse(web.run_json(message.id, JSON.stringify(message.positions)));
    return { type: "result", id: message.id, seq: message.seq, result, ms: performance.now() - t0 };
  }
  throw new Error(`unknown request ${message.type}`);
}

let queue = Promise.resolve();
self.onmessage = (event) => {
  const message = event.data;
  queue = queue.then(() => handle(message)).then(
    (reply) => self.postMessage(reply),
    (error) => self.postMessage({ type: "error", id: message.id, seq: message.seq, request: message.type,
                                  message: String(error && error.message ? error.message : error) }),
  );
};
