/**
 * What the admin page shows and does, apart from HTTP: one `state` read and a few actions, each
 * on the same objects the terminal uses (approving here is `approvals.approve`, exactly as the
 * y key is; changing access is the registry, exactly as `npm start -- devices scopes` is).
 *
 *   GET  state                      → everything the page shows
 *   POST offer                      → a new pairing offer (QR as SVG)
 *   POST approvals/{id}             { decision: "approve", scopes? } | { decision: "decline" }
 *   POST devices/{id}               { scopes?, workspaces?: [...] | null }   (null: all workspaces)
 *   POST devices/{id}/revoke
 *   POST computers                  { name }   → a credential for OpenCode's own clients, shown once
 *
 * Names, platforms, session titles and runtime errors come from devices and the runtime: the state
 * carries them through safeText, so the page (which sets them as textContent) shows no bidi
 * override or invisible character either.
 * @module
 */
import { safeText } from '../../shared/text/safe-text.ts';
import type { Logger } from '../log.ts';
import type { OfferView } from '../pairing/offers.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Device } from '../devices/store.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Approvals, PendingApproval } from '../pairing/approvals.ts';
import type { OfferStore } from '../pairing/offers.ts';
import { SCOPES, type RuntimeStatus, type Scope } from '../../shared/protocol/messages.ts';
import type { SessionsList, UnavailableWorkspace } from '../../shared/protocol/sessions-list.ts';
import type { AdminComputer, AdminOffer, AdminView, RecentSession } from './page/wire.ts';

export interface AdminDeps {
  hostName: string;
  version: string;
  urls(): string[];
  workspaces: readonly string[];
  approvals: Approvals;
  devices: DeviceRegistry;
  offers: Pick<OfferStore, 'active'>;
  newOffer(): OfferView;
  runtimeStatus(): RuntimeStatus;
  /** The runtime's sessions (any shape; those with an id, title and times are shown). */
  listSessions(): Promise<SessionsList>;
  metrics: Pick<Metrics, 'snapshot'>;
  /** How long permission questions wait before the host denies them. */
  permissionTimeoutSeconds: number;
  /** A computer's credential (host/compat/), or why the host cannot make one. */
  newComputer(name: string): { value: AdminComputer } | { status: number; error: string };
  log: Logger;
}

/** Everything the page shows: what it reads (AdminView), with the host's own types. */
export interface AdminState extends AdminView {
  pending: PendingApproval[];
  devices: Device[];
}

export interface AdminReply {
  status: number;
  body: unknown;
}

export interface AdminApi {
  /** `path` is below /admin/api/, e.g. `approvals/ab12`; `body` is the parsed JSON (POST). */
  handle(method: 'get' | 'post', path: string, body: unknown): Promise<AdminReply>;
}

const RECENT_SESSIONS = 10;

export function createAdminApi(deps: AdminDeps): AdminApi {
  let current: { view: OfferView; svg: string } | undefined;

  const offer = (): AdminOffer | null => {
    if (!current || !deps.offers.active().some((o) => o.id === current!.view.id)) return null;
    const { view, svg } = current;
    return { ...view, svg };
  };

  const state = async (): Promise<AdminState> => {
    let sessions: RecentSession[] = [];
    let sessionsError: string | undefined;
    let unavailable: UnavailableWorkspace[] = [];
    try {
      const listed = await deps.listSessions();
      sessions = recent(listed.sessions);
      unavailable = listed.unavailable.map((u) => ({ ...u, reason: safeText(u.reason, 1000) }));
    } catch (err) {
      sessionsError = safeText(err instanceof Error ? err.message : err, 1000);
    }
    return {
      host: { name: deps.hostName, version: deps.version, urls: deps.urls(), workspaces: [...deps.workspaces], permissionTimeoutSeconds: deps.permissionTimeoutSeconds },
      runtime: deps.runtimeStatus(),
      offer: offer(),
      pending: deps.approvals.list().map((p) => ({ ...p, name: safeText(p.name), platform: safeText(p.platform) })),
      // A computer's secret hash stays in devices.json.
      devices: deps.devices.list().map(({ secretHash: _hash, ...d }) => ({ ...d, name: safeText(d.name), platform: safeText(d.platform) })),
      sessions,
      ...(sessionsError ? { sessionsError } : {}),
      ...(unavailable.length ? { sessionsUnavailable: unavailable } : {}),
      metrics: deps.metrics.snapshot(),
    };
  };

  const ok = (body: unknown = { ok: true }): AdminReply => ({ status: 200, body });
  const bad = (error: string): AdminReply => ({ status: 400, body: { error } });
  const missing = (error: string): AdminReply => ({ status: 404, body: { error } });

  return {
    async handle(method, path, body) {
      const parts = path.split('/');
      if (method === 'get') return path === 'state' ? ok(await state()) : missing(`no admin API at GET ${path}`);

      if (path === 'offer') {
        const view = deps.newOffer();
        // Loaded on first use: the QR library is a tenth of an idle host's memory.
        const { default: QRCode } = await import('qrcode');
        current = { view, svg: await QRCode.toString(view.link, { type: 'svg', errorCorrectionLevel: 'L', margin: 2 }) };
        deps.log.info('made a pairing offer on the admin page');
        return ok(offer());
      }
      if (parts[0] === 'approvals' && parts.length === 2) {
        const id = parts[1]!;
        const input = asObject(body);
        if (input?.decision === 'decline') return deps.approvals.decline(id) ? ok() : missing('that pairing request is no longer waiting');
        if (input?.decision !== 'approve') return bad('give { "decision": "approve", "scopes": [...] } or { "decision": "decline" }');
        const scopes = input.scopes === undefined ? [...SCOPES] : scopeList(input.scopes);
        if (!scopes) return bad(`scopes must be a list of ${SCOPES.join(', ')}`);
        if (!deps.approvals.approve(id, scopes)) return missing('that pairing request is no longer waiting');
        deps.log.info('approved a pairing on the admin page', { scopes });
        return ok();
      }
      if (parts[0] === 'devices' && parts.length === 3 && parts[2] === 'revoke') {
        const device = deps.devices.get(parts[1]!);
        if (!device) return missing('no such device');
        deps.devices.revoke(device.id);
        deps.log.info('removed a device on the admin page', { device: device.id, name: device.name });
        return ok();
      }
      if (parts[0] === 'devices' && parts.length === 2) {
        const device = deps.devices.get(parts[1]!);
        if (!device) return missing('no such device');
        const input = asObject(body);
        if (!input) return bad('give { "scopes": [...], "workspaces": [...] | null }');
        const scopes = input.scopes === undefined ? undefined : scopeList(input.scopes);
        if (scopes === null) return bad(`scopes must be a list of ${SCOPES.join(', ')}`);
        const workspaces = input.workspaces === undefined || input.workspaces === null ? input.workspaces : workspaceList(input.workspaces, deps.workspaces);
        if (workspaces === false) return bad(`workspaces must be null (all) or a list of this host's workspaces: ${deps.workspaces.join(', ')}`);
        const match = deps.devices.setAccess(device.id, { ...(scopes ? { scopes } : {}), ...(workspaces !== undefined ? { workspaces } : {}) });
        if (!match.ok) return missing('no such device');
        deps.log.info("changed a device's access on the admin page", { device: device.id, scopes: match.device.scopes, workspaces: match.device.workspaces ?? 'all' });
        return ok(match.device);
      }
      if (path === 'computers') {
        const name = asObject(body)?.name;
        if (typeof name !== 'string') return bad('give { "name": "…" }, the computer\'s name');
        const made = deps.newComputer(name);
        if ('error' in made) return { status: made.status, body: { error: made.error } };
        deps.log.info("made a computer's credential on the admin page", { device: made.value.deviceId });
        return ok(made.value);
      }
      return missing(`no admin API at POST ${path}`);
    },
  };
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function scopeList(v: unknown): Scope[] | null {
  if (!Array.isArray(v) || !v.every((s) => (SCOPES as readonly unknown[]).includes(s))) return null;
  return v as Scope[];
}

function workspaceList(v: unknown, allowed: readonly string[]): string[] | false {
  if (!Array.isArray(v) || !v.every((w) => typeof w === 'string' && allowed.includes(w))) return false;
  return v as string[];
}

function recent(list: unknown[]): RecentSession[] {
  const sessions: RecentSession[] = [];
  for (const s of list as Array<Record<string, unknown>>) {
    if (typeof s?.id !== 'string') continue;
    const time = asObject(s.time);
    sessions.push({
      id: s.id,
      title: typeof s.title === 'string' && s.title ? safeText(s.title) : '(untitled)',
      ...(typeof s.directory === 'string' ? { directory: s.directory } : {}),
      ...(typeof time?.updated === 'number' ? { updated: time.updated } : {}),
    });
  }
  return sessions.sort((a, b) => (b.updated ?? 0) - (a.updated ?? 0)).slice(0, RECENT_SESSIONS);
}
