// www/new-scenario.js owns the "New scenario" form, the page's `scenario-lab init`: it asks what
// the CLI's interview asks (a template to start from, or none; the title, what the scenario is
// about and where it starts; the actors with their roles, goals and models from the core's
// list with prices; turns; the metrics with their kind; runs and budget) and hands the answers
// to the worker, which makes the files with the core's `initProject` (the CLI's function) and
// writes them into a new project in the browser's storage. The project then opens like any
// other. The core checks the answers; this form only collects them.

import { $, fill, h } from './dom.js';

/** The form's state: the choices the core offers (templates, models with prices). */
let choices = null;

export function init(app) {
  $('#new-scenario').addEventListener('click', () => open(app));
}

async function open(app) {
  choices ??= await app.engine.call('initChoices');
  const dialog = $('#new-scenario-dialog');
  const { body, put } = form(app, dialog);
  fill(dialog, body);
  put(BLANK);
  dialog.showModal();
  $('#new-title').focus();
}

const BLANK = {
  title: '', description: '', situation: '', turns: 3, turn_duration: '1 week', communication: false, runs: 3,
  actors: [{ name: '', role: '', goals: [] }, { name: '', role: '', goals: [] }],
  metrics: [{ name: 'progress', question: 'How close is the situation to being resolved, from 0 to 10?', kind: 'continuous', range: [0, 10] }],
};

function form(app, dialog) {
  const actors = h('div', { id: 'new-actors', class: 'rows' });
  const metrics = h('div', { id: 'new-metrics', class: 'rows' });
  const errors = h('pre', { id: 'new-errors', class: 'new-errors', hidden: true });
  const put = (answers) => {
    $('#new-title', dialog).value = answers.title ?? '';
    $('#new-description', dialog).value = answers.description ?? '';
    $('#new-situation', dialog).value = answers.situation ?? '';
    $('#new-turns', dialog).value = answers.turns ?? 3;
    $('#new-turn-duration', dialog).value = answers.turn_duration ?? '';
    $('#new-communication', dialog).checked = Boolean(answers.communication);
    $('#new-runs', dialog).value = answers.runs ?? 3;
    $('#new-budget', dialog).value = answers.budget ?? '';
    fill(actors, ...answers.actors.map((a) => actorRow(a)));
    fill(metrics, ...answers.metrics.map((m) => metricRow(m)));
  };
  const template = h('select', {
    id: 'new-template',
    async onchange(e) {
      put(e.target.value ? await app.engine.call('initTemplate', [e.target.value]) : BLANK);
    },
  },
  h('option', { value: '' }, 'none: a blank scenario'),
  choices.templates.map((t) => h('option', { value: t.name }, `${t.name}: ${t.summary}`)));

  const body = h('div', { class: 'new-form' },
    h('h2', null, 'New scenario'),
    h('label', null, 'Start from a template ', template),
    h('label', null, 'Title ', h('input', { id: 'new-title', type: 'text', required: true })),
    h('label', null, 'What is it about (the question it explores)', h('textarea', { id: 'new-description', rows: 3 })),
    h('label', null, 'Where do things stand at the start', h('textarea', { id: 'new-situation', rows: 3 })),
    h('h3', null, 'Actors'),
    actors,
    h('button', { type: 'button', id: 'new-add-actor', onclick: () => actors.append(actorRow({ name: '', role: '', goals: [] })) }, 'Add an actor'),
    h('div', { class: 'bar' },
      h('label', null, 'Turns ', h('input', { id: 'new-turns', type: 'number', min: 1, step: 1 })),
      h('label', null, 'A turn is ', h('input', { id: 'new-turn-duration', type: 'text', placeholder: '1 week' })),
      h('label', { class: 'check' }, h('input', { id: 'new-communication', type: 'checkbox' }), ' actors may talk in private and form coalitions')),
    h('h3', null, 'Metrics'),
    metrics,
    h('button', { type: 'button', id: 'new-add-metric', onclick: () => metrics.append(metricRow({ name: '', question: '', kind: 'continuous', range: [0, 10] })) }, 'Add a metric'),
    h('div', { class: 'bar' },
      h('label', null, 'Runs ', h('input', { id: 'new-runs', type: 'number', min: 1, step: 1 })),
      h('label', null, 'Budget, USD ', h('input', { id: 'new-budget', type: 'number', min: 0, step: 'any', placeholder: 'no limit' }))),
    errors,
    h('div', { class: 'bar' },
      h('span', { class: 'grow' }),
      h('button', { type: 'button', id: 'new-cancel', onclick: () => dialog.close() }, 'Cancel'),
      h('button', { type: 'button', id: 'new-create', class: 'primary', onclick: () => create(app, dialog) }, 'Create')));
  return { body, put };
}

/** The model options: the core's short list with prices, plus `current` when it is another id. */
function modelSelect(current) {
  const ids = choices.models.map((m) => m.id);
  const options = choices.models.map((m) => h('option', { value: m.id, selected: m.id === current },
    m.prompt === 0 && m.completion === 0 ? `${m.id} (free, offline)` : `${m.id} ($${m.prompt} / $${m.completion} per M tokens)`));
  if (current && !ids.includes(current)) options.push(h('option', { value: current, selected: true }, current));
  return h('select', { class: 'model', 'aria-label': 'model' }, options);
}

function actorRow(a) {
  const row = h('div', { class: 'row actor' },
    h('input', { class: 'name', type: 'text', placeholder: 'name', 'aria-label': 'actor name', value: a.name ?? '' }),
    h('input', { class: 'role', type: 'text', placeholder: 'role', 'aria-label': 'role', value: a.role ?? '' }),
    h('input', { class: 'goals', type: 'text', placeholder: 'goals, separated by ;', 'aria-label': 'goals', value: (a.goals ?? []).join('; ') }),
    modelSelect(a.model),
    h('button', { type: 'button', class: 'remove', onclick: () => row.remove() }, 'Remove'));
  // A template's actor keeps its short id while it keeps its name (as in the CLI's interview).
  if (a.short_name) Object.assign(row.dataset, { shortName: a.short_name, named: a.name });
  return row;
}

function metricRow(m) {
  const detail = h('input', { class: 'detail', type: 'text', 'aria-label': 'range or categories' });
  const kind = h('select', { class: 'kind', 'aria-label': 'kind' },
    ['continuous', 'boolean', 'categorical'].map((k) => h('option', { value: k, selected: k === m.kind }, k)));
  const shape = () => {
    detail.hidden = kind.value === 'boolean';
    detail.placeholder = kind.value === 'categorical' ? 'categories, separated by ;' : 'range, min-max';
  };
  kind.addEventListener('change', () => {
    detail.value = kind.value === 'continuous' ? '0-10' : '';
    shape();
  });
  detail.value = m.kind === 'categorical' ? (m.categories ?? []).join('; ') : (m.range ?? [0, 10]).join('-');
  shape();
  const row = h('div', { class: 'row metric' },
    h('input', { class: 'name', type: 'text', placeholder: 'name', 'aria-label': 'metric name', value: m.name ?? '' }),
    h('input', { class: 'question', type: 'text', placeholder: 'question asked of each turn', 'aria-label': 'question', value: m.question ?? '' }),
    kind, detail,
    h('button', { type: 'button', class: 'remove', onclick: () => row.remove() }, 'Remove'));
  return row;
}

const list = (text) => text.split(';').map((s) => s.trim()).filter(Boolean);

/** The answers as typed (numbers as numbers; an unreadable one left for the core to refuse). */
function collect(dialog) {
  const number = (sel) => {
    const raw = $(sel, dialog).value.trim();
    return raw === '' ? undefined : Number(raw);
  };
  const answers = {
    title: $('#new-title', dialog).value,
    description: $('#new-description', dialog).value,
    situation: $('#new-situation', dialog).value,
    actors: [...dialog.querySelectorAll('.row.actor')].map((r) => ({
      name: $('.name', r).value,
      ...(r.dataset.shortName && r.dataset.named === $('.name', r).value ? { short_name: r.dataset.shortName } : {}),
      role: $('.role', r).value,
      goals: list($('.goals', r).value),
      model: $('.model', r).value,
    })),
    turns: number('#new-turns') ?? 0,
    turn_duration: $('#new-turn-duration', dialog).value || undefined,
    communication: $('#new-communication', dialog).checked,
    metrics: [...dialog.querySelectorAll('.row.metric')].map((r) => {
      const kind = $('.kind', r).value;
      const detail = $('.detail', r).value;
      const m = { name: $('.name', r).value, question: $('.question', r).value, kind };
      if (kind === 'categorical') m.categories = list(detail);
      if (kind === 'continuous') {
        const range = /^\s*(-?[\d.]+)\s*(?:-|to|,)\s*(-?[\d.]+)\s*$/.exec(detail);
        m.range = range ? [Number(range[1]), Number(range[2])] : [Number.NaN, Number.NaN];
      }
      return m;
    }),
    runs: number('#new-runs') ?? 0,
    budget: number('#new-budget'),
  };
  // Whole counts only: the core's answers are whole numbers, and JSON has no NaN.
  for (const k of ['turns', 'runs']) if (!Number.isSafeInteger(answers[k]) || answers[k] < 0) answers[k] = 0;
  if (answers.budget !== undefined && !Number.isFinite(answers.budget)) answers.budget = 0;
  for (const m of answers.metrics) if (m.range && !m.range.every(Number.isFinite)) m.range = [0, 0];
  return answers;
}

async function create(app, dialog) {
  const errors = $('#new-errors', dialog);
  errors.hidden = true;
  let made;
  try {
    made = await app.engine.call('createProject', [collect(dialog)]);
  } catch (e) {
    errors.textContent = e.message;
    errors.hidden = false;
    return;
  }
  dialog.close();
  await app.refreshChooser();
  await app.openConfig(made.project, made.config);
  await app.refreshChooser();
  app.info(`Created the project "${made.project}": ${made.files.join(', ')}. Plan it, then run it.`);
}
