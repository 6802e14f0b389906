// www/rpc.js owns the page's side of the conversation with the engine worker (www/worker.js):
// each call is a message with an id, answered by one message with the same id; batch events
// arrive in between and go to the `onEvent` listener, and questions for the person in a seat
// (`human: true`) to the `onAsk` listener, answered with `call('answer', [askId, text])`. Errors come back as Error objects with the
// core's `kind` (and `diagnostics` for an invalid config), as the package API throws them.

export class Engine {
  constructor(url = new URL('./worker.js', import.meta.url)) {
    this.worker = new Worker(url, { type: 'module' });
    this.pending = new Map();
    this.nextId = 1;
    this.onEvent = () => {};
    this.onAsk = () => {};
    this.loaded = new Promise((done, fail) => {
      this.worker.addEventListener('error', (e) => fail(new Error(`the engine worker failed to start: ${e.message ?? 'error'}`)), { once: true });
      this.worker.addEventListener('message', (m) => { if (m.data?.type === 'loaded') done(); }, { once: false });
    });
    this.worker.addEventListener('message', (m) => this.receive(m.data));
  }

  receive(msg) {
    if (msg?.type === 'event') {
      this.onEvent(msg.event);
      return;
    }
    if (msg?.type === 'ask') {
      this.onAsk(msg);
      return;
    }
    const call = this.pending.get(msg?.id);
    if (!call) return;
    this.pending.delete(msg.id);
    if (msg.error) {
      const e = new Error(msg.error.message);
      e.kind = msg.error.kind;
      if (msg.error.diagnostics) e.diagnostics = msg.error.diagnostics;
      if (msg.error.stack) e.workerStack = msg.error.stack;
      call.fail(e);
    } else {
      call.done(msg.result);
    }
  }

  /** Calls operation `op` of the worker; `transfer` lists ArrayBuffers to move rather than copy. */
  call(op, args = [], transfer = []) {
    const id = this.nextId++;
    return new Promise((done, fail) => {
      this.pending.set(id, { done, fail });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }
}
