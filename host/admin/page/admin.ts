// The host's local admin page, bundled for the browser into build/admin.js by
// scripts/build-host.mjs (host/admin/routes.ts serves it from there).
// Every name shown comes from a device, so text goes in with textContent, never as HTML.
//
// Signing in (see host/admin/session.ts): a link from the host carries a one-time secret in its
// fragment (#login=…); the page trades it for a session cookie (which it never sees) and a key it
// keeps in this origin's localStorage and sends with every call.
import type { CounterName, DailyName } from '../../../shared/protocol/metrics.ts';
import type { AdminComputer, AdminOffer, AdminView, DeviceView, PendingView, RecentSession } from './wire.ts';

const API = '/admin/api/';
const HEADERS = { 'X-OpenWork-Admin': '1' };
const KEY_STORE = 'openwork-admin-key';
const POLL_MS = 2000;
const SCOPES: ReadonlyArray<[scope: string, label: string]> = [
  ['read', 'see sessions (read)'],
  ['run', 'run and stop tasks (run)'],
  ['approve', 'answer permission questions (approve)'],
];
const COUNTERS: ReadonlyArray<[CounterName, string]> = [
  ['tasks_started_total', 'Tasks started'],
  ['tasks_succeeded_total', 'Tasks succeeded'],
  ['tasks_failed_total', 'Tasks failed'],
  ['tasks_aborted_total', 'Tasks aborted'],
  ['permission_prompts_total', 'Permission questions'],
  ['permission_answers_total', 'Permission answers'],
  ['pairing_attempts_total', 'Pairing attempts'],
  ['connections_opened_total', 'Connections opened'],
  ['connection_failures_total', 'Connection failures'],
  ['reconnects_total', 'Reconnects'],
  ['resume_gaps_total', 'Resume gaps'],
];
const DAILY: ReadonlyArray<[DailyName, string]> = [
  ['tasks_started_total', 'Started'],
  ['tasks_succeeded_total', 'Succeeded'],
  ['tasks_failed_total', 'Failed'],
  ['tasks_aborted_total', 'Aborted'],
  ['connection_failures_total', 'Connection failures'],
];

/** An element of admin.html: a missing one is a mismatch between the page and this script. */
function $(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`admin.html has no #${id}`);
  return node;
}

/** What `el` puts in: `text` (textContent), `on` (listeners), properties (non-strings) and attributes. */
type Props = { text?: string; on?: Record<string, EventListener> } & Record<string, unknown>;
type Child = Node | string | null | undefined | readonly Child[];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = String(value);
    else if (key === 'on') for (const [event, fn] of Object.entries(value as Record<string, EventListener>)) node.addEventListener(event, fn);
    else if (key in node && typeof value !== 'string') Reflect.set(node, key, value);
    else node.setAttribute(key, String(value));
  }
  const append = (child: Child): void => {
    if (Array.isArray(child)) child.forEach(append);
    else if (child !== null && child !== undefined) node.append(child as Node | string);
  };
  children.forEach(append);
  return node;
}

/** The host wants a sign-in (401): show how, not an error. */
class SignInNeeded extends Error {}

/** `T`: what the host's API answers there (host/admin/api.ts). */
async function call<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { ...HEADERS, 'X-OpenWork-Admin-Key': localStorage.getItem(KEY_STORE) ?? '' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const data: unknown = await response.json().catch(() => ({}));
  const error = (data as { error?: unknown } | null)?.error;
  const message = (typeof error === 'string' && error) || `the host answered ${response.status}`;
  if (response.status === 401) throw new SignInNeeded(message);
  if (!response.ok) throw new Error(message);
  return data as T;
}

// Why the last sign-in failed; it stays on screen (rather than a poll's "not signed in") until one works.
let signInReason = '';

function showSignedIn(signedIn: boolean, reason = ''): void {
  if (signedIn) signInReason = '';
  else signInReason ||= reason;
  $('signin').hidden = signedIn;
  $('dashboard').hidden = !signedIn;
  $('signin-reason').textContent = signedIn ? '' : `Why: ${signInReason}`;
  if (!signedIn) $('host-line').textContent = 'Not signed in';
}

/** Trades the link's one-time secret, if there is one, for a session. */
async function signInFromLink(): Promise<void> {
  const secret = new URLSearchParams(location.hash.slice(1)).get('login');
  if (secret === null) return;
  // The secret works once: keep it out of the address bar, the history and bookmarks.
  history.replaceState(null, '', location.pathname + location.search);
  try {
    const { key } = await call<{ key: string }>('POST', 'login', { secret });
    localStorage.setItem(KEY_STORE, key);
  } catch (err) {
    // Shown only if no earlier session of this browser still works (refresh decides).
    signInReason = messageOf(err);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function showError(message: string): void {
  const box = $('error');
  box.hidden = !message;
  box.textContent = message;
}

async function act(method: 'POST', path: string, body?: unknown): Promise<void> {
  try {
    await call(method, path, body);
    showError('');
  } catch (err) {
    if (!(err instanceof SignInNeeded)) showError(messageOf(err));
  }
  await refresh();
}

const when = (ms: number | undefined) => (ms ? new Date(ms).toLocaleString() : 'never');

function ago(iso: string | undefined): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

function scopeBoxes(legend: string, checked: readonly string[], name: string): HTMLFieldSetElement {
  return el(
    'fieldset',
    {},
    el('legend', { text: legend }),
    SCOPES.map(([scope, label]) => el('label', {}, el('input', { type: 'checkbox', name, value: scope, checked: checked.includes(scope) }), ` ${label}`)),
  );
}

const checkedValues = (root: ParentNode, name: string) => [...root.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((i) => i.value);

// ---- sections ---------------------------------------------------------------------------

function renderOffer(offer: AdminOffer | null): void {
  const box = $('offer');
  if (!offer) {
    box.replaceChildren(el('p', { class: 'muted', text: 'No pairing code is open. Make one to pair a phone; it works once, for 5 minutes.' }));
    return;
  }
  const img = el('img', { alt: "Pairing QR code: scan it with the phone's camera", src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(offer.svg)}` });
  box.replaceChildren(
    el(
      'div',
      { class: 'qr' },
      img,
      el(
        'div',
        {},
        el('p', { text: "Scan the code with the phone's camera, or open this link on it:" }),
        el('p', { class: 'link' }, el('code', { text: offer.link })),
        el('p', { text: `No camera? Open ${offer.origin} on the phone and type:` }),
        el('p', { class: 'code', text: offer.code }),
        el('p', { class: 'muted', text: `Works once, until ${new Date(offer.expiresAt).toLocaleTimeString()}.` }),
      ),
    ),
  );
}

/** The credential, this once: the host keeps only a hash of the secret. */
function renderComputer(c: AdminComputer): void {
  const url = c.urls[0] ?? '';
  const auth = `-u ${c.deviceId} -p ${c.secret}`;
  $('computer').replaceChildren(
    el('p', { text: `Credential for ${c.name} (device ${c.deviceId}). Copy it now: the secret is shown only this once. On that computer run:` }),
    el('p', { class: 'link' }, el('code', { text: `opencode attach ${url} ${auth}` })),
    el('p', { class: 'link' }, el('code', { text: `opencode run --attach ${url} ${auth} "your task"` })),
    el('p', { class: 'muted', text: 'It is listed below with the phones: limit its scopes and workspaces, or remove it, there.' }),
  );
}

function renderPending(pending: PendingView[]): void {
  const box = $('pending');
  if (!pending.length) {
    box.replaceChildren(el('p', { class: 'muted', text: 'No device is waiting.' }));
    return;
  }
  // Keep a request's form while it waits, so a poll does not reset the boxes someone is ticking.
  const kept = new Map([...box.querySelectorAll<HTMLElement>('[data-request]')].map((n) => [n.dataset.request, n]));
  box.replaceChildren(...pending.map((p) => kept.get(p.id) ?? pendingItem(p)));
}

function pendingItem(p: PendingView): HTMLElement {
  const item = el('article', { class: 'item', 'data-request': p.id });
  const scopes = scopeBoxes(
    'Allow it to',
    SCOPES.map(([s]) => s),
    `scopes-${p.id}`,
  );
  item.append(
    el('h3', { text: p.name }),
    el('p', { class: 'muted', text: `${p.platform || 'unknown platform'} at ${p.remoteAddress}, asked ${new Date(p.requestedAt).toLocaleTimeString()}` }),
    el(
      'p',
      {},
      'Verification code ',
      el('strong', { class: 'code', text: `${p.code.slice(0, 3)} ${p.code.slice(3)}` }),
      ': the phone must show the same code. If it does not, decline.',
    ),
    scopes,
    el(
      'div',
      { class: 'actions' },
      el('button', {
        type: 'button',
        class: 'primary',
        text: 'Approve',
        'aria-label': `Approve ${p.name}`,
        on: { click: () => act('POST', `approvals/${encodeURIComponent(p.id)}`, { decision: 'approve', scopes: checkedValues(item, `scopes-${p.id}`) }) },
      }),
      el('button', {
        type: 'button',
        text: 'Decline',
        'aria-label': `Decline ${p.name}`,
        on: { click: () => act('POST', `approvals/${encodeURIComponent(p.id)}`, { decision: 'decline' }) },
      }),
    ),
  );
  return item;
}

function renderDevices(devices: DeviceView[], workspaces: string[]): void {
  const box = $('devices');
  // A row someone is editing stays as it is until saved.
  const editing = new Map([...box.querySelectorAll<HTMLElement>('[data-device].dirty')].map((n) => [n.dataset.device, n]));
  if (!devices.length) {
    box.replaceChildren(el('p', { class: 'muted', text: 'No paired devices yet.' }));
    return;
  }
  box.replaceChildren(...devices.map((d) => editing.get(d.id) ?? deviceItem(d, workspaces)));
}

function deviceItem(d: DeviceView, workspaces: string[]): HTMLElement {
  const item = el('article', { class: 'item', 'data-device': d.id });
  const all = !d.workspaces;
  const save = el('button', { type: 'button', class: 'primary', text: 'Save changes', disabled: true, 'aria-label': `Save changes to ${d.name}` });
  const markDirty = () => {
    item.classList.add('dirty');
    save.disabled = false;
  };
  const allBox = el('input', { type: 'checkbox', name: `all-${d.id}`, checked: all });
  const wsBoxes = workspaces.map((w) => el('input', { type: 'checkbox', name: `ws-${d.id}`, value: w, checked: all || d.workspaces!.includes(w), disabled: all }));
  allBox.addEventListener('change', () =>
    wsBoxes.forEach((b) => {
      b.disabled = allBox.checked;
      if (allBox.checked) b.checked = true;
    }),
  );
  save.addEventListener('click', () => {
    item.classList.remove('dirty');
    act('POST', `devices/${encodeURIComponent(d.id)}`, {
      scopes: checkedValues(item, `scopes-${d.id}`),
      workspaces: allBox.checked ? null : checkedValues(item, `ws-${d.id}`),
    });
  });
  item.append(
    el('h3', { text: d.name }),
    el('p', { class: 'muted', text: `${d.platform || 'unknown platform'} · id ${d.id} · paired ${new Date(d.pairedAt).toLocaleDateString()} · last seen ${ago(d.lastSeen)}` }),
    scopeBoxes('May', d.scopes, `scopes-${d.id}`),
    el(
      'fieldset',
      {},
      el('legend', { text: 'Workspaces' }),
      el('label', {}, allBox, ' all'),
      workspaces.map((w, i) => el('label', {}, wsBoxes[i], ' ', el('code', { text: w }))),
    ),
    el(
      'div',
      { class: 'actions' },
      save,
      el('button', {
        type: 'button',
        class: 'danger',
        text: 'Remove',
        'aria-label': `Remove ${d.name}`,
        on: {
          click: () => {
            if (confirm(`Remove ${d.name}? Its connections close now and it must pair again to come back.`)) act('POST', `devices/${encodeURIComponent(d.id)}/revoke`);
          },
        },
      }),
    ),
  );
  item.addEventListener('change', markDirty);
  return item;
}

function renderRuntime(runtime: AdminView['runtime'], host: AdminView['host']): void {
  $('runtime').replaceChildren(
    el(
      'dl',
      {},
      el('dt', { text: 'State' }),
      el('dd', { text: runtime.state }),
      runtime.version ? [el('dt', { text: 'OpenCode' }), el('dd', { text: runtime.version })] : null,
      runtime.error ? [el('dt', { text: 'Last error' }), el('dd', {}, el('code', { text: runtime.error }))] : null,
      el('dt', { text: 'Workspaces' }),
      el('dd', { text: host.workspaces.join(', ') }),
      el('dt', { text: 'Unanswered questions' }),
      el('dd', { text: `denied after ${host.permissionTimeoutSeconds} s` }),
    ),
  );
}

function renderSessions(sessions: RecentSession[], error: string | undefined, unavailable: NonNullable<AdminView['sessionsUnavailable']>): void {
  const box = $('sessions');
  if (error) return box.replaceChildren(el('p', { class: 'muted', text: `Not available: ${error}` }));
  const missing = unavailable.map((u) => el('p', { class: 'muted', text: `Sessions in ${u.workspace} could not be listed: ${u.reason}` }));
  if (!sessions.length) return box.replaceChildren(...missing, el('p', { class: 'muted', text: 'No sessions yet.' }));
  box.replaceChildren(
    ...missing,
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, el('th', { text: 'Title' }), el('th', { text: 'Workspace' }), el('th', { text: 'Updated' }))),
      el(
        'tbody',
        {},
        sessions.map((s) => el('tr', {}, el('td', { text: s.title }), el('td', {}, el('code', { text: s.directory ?? '' })), el('td', { text: when(s.updated) }))),
      ),
    ),
  );
}

function renderMetrics(m: AdminView['metrics']): void {
  const box = $('metrics');
  if (!m.enabled) return box.replaceChildren(el('p', { class: 'muted', text: 'Metrics are turned off (--no-metrics).' }));
  const series = (name: CounterName) =>
    (m.counters[name]?.series ?? [])
      .filter((s) => Object.keys(s.labels).length)
      .map((s) => `${Object.values(s.labels).join(' ')}: ${s.value}`)
      .join(', ');
  const days = m.daily.slice(-7);
  box.replaceChildren(
    el(
      'dl',
      {},
      el('dt', { text: 'Up for' }),
      el('dd', { text: `${Math.round((m.gauges.uptime_seconds ?? 0) / 60)} min` }),
      el('dt', { text: 'Open connections' }),
      el('dd', { text: String(m.gauges.open_connections ?? 0) }),
      COUNTERS.map(([name, label]) => {
        const detail = series(name);
        return [el('dt', { text: label }), el('dd', { text: `${m.counters[name]?.total ?? 0}${detail ? ` (${detail})` : ''}` })];
      }),
      el('dt', { text: 'Counting since' }),
      el('dd', { text: new Date(m.since).toLocaleString() }),
    ),
    el('h3', { text: 'Last 7 days' }),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { text: 'Day' }),
          DAILY.map(([, label]) => el('th', { class: 'num', text: label })),
        ),
      ),
      el(
        'tbody',
        {},
        days.map((d) =>
          el(
            'tr',
            {},
            el('td', { text: d.date }),
            DAILY.map(([name]) => el('td', { class: 'num', text: String(d.counts[name] ?? 0) })),
          ),
        ),
      ),
    ),
  );
}

// ---- polling ----------------------------------------------------------------------------

const last: Record<string, string> = {};
let askedForOffer = false;

function changed(key: string, value: unknown): boolean {
  const json = JSON.stringify(value);
  if (last[key] === json) return false;
  last[key] = json;
  return true;
}

async function refresh(): Promise<void> {
  let state: AdminView;
  try {
    state = await call<AdminView>('GET', 'state');
  } catch (err) {
    if (err instanceof SignInNeeded) {
      showError('');
      return showSignedIn(false, err.message);
    }
    showError(`The host does not answer (${messageOf(err)}). Is it still running?`);
    return;
  }
  showSignedIn(true);
  $('host-line').textContent = `${state.host.name} · version ${state.host.version} · phones open ${state.host.urls[0] ?? 'this host'}`;
  if (!state.offer && !askedForOffer) {
    askedForOffer = true;
    return act('POST', 'offer');
  }
  if (changed('offer', state.offer)) renderOffer(state.offer);
  if (changed('pending', state.pending)) renderPending(state.pending);
  if (changed('devices', [state.devices, state.host.workspaces])) renderDevices(state.devices, state.host.workspaces);
  if (changed('runtime', [state.runtime, state.host])) renderRuntime(state.runtime, state.host);
  if (changed('sessions', [state.sessions, state.sessionsError, state.sessionsUnavailable])) renderSessions(state.sessions, state.sessionsError, state.sessionsUnavailable ?? []);
  renderMetrics(state.metrics);
}

$('new-offer').addEventListener('click', () => act('POST', 'offer'));
$('computer-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('computer-name') as HTMLInputElement;
  call<AdminComputer>('POST', 'computers', { name: input.value }).then(
    (made) => {
      input.value = '';
      showError('');
      renderComputer(made);
      return refresh();
    },
    (err: unknown) => showError(messageOf(err)),
  );
});
// A link pasted into this tab only changes the fragment: no new page load.
window.addEventListener('hashchange', () => signInFromLink().then(refresh));
await signInFromLink();
// Polling goes on while signed out, so signing in from another tab shows here too.
refresh();
setInterval(refresh, POLL_MS);
