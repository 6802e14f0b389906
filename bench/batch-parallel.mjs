// bench/batch-parallel.mjs: wall time of a batch against its ideal critical-path time.
//
// 512 runs x 5 turns of the 2-actor quick-negotiation scenario, both actors on a fake LLM server
// (in its own process) with 200 ms latency (world model: builtin/simulator, in process, no
// latency), at max_parallel 8, 32 and 128. Baseline (ideal) = ceil(runs / max_parallel) x turns
// x calls on a turn's critical path x latency, where the critical path is one actor decision (the
// two actors decide concurrently; checked from the server's stats). The size keeps the CLI's
// start-up (0.2-0.4 s) under 5% of the smallest ideal (4 s at 128). Two ratios: whole process
// (CLI spawn to exit) and batch only (first to last --json event). Target (issue 15): both
// <= 1.1 at every level.
// Run: node bench/batch-parallel.mjs [--runs 512] [--turns 5] [--latency-ms 200] [--parallel 8,32,128]

import { parseArgs } from 'node:util';
import { cleanup, fmt, runCli, startFakeLlmProcess, tempDir, verdict, writeConfig } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '512' },
    turns: { type: 'string', default: '5' },
    'latency-ms': { type: 'string', default: '200' },
    parallel: { type: 'string', default: '8,32,128' },
  },
});
const RUNS = Number(values.runs);
const TURNS = Number(values.turns);
const ACTORS = 2;
const LATENCY_MS = Number(values['latency-ms']);
const LEVELS = values.parallel.split(',').map(Number);
const TARGET = 1.1;

const dir = tempDir('parallel');
const srv = await startFakeLlmProcess(['--latency-ms', String(LATENCY_MS)]);
try {
  console.log(`batch-parallel: ${RUNS} runs x ${TURNS} turns, ${ACTORS} actors, fake server latency ${LATENCY_MS} ms`);
  console.log('baseline: ideal = ceil(runs / max_parallel) x turns x critical-path calls per turn x latency; wall = CLI spawn to exit (batch = first to last --json event)');
  for (const n of LEVELS) {
    await srv.reset();
    const cfg = writeConfig(dir, `parallel-${n}`, { runs: RUNS, maxParallel: n, turns: TURNS });
    const r = await runCli(cfg, srv.url);
    const st = await srv.stats();
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
    const batchRatio = r.batchS / ideal;
    console.log(
      `max_parallel=${n} ideal=${fmt(ideal)}s  whole process: wall=${fmt(r.wallS)}s ratio=${fmt(ratio)} ${verdict(ratio <= TARGET)}` +
      `  batch only: ${fmt(r.batchS)}s ratio=${fmt(batchRatio)} ${verdict(batchRatio <= TARGET)}` +
      `  (calls/run=${fmt(callsPerRun, 1)}` +
      ` critical-path calls/turn=${critical}; server peak in flight=${st.peakInFlight}, expected ${Math.min(n, RUNS) * ACTORS})`,
    );
  }
} finally {
  await srv.close();
  cleanup(dir);
}
process.exitCode = 0;
