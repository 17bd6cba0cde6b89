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
  const pyodide = await loadPyodide({ indexURL: new URL("../pyodide/", import.meta.url).href });
  const manifest = await (await fetchOk(new URL("python/manifest.json", here))).json();
  for (const file of manifest.files) {
    const source = await (await fetchOk(new URL(`python/${file}`, here))).text();
    const path = `/home/pyodide/site/${file}`;
    pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(path, source);
  }
  pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide/site')");
  const web = pyodide.pyimport("optim_lib.live.web");
  return { pyodide, web, ms: performance.now() - t0 };
})();

let airfoil = null;  // the rows are read once, when the first loss-curve explorer registers

async function handle(message) {
  const { pyodide, web, ms } = await started;
  if (message.type === "start") return { type: "ready", ms };
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
