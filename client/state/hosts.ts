/**
 * The computers this phone is paired with, and which one is in use. Stored in IndexedDB; a
 * welcome from the computer in use updates what the phone knows of it (name, scopes, workspaces,
 * addresses). Switching computers is the wiring's job (`activate`): everything shown changes.
 * @module
 */
import { createSignal, type Accessor } from 'solid-js';
import type { Welcome } from '../../shared/channel/client.ts';
import type { Scope } from '../../shared/protocol/messages.ts';
import { unlistedOrigin } from '../net/addresses.ts';
import type { HostRecord } from '../storage/db.ts';
import { deleteHost, loadHosts, saveHost, setActiveHost } from '../storage/hosts.ts';
import type { WithDb } from './with-db.ts';

export interface HostsDeps {
  withDb: WithDb;
  /** The page's origin, to tell whether the connected computer lists it. */
  origin: string;
  /** Shows `hostId` (or no computer) instead of the one in use. */
  activate(hostId: string | undefined): Promise<void>;
}

export interface Hosts {
  /** Paired computers, oldest pairing first. */
  readonly list: Accessor<readonly HostRecord[]>;
  readonly activeId: Accessor<string | undefined>;
  readonly active: Accessor<HostRecord | undefined>;
  /**
   * The connected computer's stable address, when this page was opened from an address that
   * computer does not list: its pairing here stays with this address only.
   */
  readonly unlistedHere: Accessor<string | undefined>;
  /** Reads the stored computers; resolves with the one in use when the app last ran. */
  load(): Promise<string | undefined>;
  /** Marks `hostId` as the one in use (without showing it: that is `activate`). */
  select(hostId: string | undefined): void;
  /** Stores a newly paired computer and switches to it. */
  add(record: HostRecord): Promise<void>;
  switchTo(hostId: string): Promise<void>;
  forget(hostId: string): Promise<void>;
  rename(hostId: string, label: string): Promise<void>;
  /** Takes what a welcome from the computer in use says about it. */
  learn(welcome: Welcome): void;
  /** Whether this device holds `scope` on the computer in use (as its last welcome said). */
  may(scope: Scope): boolean;
}

export function createHosts(deps: HostsDeps): Hosts {
  const { withDb } = deps;
  const [hosts, setHosts] = createSignal<readonly HostRecord[]>([]);
  const [activeId, setActiveId] = createSignal<string>();
  const [unlistedHere, setUnlistedHere] = createSignal<string>();
  const active = () => hosts().find((h) => h.hostId === activeId());

  return {
    list: hosts,
    activeId,
    active,
    unlistedHere,

    async load() {
      const stored = await withDb((db) => loadHosts(db));
      setHosts(stored?.hosts ?? []);
      return stored?.activeId;
    },

    select(hostId) {
      setActiveId(hostId);
      setUnlistedHere(undefined);
    },

    async add(record) {
      await withDb(async (db) => {
        await saveHost(db, record);
        await setActiveHost(db, record.hostId);
      });
      setHosts([...hosts().filter((h) => h.hostId !== record.hostId), record]);
      await deps.activate(record.hostId);
    },

    async switchTo(hostId) {
      if (hostId === activeId() || !hosts().some((h) => h.hostId === hostId)) return;
      await withDb((db) => setActiveHost(db, hostId));
      await deps.activate(hostId);
    },

    async forget(hostId) {
      await withDb((db) => deleteHost(db, hostId));
      const rest = hosts().filter((h) => h.hostId !== hostId);
      setHosts(rest);
      if (hostId === activeId()) {
        const next = rest[0]?.hostId;
        if (next) await withDb((db) => setActiveHost(db, next));
        await deps.activate(next);
      }
    },

    async rename(hostId, label) {
      const host = hosts().find((h) => h.hostId === hostId);
      const clean = label.trim().slice(0, 100);
      if (!host || !clean) return;
      const updated = { ...host, label: clean };
      setHosts(hosts().map((h) => (h.hostId === hostId ? updated : h)));
      await withDb((db) => saveHost(db, updated));
    },

    learn(welcome) {
      const host = active();
      if (!host) return;
      setUnlistedHere(unlistedOrigin(welcome.host.addresses, deps.origin));
      const updated: HostRecord = {
        ...host,
        name: welcome.host.name,
        deviceId: welcome.deviceId,
        scopes: welcome.scopes,
        workspaces: welcome.workspaces,
        addresses: [...new Set([...host.addresses, ...welcome.host.addresses])],
      };
      // A reconnect nearly always learns nothing new: then no IndexedDB write and no re-render
      // while the missed events are arriving.
      if (!sameHostFacts(host, updated)) {
        setHosts(hosts().map((h) => (h.hostId === host.hostId ? updated : h)));
        void withDb((db) => saveHost(db, updated));
      }
    },

    may: (scope) => active()?.scopes.includes(scope) ?? false,
  };
}

/** Whether the facts a welcome updates are the same in both records. */
function sameHostFacts(a: HostRecord, b: HostRecord): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.name === b.name && a.deviceId === b.deviceId && same(a.scopes, b.scopes) && same(a.workspaces, b.workspaces) && same(a.addresses, b.addresses);
}
