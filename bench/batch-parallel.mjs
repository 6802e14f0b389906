// bench/batch-parallel.mjs: wall time of a batch against its ideal critical-path time.
//
// 64 runs x 3 turns of the 2-actor quick-negotiation scenario, both actors on a fake LLM server
// with 200 ms latency (world model: builtin/simulator, in process, no latency), at max_parallel
// 1, 8 and 32. Baseline (ideal) = ceil(runs / max_parallel) x turns x calls on a turn's critical
// path x latency, where the critical path is one actor decision (the two actors decide
// concurrently; checked from the server's stats). Target: wall / ideal <= 1.1.
// Run: node bench/batch-parallel.mjs [--runs 64] [--latency-ms 200] [--parallel 1,8,32]

import { parseArgs } from 'node:util';
import { cleanup, fmt, runCli, startFakeLlm, tempDir, verdict, writeConfig } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '64' },
    'latency-ms': { type: 'string', default: '200' },
    parallel: { type: 'string', default: '1,8,32' },
  },
});
const RUNS = Number(values.runs);
const TURNS = 3;
const ACTORS = 2;
const LATENCY_MS = Number(values['latency-ms']);
const LEVELS = values.parallel.split(',').map(Number);
const TARGET = 1.1;

const dir = tempDir('parallel');
const srv = await startFakeLlm({ port: 0, latencyMs: LATENCY_MS });
try {
  console.log(`batch-parallel: ${RUNS} runs x ${TURNS} turns, ${ACTORS} actors, fake server latency ${LATENCY_MS} ms`);
  console.log('baseline: ideal = ceil(runs / max_parallel) x turns x critical-path calls per turn x latency; wall = CLI spawn to exit (batch = first to last --json event)');
  for (const n of LEVELS) {
    srv.reset();
    const cfg = writeConfig(dir, `parallel-${n}`, { runs: RUNS, maxParallel: n, turns: TURNS });
    const r = await runCli(cfg, srv.url);
    const st = srv.stats();
    const done = r.summary?.runs_completed ?? 0;
    if (r.code !== 0 || done !== RUNS) {
      console.log(`max_parallel=${n} MISSED: exit ${r.code}, ${done}/${RUNS} runs completed\n${r.stderr.slice(-2000)}`);
      continue;
    }
    const callsPerRun = st.completions / done;
    const callsPerTurn = callsPerRun / TURNS;
    // Actors decide concurrently, so a turn's critical path is the calls one actor makes in a
    // turn: 1 when each turn makes one call per actor (checked here, not assumed). If the runner
    // failed to overlap the actors, that shows up in the ratio, not in a larger baseline.
    const critical = Math.max(1, callsPerTurn / ACTORS);
    const ideal = Math.ceil(RUNS / n) * TURNS * critical * (LATENCY_MS / 1000);
    const ratio = r.wallS / ideal;
    console.log(
      `max_parallel=${n} wall=${fmt(r.wallS)}s ideal=${fmt(ideal)}s ratio=${fmt(ratio)} ${verdict(ratio <= TARGET)}` +
      `  (batch=${fmt(r.batchS)}s ratio=${fmt(r.batchS / ideal)}; calls/run=${fmt(callsPerRun, 1)}` +
      ` critical-path calls/turn=${critical}; server peak in flight=${st.peakInFlight}, expected ${Math.min(n, RUNS) * ACTORS})`,
    );
  }
} finally {
  await srv.close();
  cleanup(dir);
}
process.exitCode = 0;
