// Generated from the Rust types of src/ by `UPDATE_TYPES=1 cargo test --lib typescript`.
// Do not edit: change the Rust type (its doc comments become these comments).

/**
 * One actor.
 */
export type ActorAnswers = { 
/**
 * Its full name ("Castell Components").
 */
name: string, 
/**
 * The short id its file and `--model-override` use; made from the name when absent.
 */
short_name?: string, 
/**
 * What it is in the scenario.
 */
role: string, 
/**
 * What it wants.
 */
goals?: Array<string>, 
/**
 * The model that plays it; the built-in simulator when absent.
 */
model?: string, };

/**
 * The analysis of one folder.
 */
export type Analysis = { 
/**
 * `experiment_name`, when the folder says.
 */
experiment: string | null, 
/**
 * The folder analysed.
 */
source: string, 
/**
 * Who wrote it.
 */
format: Format, 
/**
 * `metrics-analysis.json`: per metric, over all completed runs.
 */
metrics: { [key in string]: MetricStats }, 
/**
 * `variation-statistics.json`, in variation order.
 */
variations: Array<VariationStats>, 
/**
 * `patterns.json`.
 */
patterns: Patterns, 
/**
 * What was wrong with the input.
 */
problems: Array<Problem>, 
/**
 * Problems beyond those listed.
 */
problems_not_listed: number, 
/**
 * What providers' caches and batch prices saved the runs.
 */
savings: Savings, 
/**
 * The report, as Markdown.
 */
report_markdown: string, 
/**
 * Files written, when any.
 */
files: Array<string>, };

/**
 * The data of `analysis`.
 */
export type AnalysisWritten = { 
/**
 * The analysis folder.
 */
dir: string, 
/**
 * The files written there.
 */
files: Array<string>, 
/**
 * Runs analysed.
 */
runs: number, 
/**
 * Completed runs over all runs analysed.
 */
success_rate: number, 
/**
 * Data problems found (listed in the report).
 */
problems: number, };

/**
 * What the caller asks for.
 */
export type AnalyzeOptions = { 
/**
 * A success condition that overrides the batch config's `success:`.
 */
success?: string, 
/**
 * The 95% CI half-width to size runs for (default: 5% of each metric's observed range).
 */
halfWidth?: number, 
/**
 * Write `<dir>/analysis/` (default true).
 */
write?: boolean, };

/**
 * What a person answered. The JSON form of an answers file (`init --answers FILE`).
 */
export type Answers = { 
/**
 * The scenario's name; the folders are named after it.
 */
title: string, 
/**
 * What the scenario is about (the question it explores): the scenario's description, and
 * what every actor is told.
 */
description?: string, 
/**
 * Where things stand before turn 1; the description when empty.
 */
situation?: string, 
/**
 * Who takes part.
 */
actors: Array<ActorAnswers>, 
/**
 * How many turns a run plays.
 */
turns?: number, 
/**
 * How long one turn is in the story ("1 week").
 */
turn_duration?: string, 
/**
 * What to measure each turn.
 */
metrics?: Array<MetricAnswers>, 
/**
 * The model that writes the world's turns and reads the metrics; the first actor's when
 * none is given.
 */
world_model?: string, 
/**
 * Whether actors may talk privately and form coalitions between turns.
 */
communication?: boolean, 
/**
 * How many runs the batch makes.
 */
runs?: number, 
/**
 * The most the batch may spend, in USD; none: no limit.
 */
budget?: number, };

/**
 * One arm of an intervention: its name, and what changes at the intervention's turn. Every
 * change is optional and they combine; an arm with none is a control.
 */
export type Arm = { 
/**
 * Its name, unique in the intervention.
 */
name: string, 
/**
 * An exogenous event's text, at the intervention's turn.
 */
event?: string | null, 
/**
 * Text appended to the world state the intervention's turn starts from.
 */
world_state?: string | null, 
/**
 * The actor (short_name) whose model or goals change.
 */
actor?: string | null, 
/**
 * The actor's model from the intervention's turn.
 */
model?: string | null, 
/**
 * The actor's goals from the intervention's turn.
 */
goals?: Array<string> | null, 
/**
 * A scenario key that changes at the intervention's turn.
 */
parameter?: string | null, 
/**
 * Its value from then on.
 */
value?: JsonValue | null, };

/**
 * Where the estimate of the rest comes from.
 */
export type Basis = "built_in" | "calibrated";

/**
 * `batch-costs.json`: the money, in total, per run and per variation.
 */
export type BatchCosts = { 
/**
 * The totals and the limits.
 */
summary: CostSummary, 
/**
 * Every known run's cost.
 */
run_costs: Array<RunCost>, 
/**
 * Per variation, keyed by its 1-based id.
 */
variation_statistics: { [key in number]: VariationCost }, };

/**
 * A batch event.
 */
export type BatchEvent = { "type": "batch_started", "data": BatchStarted } | { "type": "run_started", "data": RunStarted } | { "type": "run_finished", "data": RunFinished } | { "type": "analysis", "data": AnalysisWritten } | { "type": "job", "data": JobProgress } | { "type": "stopped", "data": VariationStop } | { "type": "note", "data": Note } | { "type": "summary", "data": BatchOutcome };

/**
 * How the host asked for the batch to run.
 */
export type BatchOptions = { 
/**
 * Continue the batch in `output_dir`.
 */
resume?: boolean, 
/**
 * Overrides the config's `budget_limit` (USD).
 */
budgetLimit?: number, 
/**
 * `"K/N"` (1-based): run only shard K of N, with its share of the budget.
 */
shard?: string, 
/**
 * `--output DIR`: the batch's output folder instead of the config's `output_dir` (one
 * folder per shard on a shared volume).
 */
outputDir?: string, 
/**
 * A random seed from the host, for a batch that has none yet.
 */
freshSeed?: number, 
/**
 * `--pilot N`: start only runs 1..=N of each variation (the rest wait for a resume).
 */
pilot?: number, 
/**
 * `--call-timeout SECONDS`: over the config's `call_timeout`.
 */
callTimeout?: number, 
/**
 * The JSON text of OpenRouter's model list, for current prices.
 */
openrouterModels?: string, 
/**
 * `--execution realtime|batch`: over the config's `execution`.
 */
execution?: Execution, };

/**
 * How a batch ended.
 */
export type BatchOutcome = { 
/**
 * Why it stopped early, when it did.
 */
stop_reason: StopReason | null, 
/**
 * A sentence saying why.
 */
stop_message: string | null, 
/**
 * Where the outputs are.
 */
output_dir: string, 
/**
 * Variations the stopping rule stopped before `runs_per_variation`.
 */
stopped?: Array<VariationStop>, 
/**
 * Runs planned (all shards).
 */
total_runs: number, 
/**
 * Completed.
 */
runs_completed: number, 
/**
 * Failed.
 */
runs_failed: number, 
/**
 * Halted (budget, cost limit, timeout, interrupted).
 */
runs_halted: number, 
/**
 * Not started or not finished.
 */
runs_pending: number, 
/**
 * Never to start: the stopping rule stopped their variation first.
 */
runs_not_needed?: number, 
/**
 * Spent, USD: the sum of the runs' costs.
 */
total_spent: number, 
/**
 * Spent, nano-dollars.
 */
total_spent_nanos: number, 
/**
 * Replies cut at their cap, over their cap, and possibly billed retries, of every run.
 */
replies: ReplyCounts, 
/**
 * What providers' caches and batch prices saved, over every known run.
 */
savings?: Savings, };

/**
 * The data of `batch_started`.
 */
export type BatchStarted = { 
/**
 * The experiment's name.
 */
experiment_name: string, 
/**
 * The output folder.
 */
output_dir: string, 
/**
 * Runs planned (all shards).
 */
total_runs: number, 
/**
 * Runs of this shard.
 */
in_shard: number, 
/**
 * Runs this session will do (those of the shard not already completed).
 */
to_run: number, 
/**
 * Runs completed by earlier sessions.
 */
already_completed: number, 
/**
 * Failed runs this session tries again.
 */
retrying_failed: Array<RunId>, 
/**
 * Runs at once.
 */
max_parallel: number, 
/**
 * The budget, USD.
 */
budget_limit: number | null, 
/**
 * Spent before this session, USD (a resumed batch keeps every cost).
 */
spent: number, 
/**
 * The batch's seed.
 */
seed: number, 
/**
 * Whether this session continues an earlier one.
 */
resumed: boolean, };

/**
 * `batch-state.json`: where a batch stands, and what must not change before it resumes.
 * Read leniently (every field has a default), so that a state written by the original tool
 * or an older version is compared, not mistaken for no state at all.
 */
export type BatchState = { 
/**
 * The experiment's name.
 */
experiment_name: string, 
/**
 * The batch config's path.
 */
config_path: string, 
/**
 * The output folder.
 */
output_dir: string, 
/**
 * The batch's seed: each run's seed is derived from it and the run's id.
 */
seed: number, 
/**
 * When the batch first started, in milliseconds since the epoch.
 */
start_ms: number, 
/**
 * The same, as an ISO 8601 UTC time.
 */
start_time: string, 
/**
 * When it finished (null while it runs or after a stop).
 */
end_time: string | null, 
/**
 * Runs per variation.
 */
runs_per_variation: number, 
/**
 * The number of variations.
 */
total_variations: number, 
/**
 * Runs planned (all shards).
 */
total_runs: number, 
/**
 * `k/n` when this output folder holds one shard.
 */
shard: string | null, 
/**
 * The completed runs.
 */
completed_runs: Array<RunId>, 
/**
 * The failed runs, with their errors.
 */
failed_runs: Array<FailedRun>, 
/**
 * The halted runs, with why.
 */
halted_runs: Array<HaltedRun>, 
/**
 * What must not change between the sessions of one batch.
 */
fingerprint: Fingerprint | null, 
/**
 * Where the stopping rule stands, when the batch has one.
 */
stopping?: StoppingRecord | null, };

/**
 * What is on disk of a batch.
 */
export type BatchStatus = { 
/**
 * Whether the batch started (`batch-state.json` exists): it resumes rather than starts.
 */
started: boolean, 
/**
 * The experiment's name, from `batch-summary.json`.
 */
experiment_name: string | null, 
/**
 * What the batch spent (USD), from `batch-summary.json`.
 */
total_spent: number | null, 
/**
 * Why it stopped early, from `batch-summary.json`.
 */
stop_reason: string | null, 
/**
 * Every run folder.
 */
runs: Array<RunListing>, };

/**
 * `batch-summary.json`: what happened, for a person and for scripts.
 */
export type BatchSummary = { 
/**
 * The experiment's name.
 */
experiment_name: string, 
/**
 * The scenario folder, as configured.
 */
base_scenario: string, 
/**
 * The number of variations.
 */
total_variations: number, 
/**
 * Runs per variation.
 */
runs_per_variation: number, 
/**
 * Runs planned (all shards).
 */
total_runs_planned: number, 
/**
 * Runs completed.
 */
runs_completed: number, 
/**
 * Runs failed.
 */
runs_failed: number, 
/**
 * Runs halted.
 */
runs_halted: number, 
/**
 * Runs not started or not finished.
 */
runs_pending: number, 
/**
 * Replies cut at their output cap.
 */
truncated_replies: number, 
/**
 * Replies longer than their cap (the provider ignored it).
 */
over_cap_replies: number, 
/**
 * Attempts abandoned at their time limit and sent again.
 */
possibly_billed_retries: number, 
/**
 * Seconds since the batch first started.
 */
duration_seconds: number, 
/**
 * The money.
 */
cost_summary: CostSummary, 
/**
 * The failed runs.
 */
failed_runs: Array<FailedRun>, 
/**
 * The halted runs.
 */
halted_runs: Array<HaltedRun>, 
/**
 * Why the batch stopped early.
 */
stop_reason: StopReason | null, 
/**
 * A sentence saying why.
 */
stop_message: string | null, 
/**
 * The command that continues it, while runs remain.
 */
resume_command: string | null, };

/**
 * Counts and money of a batch.
 */
export type BatchTotals = { 
/**
 * Runs planned (all shards).
 */
total_runs: number, 
/**
 * Completed.
 */
runs_completed: number, 
/**
 * Failed.
 */
runs_failed: number, 
/**
 * Halted (budget, cost limit, timeout, interrupted).
 */
runs_halted: number, 
/**
 * Not started or not finished.
 */
runs_pending: number, 
/**
 * Never to start: the stopping rule stopped their variation first.
 */
runs_not_needed?: number, 
/**
 * Spent, USD: the sum of the runs' costs.
 */
total_spent: number, 
/**
 * Spent, nano-dollars.
 */
total_spent_nanos: number, 
/**
 * Replies cut at their cap, over their cap, and possibly billed retries, of every run.
 */
replies: ReplyCounts, 
/**
 * What providers' caches and batch prices saved, over every known run.
 */
savings?: Savings, };

/**
 * The best variation by success rate.
 */
export type Best = { 
/**
 * Its id (the lowest id among ties).
 */
variation_id: number, 
/**
 * Its success rate.
 */
success_rate: number, };

/**
 * How many blocks a blocked test used, and how many it dropped as incomplete.
 */
export type BlockUse = { 
/**
 * Blocks complete in every cell involved: the ones tested.
 */
used: number, 
/**
 * Blocks with a value in some cells involved but not all: left out.
 */
dropped: number, };

/**
 * A branch: a run that reuses another's first turns and then diverges.
 */
export type Branch = { 
/**
 * The source run folder.
 */
from: string, 
/**
 * The last turn taken from the source.
 */
at_turn: number, 
/**
 * The source's seed (used for turns up to `at_turn`).
 */
source_seed: number, };

/**
 * Whether the budget covers a batch's plan.
 */
export type BudgetStatus = "no_budget" | "unknown" | "fits" | "tight" | "short";

/**
 * Whether the budget covers the plan.
 */
export type BudgetVerdict = { 
/**
 * Whether it covers the plan.
 */
status: BudgetStatus, 
/**
 * One sentence.
 */
message: string, 
/**
 * About how many runs the budget pays for at the expected cost, when known.
 */
runs_affordable: number | null, };

/**
 * What `calibrateBatch` takes beside the config: `PlanOptions`, and the session's budget.
 */
export type CalibrateOptions = { 
/**
 * The JSON text of OpenRouter's `GET /api/v1/models`, for current prices.
 */
openrouterModels?: string, 
/**
 * Overrides the config's `budget_limit` (USD), as `runBatch` takes it.
 */
budgetLimit?: number, 
/**
 * `--output DIR`: the batch's output folder (where its runs are read) instead of the
 * config's `output_dir`, as `runBatch` takes it.
 */
outputDir?: string, };

/**
 * The estimate of the rest of a batch.
 */
export type Calibration = { 
/**
 * The experiment.
 */
experiment_name: string, 
/**
 * The batch config.
 */
config_path: string, 
/**
 * Where the runs are.
 */
output_dir: string, 
/**
 * `built_in` or `calibrated`.
 */
basis: Basis, 
/**
 * The basis in words: `calibrated from 214 recorded calls in 4 runs`.
 */
basis_text: string, 
/**
 * Calls recorded (every run folder).
 */
calls_recorded: number, 
/**
 * Run folders holding recorded calls.
 */
runs_with_calls: number, 
/**
 * Run folders of this batch.
 */
runs_recorded: number, 
/**
 * Runs completed.
 */
runs_completed: number, 
/**
 * Runs started and not completed (halted, failed, interrupted).
 */
runs_partial: number, 
/**
 * Runs of the whole batch.
 */
total_runs: number, 
/**
 * Runs not completed: what the rest is.
 */
remaining_runs: number, 
/**
 * USD of the rest, when every price is known.
 */
remaining_cost: Range | null, 
/**
 * USD of the rest by the built-in token model alone, for comparison.
 */
built_in_remaining_cost: Range | null, 
/**
 * USD of an average full run, calibrated.
 */
cost_per_run: number | null, 
/**
 * Spent so far, USD.
 */
spent: number, 
/**
 * Spent so far, nano-dollars.
 */
spent_nanos: number, 
/**
 * The batch budget, USD.
 */
budget_limit: number | null, 
/**
 * Whether the budget left covers the rest, in one sentence (none without a budget).
 */
budget_message: string | null, 
/**
 * Tokens of every recorded (role, model).
 */
tokens: Array<TokenStats>, 
/**
 * How each role the rest calls was estimated.
 */
roles: Array<RoleBasis>, 
/**
 * Models with no known price (and no recorded cost).
 */
unknown_price_models: Array<string>, 
/**
 * Things worth knowing.
 */
notes: Array<string>, 
/**
 * The question a terminal asks before running the rest.
 */
question: string, 
/**
 * The command that runs the rest.
 */
command: string, };

/**
 * How `renderCalibration` renders.
 */
export type CalibrationRenderOptions = { 
/**
 * ANSI colour (default off).
 */
color?: boolean, 
/**
 * A plan from `planBatch`: render the whole dry run, with the rest of the batch after it.
 */
plan?: Plan, };

/**
 * What the call log keeps of one call.
 */
export type CallRecord = { 
/**
 * The call's identity in its run.
 */
key: string, 
/**
 * The turn.
 */
turn: number, 
/**
 * Why it was made.
 */
role: Role, 
/**
 * The actor, when any.
 */
actor: string | null, 
/**
 * The model id as configured.
 */
model: string, 
/**
 * The server kind.
 */
provider: Provider, 
/**
 * Prompt tokens.
 */
prompt_tokens: number, 
/**
 * Completion tokens.
 */
completion_tokens: number, 
/**
 * Cost in nano-dollars.
 */
cost_nanos: number, 
/**
 * How the cost was found.
 */
cost_source: CostSource, 
/**
 * Milliseconds from first send to answer, retries included.
 */
latency_ms: number, 
/**
 * The provider's generation id.
 */
generation_id: string | null, 
/**
 * Hash of the request.
 */
request_hash: string, 
/**
 * Attempts made (1 = no retry).
 */
attempts: number, 
/**
 * Attempts abandoned at their time limit: a server may have gone on and billed them.
 */
timeouts: number, 
/**
 * The output cap sent.
 */
max_tokens: number, 
/**
 * The provider's `finish_reason` (`stop`; `length` when the reply was cut at its cap).
 */
finish_reason: string | null, 
/**
 * Of the prompt tokens, those the provider served from its prefix cache.
 */
cached_tokens?: number, 
/**
 * Of the prompt tokens, those written to the provider's cache.
 */
cache_write_tokens?: number, 
/**
 * Nano-dollars the cache saved against the same tokens uncached, at the model's price
 * (negative when writing to the cache cost more than it read).
 */
cache_saved_nanos?: number, 
/**
 * Nano-dollars the batch price saved against the realtime price.
 */
batch_saved_nanos?: number, 
/**
 * The provider's batch job that answered the call (none: sent realtime).
 */
batch_job?: string | null, 
/**
 * Bytes of the reply dropped because it passed `limits::MAX_STORED_REPLY_BYTES` (a server
 * that ignored the output cap); `reply` is what was kept, and what the run went on with.
 */
reply_cut_bytes?: number, 
/**
 * The reply text.
 */
reply: string, };

/**
 * Calls of one run, by role.
 */
export type Calls = { 
/**
 * Actor decisions.
 */
actor: Range, 
/**
 * World updates.
 */
world: Range, 
/**
 * Communication calls.
 */
communication: Range, 
/**
 * Metric extraction calls.
 */
metric: Range, 
/**
 * Quality-check calls.
 */
check: Range, 
/**
 * Summary calls.
 */
summary: Range, };

/**
 * One chat message of an OpenAI-compatible request.
 */
export type ChatMessage = { 
/**
 * `system`, `user` or `assistant`.
 */
role: string, 
/**
 * The text.
 */
content: string, };

/**
 * What a host says about where requests go: the endpoints, the key, and a random seed for a
 * run or batch that has none yet. No `Debug`: the key must not reach a log.
 */
export type Connection = { 
/**
 * The key, sent only to `baseUrl` (or to OpenRouter when it is unset).
 */
apiKey?: string, 
/**
 * Where every non-local model goes (default OpenRouter).
 */
baseUrl?: string, 
/**
 * Where `ollama/` models go.
 */
ollamaBaseUrl?: string, 
/**
 * A random seed from the host, used when the request names none.
 */
freshSeed?: number, };

/**
 * Cost efficiency of one variation (the original's key is `runs_per_dollar`).
 */
export type CostEfficiency = { 
/**
 * The variation.
 */
variation_id: number, 
/**
 * Its description.
 */
description: string, 
/**
 * Mean cost per run (USD).
 */
cost_per_run: number, 
/**
 * Cost per successful run; null without successes.
 */
cost_per_successful_run: number | null, 
/**
 * Successful runs per dollar; null when nothing was spent.
 */
runs_per_dollar: number | null, 
/**
 * Each metric's mean per dollar of run cost; null when nothing was spent.
 */
metric_per_dollar: { [key in string]: number | null }, };

/**
 * How a call's cost was found.
 */
export type CostSource = "provider" | "price" | "free" | "unknown";

/**
 * Cost of a set of runs, in USD.
 */
export type CostStats = { 
/**
 * Sum.
 */
total: number, 
/**
 * Mean per run.
 */
mean: number, 
/**
 * Cheapest run.
 */
min: number, 
/**
 * Dearest run.
 */
max: number, 
/**
 * Total divided by successful runs; null when none succeeded.
 */
per_successful_run: number | null, };

/**
 * The money of a batch against its limits (`batch-costs.json`'s `summary`, and
 * `batch-summary.json`'s `cost_summary`).
 */
export type CostSummary = { 
/**
 * Spent, USD.
 */
total_spent: number, 
/**
 * What providers' caches and batch prices saved, over the known runs.
 */
savings?: Savings, 
/**
 * Spent, nano-dollars (exact).
 */
total_spent_nanos: number, 
/**
 * The batch's budget, USD.
 */
budget_limit: number | null, 
/**
 * Each run's limit, USD.
 */
cost_per_run_limit: number | null, 
/**
 * What is left of the budget, USD.
 */
remaining_budget: number | null, 
/**
 * Runs completed.
 */
runs_completed: number, 
/**
 * Runs failed.
 */
runs_failed: number, 
/**
 * Runs halted.
 */
runs_halted: number, 
/**
 * Runs halted by the budget or their own cost limit.
 */
runs_budget_exceeded: number, 
/**
 * Spent per completed run, USD.
 */
avg_cost_per_run: number, 
/**
 * Attempts abandoned at their time limit and sent again (a provider may have billed them).
 */
possibly_billed_retries: number, 
/**
 * Seconds since the batch first started.
 */
duration_seconds: number, 
/**
 * When it first started (ISO 8601 UTC).
 */
start_time: string, 
/**
 * When it finished.
 */
end_time: string | null, };

/**
 * A `costs.json` with the totals only.
 */
export type CostTotals = { 
/**
 * USD (the key other tools read).
 */
total_cost: number, 
/**
 * Nano-dollars, exact: the sum of the calls' `cost_nanos`.
 */
total_cost_nanos: number, 
/**
 * Why the batch wrote this file, and what to do.
 */
note?: string | null, };

/**
 * `costs.json`: what a run spent, in one of two shapes.
 */
export type Costs = RunCosts | CostTotals;

/**
 * The design the analysis found, and why (`patterns.json`'s `design`).
 */
export type Design = { 
/**
 * Paired or independent.
 */
kind: DesignKind, 
/**
 * Blocks of a paired design: the run numbers present in at least two variations, each
 * with one seed. 0 for independent runs.
 */
blocks: number, 
/**
 * Run numbers present in at least two variations.
 */
shared_run_numbers: number, 
/**
 * Of those, the run numbers whose runs do not share one seed (or lack one).
 */
seed_mismatches: number, 
/**
 * Runs whose state records no seed.
 */
runs_without_seed: number, 
/**
 * Runs whose run number no other variation has: they have no partner to be compared with.
 */
unmatched_runs: number, 
/**
 * Runs whose state names its block (ours, in a paired batch: `spec.block`).
 */
runs_declaring_block: number, 
/**
 * One sentence: the design found, and what it was found from.
 */
summary: string, 
/**
 * The batch's stopping rule and its looks, from `batch-state.json`, when it had one.
 */
stopping: StoppingRecord | null, 
/**
 * For a group-sequential rule: the p-value to cite for its comparison.
 */
sequential: SequentialResult | null, };

/**
 * Which design the runs follow.
 */
export type DesignKind = "paired" | "independent";

/**
 * A diagnostic as hosts receive it: the fields, and `text`, its printable form.
 */
export type Diagnostic = { 
/**
 * Error or warning.
 */
severity: Severity, 
/**
 * The file.
 */
file: string, 
/**
 * 1-based line, when known.
 */
line: number | null, 
/**
 * 1-based column, when known.
 */
column: number | null, 
/**
 * The dotted path of the key concerned (`variations[1].actor`), when there is one.
 */
key: string | null, 
/**
 * One sentence saying what is wrong.
 */
message: string, 
/**
 * What would have been right.
 */
expected: string | null, 
/**
 * What was there instead.
 */
found: string | null, 
/**
 * A likely fix ("did you mean `budget_limit`?").
 */
suggestion: string | null, 
/**
 * The printable form: the message, its place and the quoted line, as the CLI prints it.
 */
text: string, };

/**
 * One dimension of the variation space.
 */
export type Dimension = { 
/**
 * The values, in the order given.
 */
values: Array<JsonValue>, } & ({ "type": "actor_model", 
/**
 * The actor's short_name.
 */
actor: string, } | { "type": "scenario_parameter", 
/**
 * The key.
 */
parameter: string, } | { "type": "actor_parameter", 
/**
 * The actor's short_name.
 */
actor: string, 
/**
 * The field.
 */
parameter: string, } | { "type": "intervention", 
/**
 * The turn at whose start the arms' changes take effect.
 */
at_turn: number, 
/**
 * The arms, in the order of `values`.
 */
arms: Array<Arm>, });

/**
 * What the host knows about an output folder.
 */
export type DirFacts = { 
/**
 * The folder as the user wrote it (or as the config's default made it).
 */
written: string, 
/**
 * Its absolute path, every symbolic link resolved (those of its nearest existing
 * ancestor, when it does not exist yet).
 */
resolved: string, 
/**
 * The platform (`process.platform`: `win32`, `linux`, `darwin`, ...).
 */
platform: string, 
/**
 * The user's home folder, resolved.
 */
home?: string, 
/**
 * Whether the folder exists (as anything).
 */
exists?: boolean, 
/**
 * Whether it is a folder (through a link).
 */
isDir?: boolean, 
/**
 * Where it points, when the folder itself is a symbolic link.
 */
linkTarget?: string, 
/**
 * Some of its entries' names (a few dozen are enough to tell whose it is).
 */
entries?: Array<string>, };

/**
 * A standardised effect size with its approximate 95% confidence interval.
 */
export type Effect = { 
/**
 * Hedges' g: Cohen's d with the small-sample bias correction.
 */
g: number, 
/**
 * 95% interval from the normal approximation of g's sampling distribution.
 */
ci95: [number, number], };

/**
 * How a batch's calls reach providers.
 */
export type Execution = "realtime" | "batch";

/**
 * The effect of one factor on one metric.
 */
export type FactorEffect = { 
/**
 * The factor, e.g. `regulator.model` or `turns`.
 */
factor: string, 
/**
 * The metric.
 */
metric: string, 
/**
 * Its levels; the first is the reference.
 */
levels: Array<LevelStats>, 
/**
 * The test of the factor as a whole.
 */
test: Test | null, 
/**
 * Which test: `welch_anova` or `two_way_anova_type3` (independent runs),
 * `rm_anova` or `rm_anova_two_way` (paired: repeated measures over blocks).
 */
test_kind: string, 
/**
 * Paired design: the blocks complete in every cell of the factor (used) and not (dropped).
 */
blocks: BlockUse | null, 
/**
 * Each other level against the reference (Holm-adjusted within the factor and metric). In
 * these pairs `a` and `b` are indices into `levels` (`a` is 0, the reference).
 */
contrasts: Array<Pair>, 
/**
 * The largest |Hedges' g| among the contrasts: what the factors are ranked by.
 */
effect_size: number | null, 
/**
 * Plain-language findings.
 */
verdicts: Array<string>, };

/**
 * A failed run in `batch-state.json` and `batch-summary.json`.
 */
export type FailedRun = { 
/**
 * Which run.
 */
run_id: RunId, 
/**
 * What went wrong.
 */
error: string | null, 
/**
 * Always `failed`.
 */
status: RunStatus, };

/**
 * How runs ended other than by completing.
 */
export type FailureMode = { 
/**
 * `halted`, `failed`, `running` (interrupted) or `other`.
 */
status: string, 
/**
 * The halt reason or error, when recorded.
 */
reason: string | null, 
/**
 * Runs.
 */
count: number, 
/**
 * Share of all runs.
 */
share: number, 
/**
 * Variations where it happened.
 */
variations: Array<number>, };

/**
 * What must not change between the sessions of one batch (limits and `runs_per_variation`
 * may grow).
 */
export type Fingerprint = { 
/**
 * The scenario folder.
 */
base_scenario: string, 
/**
 * The scenario as loaded, key by key (a changed key is named when a resume is refused).
 */
scenario: Record<string, unknown>, 
/**
 * The variations, as configured.
 */
variations: Array<Dimension>, 
/**
 * Whether every run's files are kept.
 */
save_individual_runs: boolean, 
/**
 * Whether run k of every variation shares its seed; absent from batches started before
 * pairing existed, whose runs are independent ([`Fingerprint::pairing`]).
 */
pairing: Pairing | null, 
/**
 * The stopping rule.
 */
stopping?: Stopping | null, };

/**
 * Which writer made the folder.
 */
export type Format = "scenario_lab" | "original_v1" | "original_v2" | "mixed" | "unknown";

/**
 * Why a run stopped before its last turn.
 */
export type HaltReason = "budget" | "cost_limit" | "timeout" | "interrupted" | "error";

/**
 * A halted run in `batch-state.json` and `batch-summary.json`.
 */
export type HaltedRun = { 
/**
 * Which run.
 */
run_id: RunId, 
/**
 * Why it halted.
 */
halt_reason: HaltReason | null, 
/**
 * Always `halted`.
 */
status: RunStatus, };

/**
 * What a path names: a scenario folder or a batch config.
 */
export type InputKind = "scenario" | "batch";

/**
 * An interaction of two factors on one metric.
 */
export type Interaction = { 
/**
 * The two factors.
 */
factors: [string, string], 
/**
 * The metric.
 */
metric: string, 
/**
 * The interaction test of the two-way ANOVA.
 */
test: Test, 
/**
 * Which ANOVA: `two_way_anova_type3` or `rm_anova_two_way`.
 */
test_kind: string, 
/**
 * Paired design: the blocks complete in every cell (used) and not (dropped), also when
 * they were too few for the repeated-measures form.
 */
blocks: BlockUse | null, 
/**
 * p < 0.05.
 */
flagged: boolean, 
/**
 * Cell means: rows are levels of the first factor, columns of the second.
 */
cell_means: Array<Array<number | null>>, 
/**
 * Levels of the first and second factor.
 */
levels: [Array<string>, Array<string>], };

/**
 * An intervention as a run carries it, in its spec's modifications: the arm it plays and the
 * turn at whose start the arm's change takes effect.
 */
export type Intervention = { 
/**
 * The turn at whose start the change takes effect (2 or more).
 */
at_turn: number, 
/**
 * The arm.
 */
arm: Arm, };

/**
 * The data of `job`: where one provider batch job stands.
 */
export type JobProgress = { 
/**
 * The provider's job id.
 */
job: string, 
/**
 * The phase its requests belong to (`turn 3 decision`).
 */
phase: string, 
/**
 * The model.
 */
model: string, 
/**
 * The provider's word for the job's status (`in_progress`, `completed`, `ended`, ...), or
 * `submitted` when it was just submitted.
 */
status: string, 
/**
 * Requests in it.
 */
total: number, 
/**
 * Requests answered.
 */
succeeded: number, 
/**
 * Requests failed, expired or cancelled.
 */
failed: number, 
/**
 * Seconds since it was submitted.
 */
waited_s: number, 
/**
 * Jobs submitted by this session so far.
 */
jobs_submitted: number, 
/**
 * Seconds this session has waited on providers' jobs so far.
 */
total_waited_s: number, 
/**
 * USD the batch price saved against realtime on this session's answers so far.
 */
saved: number, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * One level of a factor, on one metric.
 */
export type LevelStats = { 
/**
 * The level, e.g. `openai/gpt-4o`.
 */
level: string, 
/**
 * Completed runs with a value.
 */
n: number, 
/**
 * Mean over those runs.
 */
mean: number | null, 
/**
 * 95% CI of that mean.
 */
ci95: [number, number] | null, 
/**
 * Mean of the cell (variation) means at this level.
 */
marginal_mean: number | null, };

/**
 * A run's status as a list shows it: its [`RunStatus`], or `unknown` when its state file does
 * not say (missing, unreadable, or a word of another tool).
 */
export type ListedStatus = "completed" | "halted" | "failed" | "running" | "unknown";

/**
 * One look of a group-sequential design.
 */
export type Look = { 
/**
 * 1-based.
 */
look: number, 
/**
 * Runs of each compared variation the look covers (rounds 1..=runs).
 */
runs: number, 
/**
 * Of those, the pairs (or, unpaired, the smaller group) with a value in both variations.
 */
pairs: number, 
/**
 * The standardised difference (second variation minus first), from the paired t (or
 * Welch's t) by its p-value; null when it cannot be computed (fewer than two pairs, no
 * spread).
 */
z: number | null, 
/**
 * |z| at or above this rejects "no difference".
 */
efficacy: number, 
/**
 * |z| below this stops for futility.
 */
futility: number, 
/**
 * What the look decided.
 */
decision: LookDecision, 
/**
 * When the look stopped the design: the stage-wise adjusted two-sided p-value.
 */
p_adjusted?: number | null, };

/**
 * What a look decided.
 */
export type LookDecision = "continue" | "efficacy" | "futility";

/**
 * McNemar's exact test of two variations' success on matched runs.
 */
export type McNemar = { 
/**
 * Matched pairs (run numbers both variations have).
 */
pairs: number, 
/**
 * Pairs where only a's run succeeded.
 */
only_a: number, 
/**
 * Pairs where only b's run succeeded.
 */
only_b: number, 
/**
 * (only_b − only_a) / pairs: the difference of success rates over the pairs.
 */
difference: number, 
/**
 * Two-sided exact p.
 */
p: number, 
/**
 * Holm-adjusted across the success comparisons.
 */
p_adj: number, };

/**
 * What `merge` made of a batch's shards.
 */
export type MergeOutcome = { 
/**
 * The shards merged (`K/N` each, in order); empty when one whole batch was merged.
 */
shards: Array<string>, 
/**
 * The batch's budget (USD): the sum of what the shards were given; null when one had none.
 */
budget_limit: number | null, 
/**
 * What was merged, in one sentence: the runs by status and what they spent against the
 * budget (the CLI prints it).
 */
summary: string, 
/**
 * Runs planned (all shards).
 */
total_runs: number, 
/**
 * Completed.
 */
runs_completed: number, 
/**
 * Failed.
 */
runs_failed: number, 
/**
 * Halted (budget, cost limit, timeout, interrupted).
 */
runs_halted: number, 
/**
 * Not started or not finished.
 */
runs_pending: number, 
/**
 * Never to start: the stopping rule stopped their variation first.
 */
runs_not_needed?: number, 
/**
 * Spent, USD: the sum of the runs' costs.
 */
total_spent: number, 
/**
 * Spent, nano-dollars.
 */
total_spent_nanos: number, 
/**
 * Replies cut at their cap, over their cap, and possibly billed retries, of every run.
 */
replies: ReplyCounts, 
/**
 * What providers' caches and batch prices saved, over every known run.
 */
savings?: Savings, };

/**
 * One metric, read each turn from the world state by asking the world model `question`.
 */
export type MetricAnswers = { 
/**
 * Its name in results (lowercase, `_` between words; other text is made so).
 */
name: string, 
/**
 * What to ask of each turn's world state.
 */
question: string, 
/**
 * What kind of value it is.
 */
kind: MetricKind, 
/**
 * `[min, max]` of a continuous metric; `[0, 10]` when absent.
 */
range?: [number, number], 
/**
 * The categories of a categorical metric (at least two).
 */
categories?: Array<string>, };

/**
 * How the variations compare on one metric.
 */
export type MetricComparison = { 
/**
 * Welch's ANOVA over the variations with at least two values.
 */
welch_anova: Test | null, 
/**
 * Kruskal-Wallis over the variations with at least one value.
 */
kruskal_wallis: Test | null, 
/**
 * Paired design: repeated-measures ANOVA over the variations, on the blocks complete in
 * every one of them.
 */
rm_anova: Test | null, 
/**
 * Paired design: the blocks that ANOVA used and dropped.
 */
blocks: BlockUse | null, 
/**
 * Paired design: what pairing gained on this metric, pooled over the comparisons.
 */
pairing_gain: PairingGain | null, 
/**
 * Pairwise comparisons (all pairs, or each against the first when there are many).
 */
pairs: Array<Pair>, 
/**
 * Whether `pairs` holds all pairs (false: each variation against the first).
 */
all_pairs: boolean, 
/**
 * Plain-language findings for the pairs that differ at p_adj < 0.05.
 */
verdicts: Array<string>, 
/**
 * Variations ranked by mean, highest first: (variation id, mean) — the original's
 * `compare_variations`.
 */
ranking: Array<[number, number]>, };

/**
 * What kind of value a metric is.
 */
export type MetricKind = "continuous" | "boolean" | "categorical";

/**
 * One measured value (an entry of [`Metrics::records`]).
 */
export type MetricRecord = { 
/**
 * The metric.
 */
name: string, 
/**
 * Its value as a number (booleans 1/0, categories their index); `None` for text metrics.
 */
value: number | null, 
/**
 * The matched text, for text metrics and as evidence.
 */
raw: string | null, 
/**
 * The turn.
 */
turn: number, 
/**
 * The actor whose decision it was read from, for actor-specific metrics.
 */
actor: string | null, 
/**
 * pattern, keyword or llm.
 */
extraction: string, 
/**
 * Set when the value was clamped into the metric's range or could not be read.
 */
flag: string | null, };

/**
 * Descriptive statistics of one metric over a set of runs (keys of the original's
 * `metrics-analysis.json` plus the new ones).
 */
export type MetricStats = { 
/**
 * Values counted.
 */
count: number, 
/**
 * Mean.
 */
mean: number, 
/**
 * Median.
 */
median: number, 
/**
 * Minimum.
 */
min: number, 
/**
 * Maximum.
 */
max: number, 
/**
 * Sample standard deviation; 0.0 for one value (the original's `stdev`).
 */
stdev: number, 
/**
 * Sample standard deviation; null for one value.
 */
sd: number | null, 
/**
 * First quartile.
 */
q1: number, 
/**
 * Third quartile.
 */
q3: number, 
/**
 * 95% confidence interval of the mean (Student t); null for one value.
 */
ci95: [number, number] | null, 
/**
 * The mean at each turn, over the same runs.
 */
by_turn: Array<TurnStats>, };

/**
 * A value in [`Metrics`]: a number, or the text of a text metric.
 */
export type MetricValue = number | string | null;

/**
 * `metrics.json`: every measured value, as the original tool's V1 (`metrics_by_turn`,
 * `final_metrics`) and V2 (`records`) wrote them, and how many were flagged. Read leniently
 * (every field defaults when absent): the analysis reads the file cut before its `records`,
 * which are most of it.
 */
export type Metrics = { 
/**
 * The scenario's name.
 */
scenario: string, 
/**
 * Each turn's values, by metric key (`name`, or `name.actor` for a metric read per actor).
 */
metrics_by_turn: { [key in number]: { [key in string]: MetricValue } }, 
/**
 * Each metric key's last value.
 */
final_metrics: { [key in string]: MetricValue }, 
/**
 * Every measurement, in the order taken, with its evidence and flag.
 */
records: Array<MetricRecord>, 
/**
 * How many records are flagged (clamped into range, or unreadable).
 */
flagged: number, };

/**
 * Model ids checked against a provider's model list.
 */
export type ModelCheck = { 
/**
 * Ids found in the list (or accepted as a routing variant of one).
 */
known: Array<string>, 
/**
 * Ids not checked: `builtin/`, `local/` and `ollama/` models are not the provider's.
 */
not_checked: Array<string>, 
/**
 * Ids the provider does not list.
 */
unknown: Array<UnknownModel>, 
/**
 * How many ids the list held.
 */
listed: number, };

/**
 * A model the wizard offers, with its price.
 */
export type ModelChoice = { 
/**
 * Its id.
 */
id: string, 
/**
 * USD per million prompt tokens.
 */
prompt: number, 
/**
 * USD per million completion tokens.
 */
completion: number, };

/**
 * A model the batch will call, and its price.
 */
export type ModelUse = { 
/**
 * The model id.
 */
model: string, 
/**
 * Its price, when known.
 */
price: Price | null, 
/**
 * Whether its provider has a batch API (hosted models); a model without one runs
 * realtime within the lock-step of `execution: batch`.
 */
batch_api: boolean, };

/**
 * What a variation changes, in the original's `modifications` shape plus actor fields, and
 * the intervention it plays from a turn on (which [`apply`] leaves to the engine).
 */
export type Modifications = { 
/**
 * Actor short_name to model id.
 */
actor_models: { [key in string]: string }, 
/**
 * Scenario key to value.
 */
scenario_overrides: { [key in string]: JsonValue }, 
/**
 * Actor short_name to field to value.
 */
actor_overrides: { [key in string]: { [key in string]: JsonValue } }, 
/**
 * The arm of an `intervention` dimension and its turn: the engine applies it from that
 * turn on, so that the turns before it are the same in every arm.
 */
intervention?: Intervention | null, };

/**
 * The data of `note`.
 */
export type Note = { 
/**
 * The sentence.
 */
message: string, };

/**
 * What `checkBatchOutput` and `checkRunOutput` take beside the facts.
 */
export type OutputOptions = { 
/**
 * `--force`: write into a non-empty folder that is not a Scenario Lab output folder.
 */
force?: boolean, 
/**
 * `checkBatchOutput`: the batch's `--output DIR` (which the facts are about), when given
 * instead of the config's `output_dir`.
 */
outputDir?: string, };

/**
 * The flags that override an answers file or a template (`--title`, `--model`, `--turns`,
 * `--runs`, `--budget`).
 */
export type Overrides = { 
/**
 * The scenario's name.
 */
title?: string, 
/**
 * The model of every actor and of the world.
 */
model?: string, 
/**
 * How many turns a run plays.
 */
turns?: number, 
/**
 * How many runs the batch makes.
 */
runs?: number, 
/**
 * The most the batch may spend, in USD.
 */
budget?: number, };

/**
 * One pairwise comparison of two variations on one metric.
 */
export type Pair = { 
/**
 * First variation id.
 */
a: number, 
/**
 * Second variation id.
 */
b: number, 
/**
 * mean(b) − mean(a).
 */
difference: number, 
/**
 * 95% CI of the difference (Welch).
 */
difference_ci95: [number, number] | null, 
/**
 * Welch's t test.
 */
welch: Test | null, 
/**
 * Holm-adjusted Welch p.
 */
welch_p_adj: number | null, 
/**
 * Mann-Whitney U test.
 */
mann_whitney: Test | null, 
/**
 * Holm-adjusted Mann-Whitney p.
 */
mann_whitney_p_adj: number | null, 
/**
 * Hedges' g of b against a, with its CI.
 */
hedges_g: Effect | null, 
/**
 * "small", "medium", ...
 */
magnitude: string | null, 
/**
 * The comparison within pairs, on the runs matched by run number (paired design only).
 */
paired: PairedComparison | null, 
/**
 * The test the verdict rests on: `paired_t` in a paired design (when the paired t can be
 * computed: two pairs or more, differences with spread), else `welch_t`.
 */
verdict_test: string, };

/**
 * A comparison of two variations within pairs: b − a on each run number both completed with
 * a value.
 */
export type PairedComparison = { 
/**
 * Matched pairs.
 */
n: number, 
/**
 * mean(b − a) over the pairs (= mean(b) − mean(a) over the matched runs).
 */
difference: number, 
/**
 * 95% CI of that mean difference (paired t).
 */
difference_ci95: [number, number] | null, 
/**
 * The paired t test of b − a (scipy `ttest_rel(b, a)`).
 */
t: Test | null, 
/**
 * Holm-adjusted paired t p.
 */
t_p_adj: number | null, 
/**
 * The Wilcoxon signed-rank test of b − a (scipy `wilcoxon(b, a)`).
 */
wilcoxon: Test | null, 
/**
 * Holm-adjusted Wilcoxon p.
 */
wilcoxon_p_adj: number | null, 
/**
 * d_z = mean(b − a)/sd(b − a), with its 95% CI (in the field `g`).
 */
d_z: Effect | null, 
/**
 * "small", "medium", ... of d_z, by Cohen's thresholds.
 */
magnitude: string | null, 
/**
 * What pairing gained on these pairs.
 */
gain: PairingGain | null, };

/**
 * Whether the variations' runs are paired.
 */
export type Pairing = "paired" | "none";

/**
 * What pairing gained: the variance of the within-pair differences against the variance a
 * difference of independent runs would have, var(a) + var(b), over the same matched runs.
 * A test's standard error scales with the square root of the variance it uses.
 */
export type PairingGain = { 
/**
 * Comparisons pooled (1 for one pair of variations).
 */
comparisons: number, 
/**
 * Matched pairs, summed over the comparisons.
 */
pairs: number, 
/**
 * var(b − a) (pooled over comparisons by their degrees of freedom).
 */
paired_variance: number, 
/**
 * var(a) + var(b), likewise.
 */
unpaired_variance: number, 
/**
 * paired / unpaired; null when the unpaired variance is zero.
 */
ratio: number | null, 
/**
 * 1 − ratio: the share of the variance pairing removed (negative when it added some).
 */
removed: number | null, };

/**
 * `patterns.json`.
 */
export type Patterns = { 
/**
 * The design found (paired or independent), and a sequential stopping rule's record.
 */
design: Design, 
/**
 * What success means here.
 */
success_definition: string, 
/**
 * Runs found.
 */
total_runs: number, 
/**
 * Runs that completed.
 */
completed_runs: number, 
/**
 * Runs that succeeded.
 */
successful_runs: number, 
/**
 * Runs that did not succeed (the original's key).
 */
failed_runs: number, 
/**
 * Runs by status.
 */
statuses: { [key in string]: number }, 
/**
 * successful / total.
 */
success_rate: number, 
/**
 * Wilson 95% CI.
 */
success_ci95: [number, number] | null, 
/**
 * Highest success rate.
 */
best_variation: Best | null, 
/**
 * Factor levels whose success rate differs from the reference level's.
 */
success_factors: Array<SuccessFactor>, 
/**
 * Why runs did not complete, most common first.
 */
failure_modes: Array<FailureMode>, 
/**
 * Per variation, ranked by successful runs per dollar.
 */
cost_efficiency: Array<CostEfficiency>, 
/**
 * The varied factors and their levels.
 */
factor_levels: { [key in string]: Array<string> }, 
/**
 * Main effects, ranked by effect size (largest first).
 */
factor_effects: Array<FactorEffect>, 
/**
 * Interactions (two-factor designs).
 */
interactions: Array<Interaction>, 
/**
 * Variation against variation, per metric.
 */
comparisons: { [key in string]: MetricComparison }, 
/**
 * Success rates, variation against variation.
 */
success_comparisons: Array<SuccessPair>, 
/**
 * Per metric.
 */
sample_size: { [key in string]: SampleSize }, };

/**
 * What a person playing an actor is asked: exactly the messages a model in the seat would be
 * sent, and which call of the run it is (to head the question with).
 */
export type PersonPrompt = { 
/**
 * The call's identity in its run (`t3/decision/council`).
 */
key: string, 
/**
 * The actor's short name.
 */
actor: string | null, 
/**
 * The turn.
 */
turn: number, 
/**
 * What the call is for: `actor` (a decision) or `communication`.
 */
role: Role, 
/**
 * The conversation a model would get.
 */
messages: Array<ChatMessage>, };

/**
 * The plan of a batch.
 */
export type Plan = { 
/**
 * Experiment name.
 */
experiment_name: string, 
/**
 * Description.
 */
description: string | null, 
/**
 * The config file.
 */
config_path: string, 
/**
 * The scenario folder.
 */
scenario_dir: string, 
/**
 * The scenario's name.
 */
scenario_name: string, 
/**
 * The scenario's actors: (short_name, model).
 */
actors: Array<[string, string]>, 
/**
 * Turns of the base scenario.
 */
turns: number, 
/**
 * Turns of the longest run (the base scenario's, or the largest of a `turns` variation).
 */
longest_run_turns: number, 
/**
 * Where results go.
 */
output_dir: string, 
/**
 * The dimensions.
 */
dimensions: Array<Dimension>, 
/**
 * Number of variations.
 */
variation_count: number, 
/**
 * Runs per variation.
 */
runs_per_variation: number, 
/**
 * Variations × runs.
 */
total_runs: number, 
/**
 * Runs at once.
 */
max_parallel: number, 
/**
 * Whether run k of every variation shares its seed.
 */
pairing: Pairing, 
/**
 * When the batch may stop before `runs_per_variation`.
 */
stopping: Stopping | null, 
/**
 * For a group-sequential rule: the standardised effect (d_z paired, d unpaired) it has
 * its power for.
 */
planned_effect: number | null, 
/**
 * Seconds per run allowed.
 */
timeout_per_run: number, 
/**
 * Batch budget, USD.
 */
budget_limit: number | null, 
/**
 * Run budget, USD.
 */
cost_per_run_limit: number | null, 
/**
 * The first variations, with their estimates.
 */
variations: Array<PlannedVariation>, 
/**
 * Whether `variations` lists them all.
 */
variations_listed_all: boolean, 
/**
 * How many variations the estimate was computed from.
 */
variations_estimated: number, 
/**
 * Calls of an average run, by role.
 */
calls_per_run: Calls, 
/**
 * USD of an average run, when every price is known.
 */
cost_per_run: Range | null, 
/**
 * USD of the whole batch, when every price is known.
 */
cost_total: Range | null, 
/**
 * USD for the whole batch with `execution: batch` (providers' batch prices).
 */
cost_total_batch: Range | null, 
/**
 * With an `intervention` variation: what running its shared turns once saves (the
 * costs above already count it).
 */
sharing: Sharing | null, 
/**
 * How the config says the calls go.
 */
execution: Execution, 
/**
 * USD of an average run by role (known prices only).
 */
cost_by_role: Array<[Role, Range]>, 
/**
 * Every model the batch calls, with its price.
 */
models: Array<ModelUse>, 
/**
 * Models with no known price.
 */
unknown_price_models: Array<string>, 
/**
 * Seconds of an average run.
 */
seconds_per_run: number, 
/**
 * Seconds of the batch at `max_parallel`.
 */
seconds_total: number, 
/**
 * The budget verdict.
 */
budget: BudgetVerdict, 
/**
 * Things worth knowing before running.
 */
notes: Array<string>, 
/**
 * Sizes so large they must be confirmed before the batch starts (see [`confirm`]); the
 * hosts ask on a terminal, and refuse elsewhere without `--yes`. Filled in by
 * [`confirm::checks`], which points each at its line.
 */
confirm: Array<SizeCheck>, 
/**
 * The command that runs it.
 */
command: string, };

/**
 * What `planBatch` takes beside the config.
 */
export type PlanOptions = { 
/**
 * The JSON text of OpenRouter's `GET /api/v1/models`, for current prices.
 */
openrouterModels?: string, 
/**
 * `--budget-limit` for the session the plan is for, over the config's `budget_limit`.
 */
budgetLimit?: number, 
/**
 * `"K/N"`: the plan is for that shard, which a note describes (its runs, its budget).
 */
shard?: string, 
/**
 * `--output DIR`: the batch's output folder instead of the config's `output_dir`.
 */
outputDir?: string, };

/**
 * One listed variation, with its own estimate.
 */
export type PlannedVariation = { 
/**
 * Its first and last run ids.
 */
run_ids: [RunId, RunId], 
/**
 * USD per run, when every price is known.
 */
cost_per_run: Range | null, 
/**
 * Calls per run (expected).
 */
calls_per_run: number, 
/**
 * 1-based id (`var-001`).
 */
variation_id: number, 
/**
 * Readable, such as `regulator=gpt-4o-mini, turns=5`.
 */
description: string, 
/**
 * The index of the chosen value in each dimension.
 */
choices: Array<number>, 
/**
 * What it changes.
 */
modifications: Modifications, };

/**
 * A known price.
 */
export type Price = { 
/**
 * USD per million prompt tokens.
 */
prompt: number, 
/**
 * USD per million completion tokens.
 */
completion: number, 
/**
 * USD per million prompt tokens served from the provider's prefix cache.
 */
cache_read: number, 
/**
 * USD per million prompt tokens written to the cache (Anthropic bills 1.25 × `prompt`).
 */
cache_write: number, 
/**
 * A batch API's price as a share of the realtime price.
 */
batch_factor: number, 
/**
 * Where it came from.
 */
source: PriceSource, };

/**
 * Where a price came from.
 */
export type PriceSource = "config" | "free" | "openrouter" | "built_in";

/**
 * Something wrong with the input, and what was done about it.
 */
export type Problem = { 
/**
 * The file or folder, relative to the analysed folder.
 */
path: string, 
/**
 * What was wrong and what the analysis did.
 */
message: string, };

/**
 * A generated project: its files, and where its scenario and batch config are in it.
 */
export type Project = { 
/**
 * The scenario folder, relative to the project folder (`scenarios/<slug>`).
 */
scenario_dir: string, 
/**
 * The batch config, relative to the project folder (`experiments/<slug>/batch-config.yaml`).
 */
batch_config: string, 
/**
 * Every file to write.
 */
files: Array<ProjectFile>, };

/**
 * One file of a generated project.
 */
export type ProjectFile = { 
/**
 * Its path, relative to the project folder.
 */
path: string, 
/**
 * Its text.
 */
text: string, };

/**
 * The kind of server.
 */
export type Provider = "builtin" | "openrouter" | "local" | "custom" | "human";

/**
 * A low / expected / high triple.
 */
export type Range = { 
/**
 * Low.
 */
low: number, 
/**
 * Expected.
 */
expected: number, 
/**
 * High.
 */
high: number, };

/**
 * One endpoint's adaptive concurrency, in `run_finished`.
 */
export type RateLimitStats = { 
/**
 * The endpoint (base URL).
 */
endpoint: string, 
/**
 * Its concurrency limit now.
 */
limit: number, 
/**
 * Its requests in flight.
 */
in_flight: number, 
/**
 * The 429s it answered so far.
 */
rate_limited: number, };

/**
 * How a plan or a calibration is rendered as text.
 */
export type RenderOptions = { 
/**
 * ANSI colour (default off).
 */
color?: boolean, };

/**
 * Replies worth a second look, counted per run and per batch.
 */
export type ReplyCounts = { 
/**
 * Replies cut at their output cap (`finish_reason: length`).
 */
truncated: number, 
/**
 * Replies longer than their cap: the provider ignored `max_tokens`.
 */
over_cap: number, 
/**
 * Attempts abandoned at their time limit and sent again, which a paid provider may have
 * billed.
 */
possibly_billed_retries: number, };

/**
 * A `--shard` resolved: the shard, and for `auto` what was read to find it.
 */
export type ResolvedShard = { 
/**
 * `K/N`, 1-based.
 */
shard: string, 
/**
 * For `auto`: the scheduler and the variables that gave the shard, in a sentence.
 */
found: string | null, };

/**
 * The roles of LLM calls.
 */
export type Role = "actor" | "world" | "communication" | "metric" | "check" | "summary";

/**
 * How one role of the rest was estimated.
 */
export type RoleBasis = { 
/**
 * The role.
 */
role: Role, 
/**
 * Calls of the role recorded.
 */
calls_recorded: number, 
/**
 * Calls of the role an average remaining run makes (calibrated).
 */
calls_per_run: number, 
/**
 * Calls of the role an average run makes in the built-in model.
 */
built_in_calls_per_run: number, 
/**
 * Where its tokens come from.
 */
tokens: TokenSource, };

/**
 * One run's cost in `batch-costs.json`.
 */
export type RunCost = { 
/**
 * Which run.
 */
run_id: RunId, 
/**
 * Its variation's id.
 */
variation_id: number, 
/**
 * Spent, USD.
 */
cost: number, 
/**
 * Spent, nano-dollars.
 */
cost_nanos: number, 
/**
 * Whether it completed.
 */
success: boolean, 
/**
 * How it stands.
 */
status: RunStatus, 
/**
 * Why it halted.
 */
halt_reason: HaltReason | null, };

/**
 * The `costs.json` a run writes when it ends: the totals, the counts and the breakdown.
 */
export type RunCosts = { 
/**
 * USD (the key other tools read).
 */
total_cost: number, 
/**
 * Nano-dollars, exact: the sum of the calls' `cost_nanos`.
 */
total_cost_nanos: number, 
/**
 * Calls made (replayed ones included: they were paid once; a branch's calls copied from
 * its source are counted under `savings.shared_calls` instead).
 */
calls: number, 
/**
 * Prompt tokens, as the providers counted them.
 */
prompt_tokens: number, 
/**
 * Completion tokens, as the providers counted them.
 */
completion_tokens: number, 
/**
 * Calls whose model had no known price (counted as $0).
 */
unknown_price_calls: number, 
/**
 * Replies cut at their output cap (`finish_reason: length`).
 */
truncated_replies: number, 
/**
 * Replies longer than the cap sent: the provider ignored `max_tokens`.
 */
over_cap_replies: number, 
/**
 * Attempts abandoned at their time limit and sent again, which a provider may have billed.
 */
possibly_billed_retries: number, 
/**
 * USD by actor short name (calls of no actor under their role: `world`, `summary`, ...).
 */
by_actor: { [key in string]: number }, 
/**
 * USD by role.
 */
by_role: { [key in string]: number }, 
/**
 * USD by turn.
 */
by_turn: { [key in string]: number }, 
/**
 * USD by model.
 */
by_model: { [key in string]: number }, 
/**
 * What caches and batch prices saved.
 */
savings?: Savings, };

/**
 * The data of `run_finished`.
 */
export type RunFinished = { 
/**
 * Which run.
 */
run_id: RunId, 
/**
 * Its variation's id.
 */
variation_id: number, 
/**
 * How it ended.
 */
status: RunStatus, 
/**
 * Why it halted.
 */
halt_reason: HaltReason | null, 
/**
 * Its error, when it failed.
 */
error: string | null, 
/**
 * Turns completed.
 */
turns: number, 
/**
 * This run's cost, USD.
 */
cost: number, 
/**
 * What caches and batch prices saved this run.
 */
savings: Savings, 
/**
 * The batch's spend so far, USD.
 */
spent: number, 
/**
 * Per endpoint: the concurrency limit now, requests in flight, and 429s seen so far.
 */
rate_limits: Array<RateLimitStats>, };

/**
 * Which run: the variation's id and the run's number within it, both counted from 1.
 */
export type RunId = string;

/**
 * One run folder as a list shows it.
 */
export type RunListing = { 
/**
 * The folder name (`var-001-run-002`).
 */
run_id: string, 
/**
 * Its status; `unknown` when its state file is missing, unreadable or says something else.
 */
status: ListedStatus, 
/**
 * Why it halted, when it did (for the original tool's runs: its reason, else its error).
 */
halt_reason: string | null, 
/**
 * Its error, when it failed.
 */
error: string | null, 
/**
 * Turns done.
 */
turns: number | null, 
/**
 * Turns planned.
 */
total_turns: number | null, 
/**
 * What it cost (USD), from `costs.json`.
 */
cost: number | null, 
/**
 * The same in billionths of a dollar, exact (our runs only).
 */
cost_nanos: number | null, 
/**
 * Calls made, from `costs.json`.
 */
calls: number | null, };

/**
 * What a run is: enough to start it again from its folder.
 */
export type RunSpec = { 
/**
 * The scenario folder.
 */
scenario_dir: string, 
/**
 * Changes to the scenario (a batch variation, `--model-override`, `--turns`).
 */
modifications: Modifications, 
/**
 * The run's seed.
 */
seed: number, 
/**
 * In a paired batch, the run number k whose seed this run shares with run k of every
 * other variation (its block, in the analysis of a paired design).
 */
block?: number | null, 
/**
 * Set for a branch.
 */
branch: Branch | null, 
/**
 * The run's own cost limit, USD.
 */
cost_limit: number | null, 
/**
 * A completion cap for every call whose actor sets none.
 */
max_tokens: number | null, };

/**
 * The data of `run_started`.
 */
export type RunStarted = { 
/**
 * Which run.
 */
run_id: RunId, 
/**
 * Its variation's id.
 */
variation_id: number, 
/**
 * What its variation changes.
 */
description: string, 
/**
 * Runs in flight, this one included.
 */
in_flight: number, 
/**
 * For a run of an intervention's arm that branches: the run whose first turns it shares
 * (copied into its folder and replayed, not sent again); null for a run that runs whole.
 */
shares_prefix_of: RunId | null, };

/**
 * How a run ended (or stands).
 */
export type RunStatus = "completed" | "halted" | "failed" | "running";

/**
 * How many runs are enough, for one metric.
 */
export type SampleSize = { 
/**
 * Pooled within-variation standard deviation.
 */
pooled_sd: number | null, 
/**
 * The fewest completed runs with a value in any variation.
 */
runs_per_variation_now: number, 
/**
 * The 95% CI half-width of a variation mean at that size.
 */
half_width_now: number | null, 
/**
 * The half-width aimed at.
 */
target_half_width: number | null, 
/**
 * Where the target came from.
 */
target_source: string, 
/**
 * Runs per variation for that half-width.
 */
runs_for_target: number | null, 
/**
 * The smallest non-zero |Hedges' g| between two variations.
 */
smallest_effect: number | null, 
/**
 * Runs per variation to detect it with 80% power at α = 0.05 (two-sided t test).
 */
runs_for_80_power: number | null, };

/**
 * What providers' prefix caches and batch prices saved, against the realtime price with
 * nothing cached (at the models' prices; negative when cache writes cost more than reads
 * saved), and what sharing the first turns of an intervention's arms saved (a branched run's
 * calls replayed from its source). In `costs.json`, events and the batch's files.
 */
export type Savings = { 
/**
 * Prompt tokens sent.
 */
prompt_tokens: number, 
/**
 * Of those, served from providers' caches.
 */
cached_tokens: number, 
/**
 * USD the caches saved.
 */
cache_saved: number, 
/**
 * Calls answered by providers' batch jobs.
 */
batch_calls: number, 
/**
 * USD the batch price saved.
 */
batch_saved: number, 
/**
 * Calls a branched run replayed from the prefix copied from its source (an intervention's
 * arm), instead of sending them again.
 */
shared_calls: number, 
/**
 * USD those calls cost their source: what sharing saved.
 */
shared_saved: number, };

/**
 * What the user asked for.
 */
export type ScenarioRequest = { 
/**
 * A new run of this scenario folder.
 */
scenarioDir?: string, 
/**
 * The run folder (default `output/<scenario>/run-NNN`, the next free number).
 */
output?: string, 
/**
 * Turns to run instead of the scenario's.
 */
turns?: number, 
/**
 * `actor=model` overrides; `world=model` sets the world model (which metrics and checks
 * use unless they name their own).
 */
modelOverrides?: Array<string>, 
/**
 * Actors a person plays in this new run (`--human ACTOR`: the actor's short name, file
 * stem or name), as `human: true` in their files would make them.
 */
human?: Array<string>, 
/**
 * The seed (default: the host's random seed).
 */
seed?: number, 
/**
 * Resume the run in this folder.
 */
resume?: string, 
/**
 * Branch from the run in this folder...
 */
branchFrom?: string, 
/**
 * ...after this turn.
 */
atTurn?: number, 
/**
 * The run's cost limit, USD.
 */
costLimit?: number, 
/**
 * A completion cap for every call whose actor sets none.
 */
maxTokens?: number, 
/**
 * Seconds one LLM request may take (default: from its cap).
 */
callTimeout?: number, 
/**
 * `--yes`: start even a run larger than Scenario Lab starts without asking (more than
 * [`crate::plan::confirm::MAX_TURNS`] turns).
 */
yes?: boolean, };

/**
 * What a single run resolves to for its host: its outcome and its folder.
 */
export type ScenarioResult = { 
/**
 * The run folder.
 */
dir: string, 
/**
 * USD spent (replayed calls included: they were paid once, in an earlier session; a
 * branch's calls copied from its source are not: the source paid them, and `savings`
 * counts them as shared).
 */
total_cost: number, 
/**
 * Calls sent in this session.
 */
calls_sent: number, 
/**
 * Calls replayed from the log.
 */
calls_replayed: number, 
/**
 * Replies cut at or over their cap, and possibly billed retries.
 */
replies: ReplyCounts, 
/**
 * What caches and batch prices saved.
 */
savings: Savings, 
/**
 * How the run ended, or `running`.
 */
status: RunStatus, 
/**
 * Why it stopped early: null while it runs and when it completed.
 */
halt_reason: HaltReason | null, 
/**
 * What went wrong, when it failed: null otherwise.
 */
error: string | null, 
/**
 * Turns completed.
 */
current_turn: number, };

/**
 * `scenario-state.json`: what a run is and where it stands. Rewritten whole after every turn
 * and when the run ends, so it is always the latest word on the run.
 */
export type ScenarioState = { 
/**
 * The scenario's name.
 */
scenario_name: string, 
/**
 * The scenario folder (the spec's `scenario_dir`).
 */
scenario_path: string, 
/**
 * The turns the scenario has (after the run's modifications).
 */
total_turns: number, 
/**
 * The run's seed (the spec's `seed`).
 */
seed: number, 
/**
 * What the run is: enough to start it again from its folder (resume, branch).
 */
spec: RunSpec, 
/**
 * Each actor by short name: its full name and model.
 */
actors: { [key in string]: StateActor }, 
/**
 * The model of the world updates (and of metrics and checks that name none).
 */
world_state_model: string, 
/**
 * USD spent so far (replayed calls included: they were paid once; a branch's calls copied
 * from its source are not, since the source paid them).
 */
total_cost: number, 
/**
 * Calls made so far (replayed ones included, a branch's copied ones not).
 */
calls: number, 
/**
 * Replies cut at their output cap (`finish_reason: length`). This and the next two counts
 * default to 0: states written before they existed lack them.
 */
truncated_replies: number, 
/**
 * Replies longer than the cap sent: the provider ignored `max_tokens`.
 */
over_cap_replies: number, 
/**
 * Attempts abandoned at their time limit and sent again, which a provider may have billed.
 */
possibly_billed_retries: number, 
/**
 * How the run ended, or `running`.
 */
status: RunStatus, 
/**
 * Why it stopped early: null while it runs and when it completed.
 */
halt_reason: HaltReason | null, 
/**
 * What went wrong, when it failed: null otherwise.
 */
error: string | null, 
/**
 * Turns completed.
 */
current_turn: number, };

/**
 * What a group-sequential comparison decided, and which p-value to cite for it.
 */
export type SequentialResult = { 
/**
 * The two variations compared (ids), in the rule's order.
 */
compared: [number, number], 
/**
 * The metric compared.
 */
metric: string, 
/**
 * The look that stopped the design, else the last one taken; null before any look.
 */
look: number | null, 
/**
 * The looks the design allowed.
 */
looks_planned: number, 
/**
 * What that look decided.
 */
decision: LookDecision | null, 
/**
 * The stage-wise adjusted two-sided p-value at the deciding look: the one to cite.
 */
p_adjusted: number | null, 
/**
 * The fixed-sample p-value of the same comparison in the comparison table (the test its
 * verdict rests on, unadjusted), which ignores the interim looks.
 */
p_fixed_sample: number | null, 
/**
 * The test behind `p_fixed_sample`: `paired_t` or `welch_t`.
 */
fixed_sample_test: string | null, };

/**
 * How bad a problem is.
 */
export type Severity = "error" | "warning";

/**
 * What sharing an intervention's first turns saves a batch.
 */
export type Sharing = { 
/**
 * The intervention's turn: turns 1 to `at_turn` − 1 are run once per family and run
 * number, and shared by every arm.
 */
at_turn: number, 
/**
 * The intervention's arms.
 */
arms: number, 
/**
 * Runs that branch from another run's first turns (every arm's but the first's).
 */
branched_runs: number, 
/**
 * Calls not sent thanks to the sharing, expected.
 */
calls_saved: number, 
/**
 * USD not spent thanks to the sharing, when every price is known.
 */
cost_saved: Range | null, };

/**
 * What is too large.
 */
export type Size = "runs" | "turns" | "cost" | "time";

/**
 * One size that needs confirming, and where the config sets it.
 */
export type SizeCheck = { 
/**
 * What is too large.
 */
size: Size, 
/**
 * One sentence: the figure and the threshold.
 */
message: string, 
/**
 * The file that sets it.
 */
file: string, 
/**
 * Its line there, when found.
 */
line: number | null, 
/**
 * The refusal as printed (rustc-style: the message, the place, the quoted line, the help).
 */
text: string, };

/**
 * An actor in [`ScenarioState::actors`].
 */
export type StateActor = { 
/**
 * Its full name.
 */
name: string, 
/**
 * Its model id, as configured.
 */
model: string, };

/**
 * Why a batch stopped before all its runs were done.
 */
export type StopReason = "budget" | "interrupted";

/**
 * When a batch may stop before `runs_per_variation` (which becomes the maximum).
 */
export type Stopping = { "rule": "precision", 
/**
 * The metric whose mean is estimated.
 */
metric: string, 
/**
 * The half-width of the 95% interval to reach.
 */
target_half_width: number, } | { "rule": "group_sequential", 
/**
 * The two variations compared (1-based ids).
 */
compare: [number, number], 
/**
 * The metric compared.
 */
metric: string, 
/**
 * The two-sided type I error.
 */
alpha: number, 
/**
 * The power at the effect the design is planned for.
 */
power: number, 
/**
 * How many times the comparison is looked at (the last at `runs_per_variation`).
 */
looks: number, };

/**
 * Where a batch's stopping rule stands (`batch-state.json`'s `stopping`): every look taken,
 * with its numbers, and every variation stopped. Re-evaluated from the run folders when a
 * batch resumes.
 */
export type StoppingRecord = { 
/**
 * The rule.
 */
rule: Stopping, 
/**
 * For a group-sequential rule: the standardised effect (d_z when paired, Cohen's d when
 * not) the design has its power for, at `runs_per_variation` runs.
 */
planned_effect?: number | null, 
/**
 * For a group-sequential rule: each look taken, in order.
 */
looks?: Array<Look>, 
/**
 * The variations that stopped before `runs_per_variation`.
 */
stopped: Array<VariationStop>, };

/**
 * A level's success rate against the reference level's.
 */
export type SuccessFactor = { 
/**
 * The factor.
 */
factor: string, 
/**
 * The level.
 */
level: string, 
/**
 * The reference level.
 */
reference: string, 
/**
 * Success rate at the level.
 */
success_rate: number, 
/**
 * Its Wilson 95% CI.
 */
success_ci95: [number, number] | null, 
/**
 * Success rate at the reference.
 */
reference_rate: number, 
/**
 * Fisher's exact p, Holm-adjusted over all level contrasts.
 */
fisher_p_adj: number, 
/**
 * Plain language.
 */
verdict: string, };

/**
 * Pairwise success-rate comparison: Fisher's exact test, and McNemar's on the matched runs of
 * a paired design.
 */
export type SuccessPair = { 
/**
 * First variation.
 */
a: number, 
/**
 * Second variation.
 */
b: number, 
/**
 * Success rate of b − success rate of a.
 */
difference: number, 
/**
 * Two-sided Fisher exact p.
 */
fisher_p: number, 
/**
 * Holm-adjusted.
 */
fisher_p_adj: number, 
/**
 * McNemar's exact test on the runs matched by run number (paired design only).
 */
mcnemar: McNemar | null, 
/**
 * The test the verdict rests on: `mcnemar` in a paired design, else `fisher_exact`.
 */
test_kind: string, };

/**
 * A template the wizard offers.
 */
export type TemplateInfo = { 
/**
 * Its name (`--template NAME`).
 */
name: string, 
/**
 * What shape of scenario it is.
 */
summary: string, };

/**
 * The result of a test: its statistic, degrees of freedom where it has them, and the
 * two-sided p-value.
 */
export type Test = { 
/**
 * The test statistic (t, U, F, H or z, as each function says).
 */
statistic: number, 
/**
 * Degrees of freedom (the numerator's for F); `None` for U and z.
 */
df: number | null, 
/**
 * Denominator degrees of freedom of an F statistic; `None` otherwise.
 */
df2: number | null, 
/**
 * Two-sided p-value.
 */
p: number, };

/**
 * Where the tokens of one kind of call come from.
 */
export type TokenSource = "recorded" | "role" | "built_in";

/**
 * What the recorded calls of one (role, model) used.
 */
export type TokenStats = { 
/**
 * The role.
 */
role: Role, 
/**
 * The model.
 */
model: string, 
/**
 * Calls recorded.
 */
calls: number, 
/**
 * Mean prompt tokens a call.
 */
prompt_tokens: number, 
/**
 * Mean completion tokens a call.
 */
completion_tokens: number, 
/**
 * Mean USD a call, at the price book's price (at its recorded cost when there is none).
 */
cost_per_call: number | null, };

/**
 * A metric's mean at one turn.
 */
export type TurnStats = { 
/**
 * The turn.
 */
turn: number, 
/**
 * Values at that turn.
 */
n: number, 
/**
 * Their mean.
 */
mean: number, 
/**
 * Their standard deviation.
 */
sd: number | null, 
/**
 * 95% CI of the mean.
 */
ci95: [number, number] | null, };

/**
 * A model id the provider does not list.
 */
export type UnknownModel = { 
/**
 * The id as written.
 */
model: string, 
/**
 * The listed id it most likely means, when one is close.
 */
suggestion: string | null, 
/**
 * One line: ``model `x` is not in the provider's model list; did you mean `y`?``.
 */
message: string, };

/**
 * The outcome of `validate`: every problem of a scenario folder or batch config.
 */
export type ValidationReport = { 
/**
 * No errors (warnings allowed).
 */
ok: boolean, 
/**
 * What the path named, when anything.
 */
kind: InputKind | null, 
/**
 * The path as given.
 */
path: string, 
/**
 * The errors.
 */
errors: Array<Diagnostic>, 
/**
 * The warnings.
 */
warnings: Array<Diagnostic>, };

/**
 * One variation's money in `batch-costs.json`.
 */
export type VariationCost = { 
/**
 * What the variation changes.
 */
description: string, 
/**
 * Spent, USD.
 */
total_cost: number, 
/**
 * Its known runs.
 */
num_runs: number, 
/**
 * Its completed runs.
 */
successful_runs: number, 
/**
 * Spent per known run, USD.
 */
avg_cost_per_run: number, };

/**
 * Everything about one variation (`variation-statistics.json`).
 */
export type VariationStats = { 
/**
 * The id.
 */
variation_id: number, 
/**
 * Readable description.
 */
description: string, 
/**
 * Factor → level.
 */
factors: { [key in string]: string }, 
/**
 * Runs found.
 */
total_runs: number, 
/**
 * Runs that completed.
 */
completed_runs: number, 
/**
 * Runs that succeeded.
 */
successful_runs: number, 
/**
 * successful / total.
 */
success_rate: number, 
/**
 * Wilson 95% interval of the success rate.
 */
success_ci95: [number, number] | null, 
/**
 * Runs by status.
 */
statuses: { [key in string]: number }, 
/**
 * Halt reasons and errors, counted.
 */
reasons: { [key in string]: number }, 
/**
 * Per metric, over completed runs.
 */
metrics: { [key in string]: MetricStats }, 
/**
 * Cost over all runs.
 */
cost: CostStats, };

/**
 * A variation that stopped before `runs_per_variation`, and why.
 */
export type VariationStop = { 
/**
 * The variation.
 */
variation_id: number, 
/**
 * Rounds it ran: no run after this one is started.
 */
after_runs: number, 
/**
 * For a precision rule: the half-width reached.
 */
half_width?: number | null, 
/**
 * A sentence: `var-002 stopped after 14 runs: half-width 0.48 (target 0.5)`.
 */
message: string, };
