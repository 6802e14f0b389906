// bench/batch-throughput.mjs: LLM calls per second the batch runner sustains when the LLM costs
// nothing: a zero-latency fake server, max_parallel 64, 640 runs x 3 turns of the 2-actor
// scenario (3,840 calls). calls = the server's completed calls; rate = calls / wall seconds.
// Baseline: the absolute target of 500 calls/s (the wasm core must not be the bottleneck).
// Run: node bench/batch-throughput.mjs [--runs 640] [--parallel 64]

import { parseArgs } from 'node:util';
import { cleanup, fmt, runCli, startFakeLlm, tempDir, verdict, writeConfig } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '640' },
    parallel: { type: 'string', default: '64' },
  },
});
const RUNS = Number(values.runs);
const PARALLEL = Number(values.parallel);
const TARGET = 500;

const dir = tempDir('throughput');
const srv = await startFakeLlm({ port: 0, latencyMs: 0 });
try {
  console.log(`batch-throughput: ${RUNS} runs x 3 turns, 2 actors, max_parallel ${PARALLEL}, zero-latency fake server (in the bench process; the runner is a CLI child)`);
  const cfg = writeConfig(dir, 'throughput', { runs: RUNS, maxParallel: PARALLEL });
  const r = await runCli(cfg, srv.url);
  const st = srv.stats();
  const done = r.summary?.runs_completed ?? 0;
  if (r.code !== 0 || done !== RUNS) console.log(`WARNING: exit ${r.code}, ${done}/${RUNS} runs completed\n${r.stderr.slice(-2000)}`);
  const rate = st.completions / r.wallS;
  const batchRate = st.completions / r.batchS;
  console.log(
    `calls=${st.completions} wall=${fmt(r.wallS)}s rate=${fmt(rate, 0)} calls/s target>=${TARGET} ${verdict(rate >= TARGET)}` +
    `  (batch=${fmt(r.batchS)}s rate=${fmt(batchRate, 0)} calls/s; ratio rate/target=${fmt(rate / TARGET)}; server peak in flight=${st.peakInFlight})`,
  );
} finally {
  await srv.close();
  cleanup(dir);
}
process.exitCode = 0;
