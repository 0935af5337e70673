// Installs the lean wheel (dist/xlcredit_lite-*.whl, built by lite/build_wheel.py) with micropip inside the real
// Pyodide under Node, from a local file, then runs a cases file on it (wheel_cases.py, or the third argument) and
// prints its JSON answer. The XLCREDIT_* environment variables are handed to Pyodide's os.environ (as xlwings Lite's
// Environment Variables are); service_cases.py uses them to ask a local xlcredit service with pyfetch.
// No network: Pyodide comes from node_modules, micropip from lite/node/wheels (PyPI's micropip wheel, the version
// Pyodide's lock file names), the lean wheel from the path given as the first argument.
// Lite's own `xlwings` is stood in for by xlwings_stand_in.py (the add-in always brings xlwings itself).
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPyodide } from "pyodide";

const here = dirname(fileURLToPath(import.meta.url));
const wheel = process.argv[2];
const micropipWheel = process.argv[3];
const casesFile = process.argv[4] || "wheel_cases.py";
if (!wheel || !micropipWheel) throw new Error("usage: node run_wheel.mjs LEAN_WHEEL MICROPIP_WHEEL [CASES_FILE]");
const settings = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("XLCREDIT_")));

const pyodide = await loadPyodide({ indexURL: join(here, "node_modules", "pyodide") + "/" });
// micropip: a pure-Python wheel, unpacked into site-packages (what installing a pure wheel is)
pyodide.FS.writeFile("/tmp/micropip.whl", readFileSync(micropipWheel));
pyodide.runPython(`
import site, zipfile
zipfile.ZipFile("/tmp/micropip.whl").extractall(site.getsitepackages()[0])
`);
const target = `/tmp/${basename(wheel)}`;
pyodide.FS.writeFile(target, readFileSync(wheel));
pyodide.FS.mkdirTree("/home/pyodide/standin/xlwings");
pyodide.FS.writeFile("/home/pyodide/standin/xlwings/__init__.py", readFileSync(join(here, "xlwings_stand_in.py")));
pyodide.FS.writeFile("/home/pyodide/lite_cases.py", readFileSync(join(here, casesFile)));
pyodide.FS.writeFile("/home/pyodide/core_cases.py", readFileSync(join(here, "core_cases.py")));
pyodide.globals.set("settings_json", JSON.stringify(settings));
const answer = await pyodide.runPythonAsync(`
import sys
import micropip
await micropip.install("emfs:${target}")
sys.path[:0] = ["/home/pyodide/standin", "/home/pyodide"]
import json, os
os.environ.update(json.loads(settings_json))
import lite_cases
json.dumps(await lite_cases.cases(), sort_keys=True, default=str)
`);
process.stdout.write(answer + "\n");
