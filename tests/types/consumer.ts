// A consumer of the whole public API, compiled under `tsc --noEmit --strict` by
// tests/node/types.test.mjs: a declaration that drifts from what the package exports (a function
// renamed, a field retyped, a type no longer exported) fails that test. Nothing here runs.
import init, {
  BatchAnalyzer,
  BatchProgress,
  OPENROUTER_BASE,
  analyzeBatch,
  batchStatus,
  calibrateBatch,
  checkModels,
  configKind,
  fetchModelList,
  findBatchConfigs,
  indexedDbStorage,
  initModels,
  initProject,
  initTemplate,
  initTemplates,
  readInitAnswers,
  checkProjectDir,
  isHostedModel,
  listRuns,
  loadBatchConfig,
  loadScenario,
  memoryStorage,
  mergeBatches,
  nodeStorage,
  opfsStorage,
  planBatch,
  resolveShard,
  readRun,
  renderCalibration,
  renderPlan,
  resultRoot,
  runBatch,
  runId,
  runScenario,
  suggest,
  validate,
  version,
} from '../../index.js';
import type {
  Analysis,
  AskPerson,
  Answers,
  Project,
  BatchCosts,
  BatchEvent,
  BatchOutcome,
  BatchState,
  BatchSummary,
  BatchTotals,
  MergeOutcome,
  ResolvedShard,
  CallRecord,
  Connection,
  Costs,
  HaltReason,
  Metrics,
  PersonPrompt,
  Plan,
  RunId,
  RunStatus,
  ScenarioState,
  Storage,
  StopReason,
  ValidationReport,
} from '../../index.js';

export async function everything(): Promise<void> {
  await init();
  const v: string = version();
  const storage: Storage = memoryStorage({ 'b.yaml': 'experiment_name: x' });
  const disk: Storage = nodeStorage({ root: '.' });
  const kept: Storage = opfsStorage({ root: 'scenario-lab' });
  const db = indexedDbStorage({ name: 'scenario-lab' });
  db.close();

  const report: ValidationReport = await validate('b.yaml', storage);
  for (const d of [...report.errors, ...report.warnings]) {
    const where: string = `${d.file}:${d.line ?? '?'}:${d.column ?? '?'} ${d.severity}`;
    console.log(where, d.message, d.expected, d.found, d.suggestion, d.text);
  }
  const kind: 'scenario' | 'batch' | null = report.kind;

  const config: Record<string, unknown> = await loadBatchConfig('b.yaml', storage);
  const scenario: Record<string, unknown> = await loadScenario('s', storage);
  const shard: ResolvedShard = resolveShard('auto', 4, { JOB_COMPLETION_INDEX: '1' });
  console.log(shard.shard, shard.found ?? '');
  const plan: Plan = await planBatch('b.yaml', storage, { openrouterModels: '{}', shard: shard.shard });
  const runs: number = plan.total_runs * plan.runs_per_variation;
  const verdict: 'no_budget' | 'unknown' | 'fits' | 'tight' | 'short' = plan.budget.status;
  const firstRun: RunId = plan.variations[0].run_ids[0];
  const text: string = renderPlan(plan, { color: false });

  const calibration = await calibrateBatch('b.yaml', storage, { budgetLimit: 5 });
  const rendered: string = renderCalibration(calibration, { color: false, plan });
  const models = await checkModels('b.yaml', storage, '{"data": []}');
  const unknown: string[] = models ? models.unknown.map((u) => u.suggestion ?? u.model) : [];
  const guess: string | undefined = suggest('budget_limt', ['budget_limit']);

  const connection: Connection = { apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1' };
  const single = await runScenario({ scenarioDir: 's', turns: 2 }, storage, connection);
  const askPerson: AskPerson = async (prompt: PersonPrompt) => `${prompt.actor ?? ''} ${prompt.turn}: ${prompt.messages.map((m) => m.content).join('\n')}`;
  await runScenario({ scenarioDir: 's', human: ['council'] }, storage, connection, askPerson);
  const standing: RunStatus = single.status;
  const why: HaltReason | null = single.halt_reason;
  const where: string = single.dir;

  const progress = new BatchProgress({ totalRuns: plan.total_runs, runsPerVariation: plan.runs_per_variation });
  const outcome: BatchOutcome = await runBatch('b.yaml', storage, connection, {
    resume: true,
    budgetLimit: 1,
    shard: '1/2',
    pilot: 1,
    callTimeout: 60,
    onEvent: (e: BatchEvent) => {
      if (e.type === 'run_finished') console.log(e.data.run_id, e.data.status, e.data.halt_reason, e.data.cost);
      if (e.type === 'summary') console.log(e.data.stop_reason);
      const snapshot = progress.event(e).snapshot({ runs: false });
      console.log(snapshot.completed, snapshot.spent, snapshot.etaMs, snapshot.inFlight.join(','));
    },
    shouldStop: () => false,
  });
  const stop: StopReason | null = outcome.stop_reason;
  const merged: MergeOutcome = await mergeBatches(['a', 'b'], 'out', storage);
  const totals: BatchTotals = merged;
  console.log(merged.shards.join(','), merged.budget_limit ?? 'no budget', totals.total_spent);

  const analysis: Analysis = await analyzeBatch('out', storage, { success: 'x >= 1', write: false });
  console.log(analysis.variations.map((x) => x.variation_id), analysis.patterns.success_rate);
  const analyzer = new BatchAnalyzer('out', storage);
  await analyzer.collectRunData();
  const report2: string = analyzer.generateAnalysisReport();

  const hosted: boolean = isHostedModel('openai/gpt-4o');
  const configKindNow: 'scenario' | 'batch' | null = configKind('b.yaml', 'base_scenario: s');
  const configs: string[] = await findBatchConfigs('.', storage);
  const root: string | null = await resultRoot('.', storage);
  const status = await batchStatus('out', storage);
  const listed = await listRuns('out', storage);
  const one = await readRun('out/runs/var-001-run-001', storage);
  console.log(status.started, listed.length, one.run_id);

  const id: string = runId(7, 5);
  const list = await fetchModelList(OPENROUTER_BASE, '', { timeoutMs: 1000 });
  const listText: string | undefined = list.text;

  // The files, read back as their types.
  const read = async <T>(path: string): Promise<T> => JSON.parse(String(await disk.read(path))) as T;
  const state = await read<BatchState>('out/batch-state.json');
  const costs = await read<BatchCosts>('out/batch-costs.json');
  const summary = await read<BatchSummary>('out/batch-summary.json');
  const run = await read<ScenarioState>('out/runs/var-001-run-001/scenario-state.json');
  const metrics = await read<Metrics>('out/runs/var-001-run-001/metrics.json');
  const runCosts = await read<Costs>('out/runs/var-001-run-001/costs.json');
  const call = await read<CallRecord>('out/runs/var-001-run-001/llm-calls.jsonl');
  console.log(state.seed, costs.summary.total_spent, summary.stop_reason, run.status, metrics.final_metrics, runCosts.total_cost, call.model);
  console.log(v, kept, kind, config, scenario, runs, verdict, firstRun, text, rendered, unknown, guess);
  console.log(standing, why, where, stop, merged, report2, hosted, configKindNow, configs, root, id, listText);

  // init's wizard: a template's answers, changed, to a project's files.
  const answers: Answers = initTemplate(initTemplates()[0].name);
  answers.actors[0].model = initModels()[1].id;
  const again: Answers = readInitAnswers(JSON.stringify(answers), 'answers.json');
  const project: Project = initProject(again, { runs: 2, budget: 1 });
  const paths: string[] = project.files.map((f) => f.path);
  const notes: string[] = checkProjectDir({ written: 'p', resolved: '/tmp/p', platform: 'linux' }, { force: false });
  console.log(project.batch_config, project.scenario_dir, paths, notes);
}
