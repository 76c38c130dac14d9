/**
 * What the admin page reads from `GET /admin/api/state`, in a module without DOM or Node code so
 * both the page (admin.ts, compiled for the browser) and the host (api.ts) can import it. The
 * host's `AdminState` extends `AdminView`: it cannot stop sending, or change, a field the page reads.
 * @module
 */
import type { Scope, RuntimeStatus } from '../../../shared/protocol/messages.ts';
import type { MetricsSnapshot } from '../../../shared/protocol/metrics.ts';
import type { UnavailableWorkspace } from '../../../shared/protocol/sessions-list.ts';

export interface AdminOffer {
  link: string;
  code: string;
  origin: string;
  expiresAt: number;
  /** The link as a QR code, an SVG document. */
  svg: string;
}

export interface RecentSession {
  id: string;
  title: string;
  directory?: string;
  updated?: number;
}

/** A device waiting for approval (host/pairing/approvals.ts `PendingApproval`). */
export interface PendingView {
  id: string;
  name: string;
  platform: string;
  /** The 6-digit verification code the device shows too. */
  code: string;
  remoteAddress: string;
  requestedAt: number;
}

/** A paired device (host/devices/store.ts `Device`). */
export interface DeviceView {
  id: string;
  name: string;
  platform: string;
  /** ISO 8601 times. */
  pairedAt: string;
  lastSeen?: string;
  scopes: Scope[];
  /** Absent: every workspace of the host. */
  workspaces?: string[];
}

/** A computer's credential for OpenCode's own clients, shown once (host/compat/computers.ts). */
export interface AdminComputer {
  deviceId: string;
  name: string;
  secret: string;
  scopes: Scope[];
  /** The layer's URLs, best first. */
  urls: string[];
}

export interface AdminView {
  host: { name: string; version: string; urls: string[]; workspaces: string[]; permissionTimeoutSeconds: number };
  runtime: RuntimeStatus;
  offer: AdminOffer | null;
  pending: PendingView[];
  devices: DeviceView[];
  sessions: RecentSession[];
  /** Why the sessions could not be listed (the runtime is not ready), if so. */
  sessionsError?: string;
  /** Workspaces whose sessions could not be listed while the others' were. */
  sessionsUnavailable?: UnavailableWorkspace[];
  metrics: MetricsSnapshot;
}
