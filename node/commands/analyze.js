// node/commands/analyze.js: `scenario-lab analyze <output-dir>`: the core's analysis of a batch
// output folder, written to <dir>/analysis/, with the report or the whole analysis on stdout.

import { UsageError } from '../flags.js';
import { confinedStorage } from '../storage.js';
import { EXIT, err, out, plural } from '../output.js';

export async function analyze(api, values, positionals) {
  if (positionals.length !== 1) throw new UsageError('analyze needs one batch output folder', 'analyze');
  const halfWidth = values['half-width'] === undefined ? undefined : Number(values['half-width']);
  if (halfWidth !== undefined && !(halfWidth > 0)) throw new UsageError(`--half-width must be a number above 0, not '${values['half-width']}'`, 'analyze');
  const { analyzeBatch } = await api();
  const dir = positionals[0].replace(/\/+$/, '') || '.';
  const a = await analyzeBatch(dir, confinedStorage(dir), { success: values.success, halfWidth });
  if (values.json) out(JSON.stringify(a, null, 2));
  else if (values.report) out(a.report_markdown);
  const p = a.patterns;
  const problems = a.problems.length + a.problems_not_listed;
  err(`Analysed ${plural(p.total_runs, 'run')} in ${plural(a.variations.length, 'variation')} (${p.completed_runs} completed, ${p.successful_runs} successful)` +
    `${problems ? `; ${plural(problems, 'data problem')}, listed in the report` : ''}`);
  err(`Wrote ${dir}/analysis/: ${a.files.map((f) => f.split('/').pop()).join(', ')}`);
  process.exitCode = EXIT.ok;
}
