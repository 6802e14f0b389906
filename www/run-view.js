// www/run-view.js owns running a batch from the page: the connection (the built-in simulator,
// an OpenRouter key, or a local OpenAI-compatible server), Start, Pause (the core's graceful
// stop: no new run starts, runs in flight halt at their next call, everything is saved), Resume
// (`runBatch` with `resume: true`, also after a reload: the batch's files are in the browser's
// storage), and Start over. The live dashboard is www/dashboard.js over the package's
// BatchProgress. A seat a person plays (`human: true`) is asked here: the form shows the prompt
// its model would get (as text, never HTML) and sends the reply back to the worker.
//
// The API key lives in this module's memory. It is written to localStorage only while "remember
// on this device" is ticked (and removed the moment it is unticked); it goes to the worker with
// each run and is never part of a batch's files.

import { BatchProgress } from '../lib/batch-progress.js';
import { $, usd } from './dom.js';
import { Dashboard, savingsText } from './dashboard.js';

const PREFS = 'scenario-lab:connection';
const KEY = 'scenario-lab:openrouter-key';

export function init(app) {
  const dashboard = new Dashboard($('#dashboard'));
  const state = { running: false, progress: null, ticker: 0, status: null };
  app.run = state;

  // Connection preferences (never the key) and, when remembered, the key.
  const prefs = JSON.parse(localStorage.getItem(PREFS) ?? '{}');
  if (prefs.mode) $(`#connection input[value="${CSS.escape(prefs.mode)}"]`).checked = true;
  if (prefs.baseUrl) $('#base-url').value = prefs.baseUrl;
  const remembered = localStorage.getItem(KEY);
  if (remembered) {
    $('#api-key').value = remembered;
    $('#remember-key').checked = true;
  }
  const mode = () => $('#connection input[name=conn]:checked').value;
  const showSubs = () => {
    for (const sub of document.querySelectorAll('#connection .sub')) sub.hidden = sub.dataset.for !== mode();
  };
  const savePrefs = () => {
    localStorage.setItem(PREFS, JSON.stringify({ mode: mode(), baseUrl: $('#base-url').value.trim() }));
    if ($('#remember-key').checked && $('#api-key').value) localStorage.setItem(KEY, $('#api-key').value);
    else localStorage.removeItem(KEY);
  };
  showSubs();
  $('#connection').addEventListener('change', () => { showSubs(); savePrefs(); });
  $('#connection').addEventListener('input', savePrefs);
  $('#connection').addEventListener('submit', (e) => e.preventDefault());

  /** The connection for the core, or an error message. */
  const connection = () => {
    switch (mode()) {
      case 'openrouter': {
        const apiKey = $('#api-key').value.trim();
        return apiKey ? { apiKey } : { error: 'Enter an OpenRouter API key, or choose another connection.' };
      }
      case 'local': {
        const baseUrl = $('#base-url').value.trim().replace(/\/+$/, '');
        if (!/^https?:\/\//i.test(baseUrl)) return { error: 'Enter the base URL of the server, for example http://localhost:8080/v1.' };
        const apiKey = $('#local-key').value.trim();
        return apiKey ? { baseUrl, apiKey } : { baseUrl };
      }
      default:
        return {};
    }
  };

  const setButtons = () => {
    const st = state.status;
    const complete = st?.started && st.runs.filter((r) => r.status === 'completed').length >= (app.plan?.total_runs ?? Infinity);
    $('#start').hidden = Boolean(st?.started);
    $('#start').disabled = state.running;
    $('#resume').hidden = !st?.started || complete;
    $('#resume').disabled = state.running;
    $('#pause').disabled = !state.running;
    $('#start-over').hidden = !st?.started && !(st?.runs.length);
    $('#start-over').disabled = state.running;
  };

  const progressFor = (plan, runs) => {
    const p = new BatchProgress({ totalRuns: plan?.total_runs, runsPerVariation: plan?.runs_per_variation });
    p.seed(runs.filter((r) => r.status !== 'running').map((r) => ({ run_id: r.run_id, status: r.status === 'unknown' ? 'pending' : r.status, cost: r.cost })));
    return p;
  };

  /** Reads what is on disk of the current batch and shows it (and says so, unless `quiet`). */
  app.refreshRun = async ({ quiet = false } = {}) => {
    if (state.running) return;
    const config = (app.check ?? (await app.validateNow()))?.config;
    if (!config) {
      state.status = null;
      $('#run-status').textContent = 'The config has errors: fix them in the Experiment view first.';
      setButtons();
      return;
    }
    if (!app.plan || app.plan.config_path !== app.path) await app.planQuietly();
    state.status = await app.engine.call('batchStatus', [app.project, config.output_dir]);
    const runs = state.status.runs;
    const done = runs.filter((r) => r.status === 'completed').length;
    const total = app.plan?.total_runs ?? '?';
    if (!quiet) $('#run-status').textContent = state.status.started
      ? done >= total
        ? `This batch is complete: ${done} of ${total} runs, in ${config.output_dir}.`
        : `This batch started before: ${done} of ${total} runs completed. Resume continues it, keeping every run and cost.`
      : `Ready: ${total} run(s) into ${config.output_dir}.`;
    state.progress = progressFor(app.plan, runs);
    dashboard.clearLog();
    dashboard.update(state.progress.snapshot());
    setButtons();
  };

  const go = async (resume) => {
    app.clearAlert();
    const check = await app.validateNow();
    if (!check?.report.ok) {
      app.alert('The batch config has errors; nothing was run. Fix them in the Experiment view.');
      return;
    }
    const conn = connection();
    if (conn.error) {
      app.alert(conn.error);
      return;
    }
    const plan = await app.planQuietly();
    const needsNetwork = await app.engine.call('hostedModels', [(plan?.models ?? []).map((m) => m.model)]);
    if (mode() === 'builtin' && needsNetwork.length) {
      app.alert(`This experiment calls ${needsNetwork.join(', ')}: choose OpenRouter (with a key) or a local server.`);
      return;
    }
    const budgetText = $('#budget-override').value.trim();
    const budgetLimit = budgetText ? Number(budgetText) : undefined;
    if (budgetText && !(budgetLimit > 0)) {
      app.alert('The session budget must be a number of USD above 0.');
      return;
    }
    // Sizes the core says need confirming (src/plan/confirm.rs: runs, turns, cost beyond the
    // budget, time beyond a limit), asked here as the CLI asks on a terminal.
    const sizes = plan?.confirm ?? [];
    if (sizes.length && !window.confirm(`${sizes.map((c) => `• ${c.message}`).join('\n')}\n\nThis is larger than Scenario Lab runs without asking. Continue?`)) {
      app.alert('The batch was not started: nothing was written.');
      return;
    }
    savePrefs();
    state.running = true;
    state.progress = progressFor(plan, resume ? state.status?.runs ?? [] : []);
    dashboard.clearLog();
    dashboard.update(state.progress.snapshot());
    $('#run-status').textContent = resume ? 'Resuming…' : 'Starting…';
    setButtons();
    app.rememberSession();
    state.ticker = setInterval(() => dashboard.update(state.progress.snapshot()), 1000);
    app.engine.onEvent = (e) => {
      state.progress.event(e);
      if (e.type === 'batch_started') {
        $('#run-status').textContent = `Running ${e.data.experiment_name}: ${e.data.to_run} of ${e.data.total_runs} runs to do${e.data.already_completed ? ` (${e.data.already_completed} already completed)` : ''}.`;
      }
      if (e.type === 'run_finished' && e.data.status !== 'completed') {
        dashboard.note(`${e.data.run_id} ${e.data.status}${e.data.halt_reason ? ` (${e.data.halt_reason})` : ''}${e.data.error ? `: ${e.data.error}` : ''}`, true);
      }
      dashboard.update(state.progress.snapshot());
    };
    try {
      const outcome = await app.engine.call('run', [app.project, app.path, app.text, conn, { resume, budgetLimit }]);
      app.savedText = app.text;
      $('#run-status').textContent = describeOutcome(outcome);
      app.onBatchFinished?.(outcome);
    } catch (e) {
      $('#run-status').textContent = '';
      app.alert(e.kind === 'config_invalid'
        ? `The batch config has errors: ${(e.diagnostics ?? []).map((d) => d.message).join('; ')}`
        : `The batch did not run: ${e.message}`);
    } finally {
      clearInterval(state.ticker);
      dropQuestions();
      state.running = false;
      app.engine.onEvent = () => {};
      dashboard.update(state.progress.snapshot());
      const last = state.progress;
      await app.refreshRun({ quiet: true });
      // Keep this session's live figures (projection, elapsed) rather than the ones from disk.
      state.progress = last;
      dashboard.update(last.snapshot());
      setButtons();
    }
  };

  // Questions for the person in a seat, one form at a time, in the order asked.
  const questions = [];
  const showQuestion = () => {
    const q = questions[0];
    $('#person').hidden = !q;
    if (!q) return;
    const { prompt } = q;
    $('#person-title').textContent = `${prompt.actor ?? 'Your seat'}, turn ${prompt.turn}: ${prompt.role === 'actor' ? 'decision' : prompt.role}`;
    $('#person-prompt').textContent = prompt.messages.map((m) => `--- ${m.role} ---\n${m.content.trimEnd()}`).join('\n\n');
    // The turn's own part (the world state, the question) ends the prompt: start there.
    $('#person-prompt').scrollTop = $('#person-prompt').scrollHeight;
    $('#person-reply').value = '';
    $('#person-note').textContent = questions.length > 1 ? `${questions.length - 1} more waiting` : '';
    $('#person-reply').focus();
  };
  app.engine.onAsk = (q) => {
    questions.push(q);
    if (questions.length === 1) showQuestion();
    // The batch waits for the answer: bring the person to the form.
    if (app.tab !== 'run') app.show('run');
  };
  $('#person').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('#person-reply').value;
    if (!text.trim()) {
      $('#person-note').textContent = 'Write a reply first.';
      return;
    }
    const q = questions.shift();
    await app.engine.call('answer', [q.askId, text]);
    showQuestion();
  });
  const dropQuestions = () => {
    questions.length = 0;
    showQuestion();
  };

  $('#to-results').addEventListener('click', () => app.show('results'));
  $('#start').addEventListener('click', () => go(false));
  $('#resume').addEventListener('click', () => go(true));
  $('#pause').addEventListener('click', async () => {
    $('#pause').disabled = true;
    $('#run-status').textContent = 'Pausing: no new run starts, calls in flight finish, then everything is saved…';
    dropQuestions();
    await app.engine.call('stop');
  });
  $('#start-over').addEventListener('click', async () => {
    const dir = app.check?.config?.output_dir;
    if (!dir || !window.confirm(`Delete every run and batch file in ${dir} and start the batch over? What it spent is lost from its records.`)) return;
    await app.engine.call('deleteOutputs', [app.project, dir]);
    await app.refreshRun();
  });

  // A batch in flight dies with the tab; say so before a reload or close (its files stay, and
  // Resume continues it).
  window.addEventListener('beforeunload', (e) => {
    if (state.running) e.preventDefault();
  });
}

function describeOutcome(o) {
  const saved = savingsText(o.savings);
  const head = `Completed ${o.runs_completed} of ${o.total_runs} runs · ${o.runs_failed} failed · ${o.runs_halted} halted · ${o.runs_pending} not run` +
    `${o.runs_not_needed ? ` · ${o.runs_not_needed} not needed (stopping rule)` : ''} · spent ${usd(o.total_spent)}.` +
    `${saved ? ` ${saved}.` : ''}${(o.stopped ?? []).map((s) => ` ${s.message}.`).join('')}`;
  if (o.stop_reason === 'interrupted') return `${head} Paused: Resume continues it.`;
  if (o.stop_reason === 'budget') return `${head} Stopped at the budget: ${o.stop_message}. Raise the budget (this session's field, or budget_limit) and Resume.`;
  if (o.runs_completed + (o.runs_not_needed ?? 0) < o.total_runs) return `${head} Resume continues halted runs and retries failed ones once.`;
  return head;
}

