// node/commands/merge.js: `scenario-lab merge <dirs...> --output <dir>`: the core combines the
// output folders of a batch's shards into one output tree.

import { UsageError } from '../flags.js';
import { nodeStorage } from '../storage.js';
import { EXIT, out } from '../output.js';

export async function merge(api, values, positionals) {
  if (positionals.length < 1 || !values.output) throw new UsageError('merge needs the shard output folders and --output <dir>', 'merge');
  const { mergeBatches } = await api();
  const o = await mergeBatches(positionals, values.output, nodeStorage());
  out(o.summary);
  process.exitCode = EXIT.ok;
}
