#!/usr/bin/env node
// A `solc`-compatible command line over the npm `solc` package (the official compiler built to wasm).
//
// py-solc-x and forge drive a native `solc` through two calls only, and this wrapper answers both on a
// clean stdout (solcjs' own CLI prints an extra line first, which breaks their parsers):
//
//   solc --version                      -> "solc, the solidity compiler commandline interface\nVersion: X"
//   solc --standard-json [paths/flags]  -> reads the standard-JSON input on stdin, writes the output JSON
//
// Imports that are not already in the input are resolved, in order, against: the --base-path, each
// --include-path, the current directory, and every node_modules directory from the current directory up.
// Nothing is downloaded: the compiler version is the one pinned in package.json.
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
  process.stderr.write(`solc wrapper: ${message}\n`);
  process.exit(1);
}

let solc;
try {
  solc = require('solc');
} catch (err) {
  fail(`the npm package "solc" is not installed (run the project's setup): ${err.message}`);
}

function nativeStyleVersion() {
  // solcjs reports e.g. "0.8.30+commit.73712a01.Emscripten.clang"; native builds end in the platform.
  return solc.version();
}

function parseArgs(argv) {
  const opts = { mode: null, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const takeValue = () => {
      if (arg.includes('=')) return arg.slice(arg.indexOf('=') + 1);
      if (i + 1 >= argv.length) fail(`option ${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--version' || arg === '-v') opts.mode = 'version';
    else if (arg === '--standard-json') opts.mode = opts.mode || 'standard-json';
    else if (arg.startsWith('--base-path')) opts.basePath = takeValue();
    else if (arg.startsWith('--include-path')) opts.includePaths.push(takeValue());
    else if (arg.startsWith('--allow-paths')) opts.allowPaths.push(...takeValue().split(','));
    else if (arg === '--no-import-callback') opts.noImportCallback = true;
    else if (arg === '-' || arg === '--pretty-json' || arg === '--json-indent') continue;
    else fail(`unsupported option "${arg}" (this wrapper answers --version and --standard-json only)`);
  }
  return opts;
}

function importResolver(opts) {
  const roots = [];
  if (opts.basePath) roots.push(path.resolve(opts.basePath));
  for (const p of opts.includePaths) roots.push(path.resolve(p));
  roots.push(process.cwd());
  let dir = process.cwd();
  for (;;) {
    roots.push(path.join(dir, 'node_modules'));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  roots.push(path.resolve(__dirname, '..', '..', 'node_modules'));
  return function findImports(importPath) {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((root) => path.join(root, importPath));
    for (const candidate of candidates) {
      try {
        if (fs.statSync(candidate).isFile()) return { contents: fs.readFileSync(candidate, 'utf8') };
      } catch (_) {
        // not under this root; try the next one
      }
    }
    return { error: `File not found: ${importPath} (searched ${roots.length} roots)` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === 'version') {
    process.stdout.write(
      `solc, the solidity compiler commandline interface\nVersion: ${nativeStyleVersion()}\n`,
    );
    return;
  }
  if (opts.mode !== 'standard-json') fail('nothing to do: pass --version or --standard-json');
  const input = fs.readFileSync(0, 'utf8');
  const callbacks = opts.noImportCallback ? {} : { import: importResolver(opts) };
  const output = solc.compile(input, callbacks);
  process.stdout.write(output);
  process.stdout.write('\n');
}

main();
