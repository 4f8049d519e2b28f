// The example page: roster in a Web Worker on OPFS, driven through
// roster-client.js. Everything roster does (argon2 included) runs in the
// worker; this thread only renders.

import { RosterClient } from '../js/roster-client.js';

const TOKEN_KEY = 'roster-example-token';
const $ = (selector, root = document) => root.querySelector(selector);

/** @type {RosterClient} */
let roster;
/** The signed-in user's token and Admin API. */
let token = null;
let admin = null;

/** Shows one of the page's states: setup, signin, app (and records it for tests). */
function show(state) {
  for (const id of ['setup', 'signin', 'app']) $(`#${id}`).hidden = id !== state;
  document.body.dataset.state = state;
}

function fatal(e) {
  const box = $('#fatal');
  box.hidden = false;
  box.textContent = `${e.code ? `[${e.code}] ` : ''}${e.message ?? e}`;
  document.body.dataset.state = 'error';
}

function clearErrors(form) {
  for (const span of form.querySelectorAll('.error')) span.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** `{field: [messages]}` (custom fields nested) as `[field, message]` pairs. */
function flatten(fields, prefix = '') {
  return Object.entries(fields ?? {}).flatMap(([name, value]) =>
    Array.isArray(value) ? [[prefix + name, value.join(' ')]] : flatten(value, `${prefix}${name}.`));
}

/**
 * Shows an error next to each field it names (`error.fields`), or in the
 * form's general slot. `rename` maps roster's field names to the form's.
 */
function showErrors(form, e, general, rename = {}) {
  const pairs = e.code === 'validation_failed' ? flatten(e.fields) : [];
  let placed = false;
  for (const [field, message] of pairs) {
    const name = rename[field] ?? field;
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`)
      ?? (field in rename ? document.querySelector(`[data-error-for="${CSS.escape(name)}"]`) : null);
    if (!slot) continue;
    slot.textContent = message;
    const input = slot.closest('label')?.querySelector('input, select')
      ?? form.querySelector(`[name="${CSS.escape(field)}"]`);
    input?.setAttribute('aria-invalid', 'true');
    placed = true;
  }
  if (!placed) {
    $(`[data-error-for="${general}"]`).textContent = pairs.length
      ? pairs.map(([field, message]) => `${field}: ${message}`).join(' ')
      : e.message;
  }
}

async function signedIn(newToken) {
  token = newToken;
  admin = roster.session(token);
  const me = await admin.me();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('#whoami').textContent = me.username;
  show('app');
  await Promise.all([loadBatches(), loadUsers()]);
}

function signedOut() {
  token = null;
  admin = null;
  sessionStorage.removeItem(TOKEN_KEY);
  show('signin');
}

async function loadBatches() {
  const select = $('#user-form select[name="batch"]');
  const chosen = select.value;
  const page = await admin.listBatches(null, { perPage: 100 });
  select.replaceChildren(new Option('(no batch)', ''));
  for (const batch of page.results) select.add(new Option(batch.name, batch.name));
  select.value = page.results.some((b) => b.name === chosen) ? chosen : '';
}

async function loadUsers() {
  const page = await admin.listUsers({ perPage: 100, withBatches: true });
  const body = $('#users tbody');
  body.replaceChildren();
  for (const user of page.results) {
    const row = body.insertRow();
    row.dataset.username = user.username;
    const name = [user.first_name, user.last_name].filter(Boolean).join(' ');
    const batches = (user.batches ?? []).map((b) => b.name).join(', ');
    for (const text of [user.username, name, user.email, user.birth_date ?? '', batches]) {
      row.insertCell().textContent = text;
    }
  }
}

/** Runs `work`, sending the user back to sign-in when the session has ended. */
async function guarded(work) {
  try {
    await work();
  } catch (e) {
    if (e.code === 'unauthenticated') signedOut();
    else throw e;
  }
}

function wire() {
  $('#setup-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const { username, password } = Object.fromEntries(new FormData(form));
    try {
      // The host operation (see the note on the page), then an ordinary sign-in.
      await roster.createSuperuser(username, password);
      const login = await roster.login(username, password);
      await signedIn(login.token);
    } catch (e) {
      showErrors(form, e, 'setup');
    }
  });

  $('#signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const { username, password } = Object.fromEntries(new FormData(form));
    try {
      const login = await roster.login(username, password);
      form.reset();
      await signedIn(login.token);
    } catch (e) {
      $('[data-error-for="signin"]').textContent = e.message;
    }
  });

  $('#signout').addEventListener('click', async () => {
    await roster.logout(token).catch(() => {});
    signedOut();
  });

  $('#batch-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    $('[data-error-for="batch-name"]').textContent = '';
    const name = new FormData(form).get('name').trim();
    return guarded(async () => {
      try {
        const batch = await admin.createBatch({ name });
        form.reset();
        await loadBatches();
        $('#user-form select[name="batch"]').value = batch.name;
      } catch (e) {
        if (e.code === 'unauthenticated') throw e;
        showErrors(form, e, 'batch-name', { name: 'batch-name' });
      }
    });
  });

  $('#user-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    $('#user-added').textContent = '';
    const values = Object.fromEntries(new FormData(form));
    const input = { username: values.username.trim() };
    for (const key of ['password', 'first_name', 'last_name', 'email', 'birth_date']) {
      const value = key === 'password' ? values[key] : values[key].trim();
      if (value !== '') input[key] = value;
    }
    if (values.batch) input.batches = [values.batch];
    return guarded(async () => {
      try {
        const { user } = await admin.createUser(input);
        const batch = form.elements.batch.value;
        form.reset();
        form.elements.batch.value = batch;
        $('#user-added').textContent = `Added ${user.username}.`;
        await loadUsers();
      } catch (e) {
        if (e.code === 'unauthenticated') throw e;
        showErrors(form, e, 'user-form');
      }
    });
  });
}

async function main() {
  wire();
  roster = await RosterClient.start({
    name: 'school',
    persistent: true,
    workerUrl: new URL('../js/roster-worker.js', import.meta.url),
  });
  // Ask the browser not to evict the origin's storage under pressure.
  const persisted = await (navigator.storage?.persist?.() ?? Promise.resolve(false)).catch(() => false);
  const status = $('#storage-status');
  if (roster.persistent) {
    status.textContent = `Stored in this browser's Origin Private File System as "${roster.name}.redb" `
      + `(${persisted ? 'persistent: the browser will not evict it' : 'best effort: the browser may evict it under storage pressure'}).`;
    status.dataset.storage = 'opfs';
  } else {
    status.textContent = `The Origin Private File System is unavailable here (${roster.storageError?.message}); `
      + 'roster runs in memory and everything is lost when the page closes.';
    status.classList.add('warn');
    status.dataset.storage = 'memory';
  }

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    try {
      return await signedIn(saved);
    } catch (e) {
      if (e.code !== 'unauthenticated') throw e;
      sessionStorage.removeItem(TOKEN_KEY);
    }
  }
  // First run? Whether any user exists is a question for the host (the
  // operator), asked before anyone has signed in.
  const { count } = await roster.operator().listUsers({ perPage: 1 });
  show(count === 0 ? 'setup' : 'signin');
}

main().catch(fatal);
