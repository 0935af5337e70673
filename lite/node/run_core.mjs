// Runs xlcredit's pure-Python core inside Pyodide under Node and prints core_cases.py's JSON answer.
// Pyodide comes from node_modules (the pinned `pyodide` npm package carries the runtime): no network.
// Only pure-Python files are copied into Pyodide's filesystem: the core without its numpy modules
// (core/fast, core/provisioning.py, core/review.py), the rate reader and the shipped policy and rate tables.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPyodide } from "pyodide";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const NUMPY_MODULES = new Set(["xlcredit/core/provisioning.py", "xlcredit/core/review.py"]);

function filesUnder(folder, keep) {
  const out = [];
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) continue; // core/fast (numpy) and data/sample are not needed
    if (keep(name)) out.push(path);
  }
  return out;
}

const wanted = [
  join(repo, "xlcredit/__init__.py"),
  ...filesUnder(join(repo, "xlcredit/core"), (n) => n.endsWith(".py")),
  join(repo, "xlcredit/io/__init__.py"),
  join(repo, "xlcredit/io/rates.py"),
  join(repo, "xlcredit/data/policy.toml"),
  ...filesUnder(join(repo, "xlcredit/data/rates"), (n) => n.endsWith(".csv") || n.endsWith(".md")),
  ...filesUnder(join(repo, "xlcredit/data/policies"), (n) => n.endsWith(".toml")),
].filter((p) => !NUMPY_MODULES.has(relative(repo, p).split("\\").join("/")));

const pyodide = await loadPyodide({ indexURL: join(here, "node_modules", "pyodide") + "/" });
const root = "/home/pyodide/app";
for (const path of wanted) {
  const target = join(root, relative(repo, path)).split("\\").join("/");
  pyodide.FS.mkdirTree(dirname(target));
  pyodide.FS.writeFile(target, readFileSync(path));
}
pyodide.FS.writeFile(`${root}/core_cases.py`, readFileSync(join(here, "core_cases.py")));
const answer = pyodide.runPython(`
import sys
sys.path.insert(0, "${root}")
import json, core_cases
json.dumps(core_cases.cases(), sort_keys=True)
`);
process.stdout.write(answer + "\n");
