// bench/batch-memory.mjs: peak resident memory of the batch runner as the batch grows.
//
// Runs `node node/cli.js run ...` under `/usr/bin/time -v` for a 100-run and a 1,000-run batch
// (2-actor scenario, 3 turns, max_parallel 8, zero-latency fake server, every run's folder kept)
// and reads "Maximum resident set size". Baseline: the 100-run peak. Target: the 1,000-run peak
// is at most 1.2x the 100-run peak (memory flat in the number of runs).
// Run: node bench/batch-memory.mjs [--small 100] [--large 1000] [--parallel 8]

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cleanup, fmt, runCli, startFakeLlm, tempDir, verdict, writeConfig } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '100' },
    large: { type: 'string', default: '1000' },
    parallel: { type: 'string', default: '8' },
  },
});
const SIZES = [Number(values.small), Number(values.large)];
const PARALLEL = Number(values.parallel);
const TARGET = 1.2;

if (!existsSync('/usr/bin/time')) {
  console.log('batch-memory: MISSED: /usr/bin/time is not installed (apt-get install time); nothing measured');
  process.exit(0);
}

const dir = tempDir('memory');
const srv = await startFakeLlm({ port: 0, latencyMs: 0 });
const peaks = [];
try {
  console.log(`batch-memory: 2 actors x 3 turns per run, max_parallel ${PARALLEL}, zero-latency fake server; peak RSS of the CLI process from /usr/bin/time -v`);
  for (const runs of SIZES) {
    srv.reset();
    const cfg = writeConfig(dir, `memory-${runs}`, { runs, maxParallel: PARALLEL });
    const r = await runCli(cfg, srv.url, { timeV: true });
    const done = r.summary?.runs_completed ?? 0;
    const note = r.code !== 0 || done !== runs ? ` WARNING: exit ${r.code}, ${done}/${runs} runs completed` : '';
    peaks.push(r.maxRssKb);
    console.log(`runs=${runs} peak_rss=${fmt(r.maxRssKb / 1024, 1)} MiB wall=${fmt(r.wallS)}s calls=${srv.stats().completions}${note}`);
    if (r.maxRssKb === null) console.log(r.stderr.slice(-2000));
    cleanup(`${dir}/out-memory-${runs}`); // keep disk use down between the two batches
  }
  const ratio = peaks[1] / peaks[0];
  console.log(`ratio ${SIZES[1]}/${SIZES[0]}=${fmt(ratio)} target<=${TARGET} ${verdict(ratio <= TARGET)}`);
} finally {
  await srv.close();
  cleanup(dir);
}
process.exitCode = 0;
