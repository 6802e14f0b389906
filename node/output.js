// node/output.js owns how the CLI speaks: results on stdout; diagnostics, warnings and errors on
// stderr, prefixed `scenario-lab:`; colour, decided once per stream; and the exit-code table,
// with the one function that turns an error into its exit code; and the yes/no question asked
// on a terminal before something large. Commands set
// `process.exitCode` through it and return, so pending output is flushed and `finally` blocks
// run.

import { createInterface } from 'node:readline/promises';
import { styleText } from 'node:util';

/** The exit codes (the EXIT STATUS sections of the help say what each command means by them). */
export const EXIT = { ok: 0, failure: 1, usage: 2, invalid: 2 };

/**
 * Colour, decided once per stream: only on a terminal, never with NO_COLOR (any non-empty value,
 * as no-color.org says) or TERM=dumb, never with --json.
 */
export function colorFor(stream, json) {
  if (json) return false;
  if (!stream.isTTY) return false;
  if (process.env.NO_COLOR) return false;
  if (process.env.TERM === 'dumb') return false;
  return true;
}

export function paint(format, text, stream, enabled) {
  return enabled ? styleText(format, text, { stream }) : text;
}

export const out = (text = '') => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
export const err = (text = '') => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function warn(line) {
  err(`scenario-lab: ${paint('yellow', line, process.stderr, colorFor(process.stderr, false))}`);
}

export function printDiagnostics(diagnostics) {
  for (const d of diagnostics) err(d.text);
}

/** A UsageError (node/flags.js): one line, a pointer to --help, exit 2. */
export function usageError(e) {
  const color = colorFor(process.stderr, false);
  err(`scenario-lab: ${paint('red', 'error:', process.stderr, color)} ${e.message}`);
  err(`Run 'scenario-lab ${e.command ? `${e.command} ` : ''}--help' for usage.`);
  process.exitCode = EXIT.usage;
}

/**
 * Errors thrown by the core carry a stable `kind` and the `exitCode` of that kind (the one table,
 * `ErrorKind::exit_code` in src/error.rs); anything else is a bug and shows its stack.
 */
export function reportError(e) {
  const color = colorFor(process.stderr, false);
  const label = paint('red', 'error:', process.stderr, color);
  if (typeof e?.kind !== 'string' || !Number.isInteger(e?.exitCode)) {
    err(`scenario-lab: ${label} unexpected error (a bug in scenario-lab; please report it):`);
    err(e?.stack ?? String(e));
    process.exitCode = EXIT.failure;
    return;
  }
  process.exitCode = e.exitCode;
  if (e.kind === 'config_invalid') {
    const diags = Array.isArray(e.diagnostics) ? e.diagnostics : [];
    printDiagnostics(diags);
    const n = diags.filter((d) => d.severity === 'error').length;
    err(`scenario-lab: ${label} ${diags.length ? `invalid config (${plural(n, 'error')})` : e.message}`);
  } else if (e.kind === 'internal') {
    err(`scenario-lab: ${label} internal error (a bug in scenario-lab; please report it): ${e.message}`);
  } else {
    err(`scenario-lab: ${label} ${e.message}`);
  }
}

/** Asks a yes/no question on the terminal (stderr); only "y" or "yes" is a yes. */
export async function confirm(question) {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^\s*y(es)?\s*$/i.test(await rl.question(question));
  } finally {
    rl.close();
  }
}
