// Writes a memory snapshot of a freshly started Pyodide (nothing of optim_lib's in it) to the
// path given as the first argument. The site's worker restores it instead of starting Python
// from scratch: 1.3 s instead of 5.3 s in Chromium on a 2-core machine. Run by
// _ext/site_assets.py at build time, with Node.js and the same pinned Pyodide package.
import { loadPyodide } from "../node_modules/pyodide/pyodide.mjs";
import { writeFileSync } from "node:fs";

const pyodide = await loadPyodide({ _makeSnapshot: true });
writeFileSync(process.argv[2], pyodide.makeMemorySnapshot());
