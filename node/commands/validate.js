// node/commands/validate.js: `scenario-lab validate <scenario-dir | batch-config>`. The core
// checks the input and reports every problem; with a key, the model ids it calls are checked
// against the provider's list too (an unknown one is a warning here).

import { UsageError } from '../flags.js';
import { fetchModels, modelSource, reportUnknownModels } from '../connection.js';
import { nodeStorage } from '../storage.js';
import { EXIT, colorFor, out, paint, plural, printDiagnostics } from '../output.js';

export async function validate(api, values, positionals) {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'validate needs a scenario folder or a batch config'
        : `validate takes one path, got ${positionals.length}`,
      'validate',
    );
  }
  const [path] = positionals;
  const json = Boolean(values.json);
  const core = await api();
  const report = await core.validate(path, nodeStorage());

  printDiagnostics([...report.errors, ...report.warnings]);
  let check = null;
  if (report.ok) {
    const source = modelSource(values);
    const list = source.key ? await fetchModels(source.base, source.key, 'ids') : null;
    if (list !== null) check = await core.checkModels(path, nodeStorage(), list);
    if (check) reportUnknownModels(check, source.base, 'warning');
  }
  const unknown = check?.unknown.length ?? 0;
  if (json) {
    out(JSON.stringify(check ? { ...report, model_check: check } : report, null, 2));
  } else {
    const color = colorFor(process.stdout, json);
    const what = report.kind === 'batch' ? 'batch config' : report.kind === 'scenario' ? 'scenario' : 'input';
    const counts = `${plural(report.errors.length, 'error')}, ${plural(report.warnings.length + unknown, 'warning')}`;
    out(
      report.ok
        ? `${paint('green', 'valid', process.stdout, color)} ${what}: ${path} (${counts})`
        : `${paint('red', 'invalid', process.stdout, color)} ${what}: ${path} (${counts})`,
    );
  }
  process.exitCode = report.ok ? EXIT.ok : EXIT.invalid;
}
