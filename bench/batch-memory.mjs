// bench/batch-memory.mjs: peak resident memory of the batch runner as the batch grows.
//
// Runs `node node/cli.js run ...` under `/usr/bin/time -v` for a 100-, a 1,000- and a
// 10,000-run batch (2-actor scenario, 3 turns, max_parallel 8, zero-latency fake server in its
// own process, every run's folder kept) and reads "Maximum resident set size". Baseline: the
// 100-run peak. Targets (issue 15): the 1,000-run peak at most 1.1x, the 10,000-run peak at most
// 1.2x the 100-run peak (memory grows with max_parallel, not with the number of runs).
// Run: node bench/batch-memory.mjs [--sizes 100,1000,10000] [--parallel 8]

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cleanup, fmt, runCli, startFakeLlmProcess, tempDir, verdict, writeConfig } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,10000' },
    parallel: { type: 'string', default: '8' },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const PARALLEL = Number(values.parallel);
/** The target ratio to the smallest batch's peak: 1.1 up to 10x its runs, 1.2 beyond. */
const target = (runs) => (runs <= 10 * SIZES[0] ? 1.1 : 1.2);

if (!existsSync('/usr/bin/time')) {
  console.log('batch-memory: MISSED: /usr/bin/time is not installed (apt-get install time); nothing measured');
  process.exit(0);
}

const dir = tempDir('memory');
const srv = await startFakeLlmProcess(['--latency-ms', '0']);
const peaks = [];
try {
  console.log(`batch-memory: 2 actors x 3 turns per run, max_parallel ${PARALLEL}, zero-latency fake server; peak RSS of the CLI process from /usr/bin/time -v`);
  for (const runs of SIZES) {
    await srv.reset();
    const cfg = writeConfig(dir, `memory-${runs}`, { runs, maxParallel: PARALLEL });
    const r = await runCli(cfg, srv.url, { timeV: true });
    const done = r.summary?.runs_completed ?? 0;
    const note = r.code !== 0 || done !== runs ? ` WARNING: exit ${r.code}, ${done}/${runs} runs completed` : '';
    peaks.push(r.maxRssKb);
    console.log(`runs=${runs} peak_rss=${fmt(r.maxRssKb / 1024, 1)} MiB wall=${fmt(r.wallS)}s calls=${(await srv.stats()).completions}${note}`);
    if (r.maxRssKb === null) console.log(r.stderr.slice(-2000));
    cleanup(`${dir}/out-memory-${runs}`); // keep disk use down between the two batches
  }
  for (const [i, runs] of SIZES.entries()) {
    if (i === 0) continue;
    const ratio = peaks[i] / peaks[0];
    console.log(`ratio ${runs}/${SIZES[0]}=${fmt(ratio)} target<=${target(runs)} ${verdict(ratio <= target(runs))}`);
  }
} finally {
  await srv.close();
  cleanup(dir);
}
process.exitCode = 0;
