// node/commands/merge.js: `scenario-lab merge <dirs...> --output <dir>`: the core combines the
// output folders of a batch's shards into one output tree.

import { UsageError } from '../flags.js';
import { nodeStorage } from '../storage.js';
import { EXIT, out } from '../output.js';

export async function merge(api, values, positionals) {
  if (positionals.length < 1 || !values.output) throw new UsageError('merge needs the shard output folders and --output <dir>', 'merge');
  const { mergeBatches } = await api();
  const o = await mergeBatches(positionals, values.output, nodeStorage());
  const what = o.shards.length ? `shards ${o.shards.join(', ')}` : 'the batch';
  // The budget in cents when that is exact, else as given ($0.004 is not $0.00).
  const given = Number(o.budget_limit?.toFixed(2)) === o.budget_limit ? o.budget_limit.toFixed(2) : String(o.budget_limit);
  const budget = !(o.budget_limit > 0) ? '' : ` of the batch's $${given} budget (${((o.total_spent / o.budget_limit) * 100).toFixed(0)}%)`;
  out(`merged ${what} into ${values.output}: ${o.runs_completed} of ${o.total_runs} runs completed, ${o.runs_failed} failed, ${o.runs_halted} halted, $${o.total_spent.toFixed(4)} spent${budget}`);
  process.exitCode = EXIT.ok;
}
