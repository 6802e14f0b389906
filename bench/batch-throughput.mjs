// bench/batch-throughput.mjs: LLM calls per second the batch runner sustains when the LLM costs
// nothing: a zero-latency fake server, max_parallel 64, 640 runs x 3 turns of the 2-actor
// scenario (3,840 calls), the server in its own process. calls = the server's completed calls;
// rate = calls / wall seconds. The same batch runs twice: its output on disk (the temp dir) and
// on tmpfs, to show what the filesystem costs: `--tmpfs DIR` names a tmpfs folder; without it,
// as root, the bench mounts one of 2 GB in its temp dir (and unmounts it); otherwise it says
// so and measures the disk only. (/dev/shm will not do: the CLI never writes under /dev.)
// Baseline: the absolute target of issue 15, 1,500 calls/s on a quiet machine (the wasm core and
// the host must not be the bottleneck).
// Run: node bench/batch-throughput.mjs [--runs 640] [--parallel 64]

import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, fmt, runCli, startFakeLlmProcess, tempDir, verdict, writeConfig } from './_lib.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '640' },
    parallel: { type: 'string', default: '64' },
    tmpfs: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
const PARALLEL = Number(values.parallel);
const TARGET = 1500;

const dir = tempDir('throughput');
/** A tmpfs folder for the second batch: --tmpfs, or one mounted here as root; null if neither. */
function tmpfsFolder() {
  if (values.tmpfs) return { path: values.tmpfs, mounted: false };
  if (process.getuid?.() !== 0) return null;
  const path = join(dir, 'tmpfs');
  mkdirSync(path);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2g', 'tmpfs', path], { encoding: 'utf8' });
  return r.status === 0 ? { path, mounted: true } : null;
}
const tmpfs = tmpfsFolder();
const srv = await startFakeLlmProcess(['--latency-ms', '0']);
try {
  console.log(`batch-throughput: ${RUNS} runs x 3 turns, 2 actors, max_parallel ${PARALLEL}, zero-latency fake server in its own process`);
  for (const [where, root] of [['disk', dir], ['tmpfs', tmpfs?.path]]) {
    if (!root) { console.log(`${where}: not measured (no --tmpfs DIR, and not root to mount one)`); continue; }
    await srv.reset();
    const cfg = writeConfig(dir, `throughput-${where}`, { runs: RUNS, maxParallel: PARALLEL, outputDir: join(root, 'out') });
    const r = await runCli(cfg, srv.url);
    const st = await srv.stats();
    const done = r.summary?.runs_completed ?? 0;
    if (r.code !== 0 || done !== RUNS) console.log(`WARNING: exit ${r.code}, ${done}/${RUNS} runs completed\n${r.stderr.slice(-2000)}`);
    const rate = st.completions / r.wallS;
    const batchRate = st.completions / r.batchS;
    console.log(
      `${where.padEnd(5)} calls=${st.completions} wall=${fmt(r.wallS)}s rate=${fmt(rate, 0)} calls/s target>=${TARGET} ${verdict(rate >= TARGET)}` +
      `  (batch=${fmt(r.batchS)}s rate=${fmt(batchRate, 0)} calls/s; ratio rate/target=${fmt(rate / TARGET)}; server peak in flight=${st.peakInFlight})`,
    );
  }
} finally {
  await srv.close();
  if (tmpfs?.mounted) spawnSync('umount', [tmpfs.path]);
  cleanup(dir);
}
process.exitCode = 0;
