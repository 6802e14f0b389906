// node/commands/serve.js: `scenario-lab serve [--port N]`: the web page on 127.0.0.1 (the
// server itself is node/serve.js), until Ctrl+C. It needs no wasm of its own.

import { existsSync } from 'node:fs';
import { UsageError } from '../flags.js';
import { EXIT, err, out, usageError, warn } from '../output.js';

export async function serve(values, positionals) {
  if (positionals.length) {
    usageError(new UsageError(`serve takes no arguments, got '${positionals[0]}'`, 'serve'));
    return;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    usageError(new UsageError(`--port must be a port number (0-65535), not '${values.port}'`, 'serve'));
    return;
  }
  const { startStaticServer, PACKAGE_ROOT } = await import('../serve.js');
  if (!existsSync(new URL('../../pkg/scenario_lab_bg.wasm', import.meta.url))) {
    warn(`warning: the wasm core is not built (${PACKAGE_ROOT}/pkg/ is missing); run 'npm run build'`);
  }
  let server;
  try {
    server = await startStaticServer({ port });
  } catch (e) {
    err(`scenario-lab: error: cannot listen on 127.0.0.1:${port}: ${e.code ?? e.message}${e.code === 'EADDRINUSE' ? ' (choose another with --port)' : ''}`);
    process.exitCode = EXIT.usage;
    return;
  }
  out(`Scenario Lab web page: ${server.url}/www/`);
  err('scenario-lab: serving on 127.0.0.1 only; Ctrl+C stops');
  await new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.exitCode = EXIT.ok;
}
