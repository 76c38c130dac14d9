/**
 * The note under the table: which targets were met and by what ratio, and for each missed one
 * what this run's own figures say limits it. Every sentence is built from measured numbers.
 * @module
 */
import { topPlaces, type ProfileSummary } from './profile-summary.ts';
import { fmt, mb, type Section, type Target } from './report.ts';

/** The raw figures a section keeps for the JSON file. */
// biome-ignore lint/suspicious/noExplicitAny: each section's figures have their own shape; the note reads them by name.
type Data = Record<string, any>;

function dataOf(sections: Section[], id: string): Data | undefined {
  const s = sections.find((x) => x.id === id);
  return s && !s.error ? (s.data as Data) : undefined;
}

/** One process's profile in a sentence: how busy it was and where. */
function profiled(who: string, p: ProfileSummary | undefined): string {
  if (!p) return '';
  return ` CPU profile of ${who}: busy ${fmt(p.busyMs, 0)} of ${fmt(p.wallMs, 0)} ms (${fmt((100 * p.busyMs) / p.wallMs, 0)} %), most in ${topPlaces(p)}.`;
}

/** What limits one missed target, from the figures of this run; undefined when there is nothing to add. */
function limit(t: Target, sections: Section[]): string | undefined {
  const why = reason(t, sections) ?? '';
  const relay = dataOf(sections, 'relay');
  const fan = dataOf(sections, 'fan-out');
  const startup = dataOf(sections, 'startup');
  const long = dataOf(sections, 'long-session');
  if (t.name.startsWith('long session: key press') && long?.typingProfile)
    return why + profiled('the page while typing in the long session ("(program)" is the renderer\'s style, layout and paint)', long.typingProfile);
  if (t.name.startsWith('startup: first task') && startup?.firstTaskProfile) return why + profiled('the host during the first task', startup.firstTaskProfile);
  if (t.name.startsWith('relay') && relay?.profile) return why + profiled('the host during the 100-device task', relay.profile);
  if (t.name.startsWith('fan-out: uWS/ws') && fan?.profiles)
    return why + profiled('the host during a 500-device burst', fan.profiles.host) + profiled("the devices' process in the same burst", fan.profiles.devices);
  return why || undefined;
}

function reason(t: Target, sections: Section[]): string | undefined {
  const costs = dataOf(sections, 'costs');
  const fan = dataOf(sections, 'fan-out');
  const hs = dataOf(sections, 'handshakes');
  const host = dataOf(sections, 'host');
  const pwa = dataOf(sections, 'pwa');
  const relay = dataOf(sections, 'relay');
  const browser = dataOf(sections, 'browser');
  const history = dataOf(sections, 'history');
  const startup = dataOf(sections, 'startup');
  const x25519 = costs
    ? `X25519 costs the host ${fmt(costs.node.dh, 0)} µs (node:crypto) and a phone ${fmt(costs.noble.dh / 1000, 2)} ms (pure JS, measured here in Node)`
    : undefined;
  const row = (n: number, layer: string) => fan?.rows.find((r: Data) => r.clients === n && r.layer === layer);
  if (t.name.startsWith('storm') && hs) {
    const share = `During the storm the host used ${fmt(hs.stormCpuMs, 0)} ms of CPU, the simulated devices (one process) ${fmt(hs.devicesCpuMs, 0)} ms and other processes ${fmt(hs.otherCpuMs, 0)} ms, of the ${fmt((hs.cores * hs.stormMs) / 1000, 1)} s that ${hs.cores} cores had`;
    return `each reconnect costs the host ${fmt(hs.reconnectCpuMs, 1)} ms of CPU, so ${hs.devices} need ${fmt((hs.reconnectCpuMs * hs.devices) / 1000, 1)} s of one core; ${x25519 ?? 'X25519 is the largest part'}, and a handshake does 4 of them per side plus a key generation. ${share}: when the host's share is the smaller part, the rest of the machine is what the figure measures.`;
  }
  if (t.name.startsWith('fan-out: uWS/ws') && fan) {
    const u = row(500, 'uws');
    const w = row(500, 'ws');
    return `at 500 devices the host spends ${fmt(u.hostCpuUsPerDelivery, 1)} µs (uWS) and ${fmt(w.hostCpuUsPerDelivery, 1)} µs (ws) of CPU per delivery and is busy ${fmt(u.hostCpuPercent, 0)} % (uWS) and ${fmt(w.hostCpuPercent, 0)} % (ws) of the burst: the 500 simulated devices, decrypting in one process on the same two cores, set the events/s for both, not the socket library.`;
  }
  if (t.name.startsWith('fan-out: host CPU per delivery') && fan) {
    const c = fan.costs;
    return `encryption ${fmt(c.encryptionUs, 2)} µs and framing ${fmt(c.framingUs, 2)} µs of each delivery are timed in the host; the rest is the write (uWS send, one syscall per frame per device), the send queue and the hub.`;
  }
  if (t.name.startsWith('fan-out: a non-reader')) {
    return "the non-reader costs the host its encryption until it is closed at 8 MiB queued; on an overloaded machine that extra work shows up in the others' tail.";
  }
  if (t.name.startsWith('relay: added latency') && fan && relay) {
    const u = row(100, 'uws');
    const perSecond = (1000 / relay.gapMs) * 100;
    return (
      `the measured device is the 100th the host encrypts for: at ${fmt(u.hostCpuUsPerDelivery, 1)} µs per delivery (section 2) its frame waits about ${fmt((99 * u.hostCpuUsPerDelivery) / 1000, 1)} ms behind the other 99 even when nothing queues. ` +
      `And ${fmt(perSecond, 0)} deliveries a second at that cost take ${fmt((perSecond * u.hostCpuUsPerDelivery) / 1e4, 0)} % of a core, on a machine whose two cores the OpenCode runtime and other work share: where the host falls behind, the backlog adds to every later delta.`
    );
  }
  if (t.name.startsWith('relay/direct latency at p99') && fan) {
    const u = row(100, 'uws');
    return `with 100 devices one delta costs the host at least ${fmt((100 * u.hostCpuUsPerDelivery) / 1000, 2)} ms of CPU (${fmt(u.hostCpuUsPerDelivery, 1)} µs per delivery in section 2's burst, where a frame carries 20 events; a live delta usually has a frame to itself, which costs more) before the last device's frame is written; the p99 of both readers is set by how long the machine's two cores are taken by others (the runtime, the 100 devices' reads, other work: see the load average).`;
  }
  if (t.name.startsWith('bytes:') && relay) {
    const r = relay.runs[0];
    return `the device received ${fmt(r.deviceBytes / 1024, 0)} KB for ${fmt(r.runtimeStreamBytes / 1024, 0)} KB of the runtime's stream: each text delta is relayed as its own event (its ids left out when they equal the previous delta's: docs/protocol.md, "Compact deltas"), about 90 bytes plus the 17 of its frame's flags and tag; the rest is the events that carry a part's whole text (its start and end) and the turn's other events.`;
  }
  if (t.name.startsWith('history: sessions.list') && history) {
    return `the first page took ${fmt(history.used.firstPageMs, 0)} ms with ${history.sessions} sessions (${fmt(history.empty.firstPageMs, 0)} ms with none); the runtime asked directly for the same lists and states took ${fmt(history.used.runtimeListMs, 0)} ms (${fmt(history.empty.runtimeListMs, 0)} ms with none): the host waits for the runtime's answers for each workspace, then merges them.`;
  }
  if (t.name.startsWith('relay/direct')) return "the host adds a parse of the runtime's stream, a hub, one encryption and one more process hop per delta.";
  if (t.name.startsWith('host idle memory') && host) {
    const node = host.baselines[0];
    const rungs: Data[] = host.rungs;
    const parts = [
      ['ES modules', rungs[0]!.rss - node.rss],
      ...rungs.slice(1).map((r, i) => [r.label.replace(/ \(.*/, '').replace(/:.*/, ''), r.rss - rungs[i]!.rss]),
      ['the host itself (its code, the app files it serves, what it sets up)', host.idle.rss - rungs[rungs.length - 1]!.rss],
    ] as Array<[string, number]>;
    const list = parts
      .sort((a, b) => b[1] - a[1])
      .map(([label, bytes]) => `${label} ${fmt(mb(bytes), 1)} MB`)
      .join(', ');
    const maps: Record<string, number> | undefined = host.idleMaps;
    const byMapping =
      maps && node.maps
        ? ` By mapping (smaps), above Node alone: ${Object.keys(maps)
            .map((kind) => `${kind} ${fmt(mb(maps[kind]! - (node.maps[kind] ?? 0)), 1)} MB`)
            .join(', ')}.`
        : '';
    return `Node alone takes ${fmt(mb(node.rss), 0)} MB; the idle host's ${fmt(mb(host.idle.rss), 0)} MB add, part by part as each is loaded into a fresh Node: ${list}. Not loaded when idle: ${host.onUse.join(', ') || 'nothing'}.${byMapping}`;
  }
  if (t.name.startsWith('startup: first task') && startup) {
    const later = startup.tasks
      .slice(1)
      .map((x: number) => fmt(x, 0))
      .join(' and ');
    const [aloneFirst, aloneNext] = startup.alonePrompts;
    return `the first task took ${fmt(startup.tasks[0], 0)} ms and later ones ${later} ms on the same host and runtime; opencode serve alone, asked directly in the same project, took ${fmt(aloneFirst, 0)} ms for its first prompt and ${fmt(aloneNext, 0)} ms for the next. The first task waits for the runtime's own first-prompt work: booting the workspace's services, which the host starts at ready with a file search (a task sent at once still waits for it to finish), and OpenCode's first snapshot of the project (a shadow git repository in its data folder holding every file), which only a turn starts and which this bench, with fresh data folders, pays every run; the host adds the same request and relay hop to every task.`;
  }
  if (t.name.startsWith('host start-up') && host) return `startHost() took ${fmt(host.startup.listeningAfterMs, 0)} ms.`;
  if (t.name.startsWith('browser:') && browser && costs) {
    return `after \`online\` the app makes a new connection (TCP, WebSocket, an IK handshake whose X25519 operations (4 and a key generation) run in the page's JavaScript: ${fmt((4 * costs.noble.dh + costs.noble.generate) / 1000, 1)} ms in Node on this CPU), is sent the ${browser.deltas} missed deltas and renders them; on this shared machine single runs varied ${browser.runs
      .filter((r: Data) => r.kind === 'offline')
      .map((r: Data) => fmt(r.caughtUpMs, 0))
      .join(', ')} ms.`;
  }
  if (t.name.startsWith('PWA: first render') && pwa) {
    return `the first render waits for the ${pwa.firstScreen.length} modules fetched before it (${fmt(pwa.firstScreenGzBytes / 1024, 1)} KB gzipped) to be parsed and run, with the CPU ${pwa.throttle}× slower.`;
  }
  return undefined;
}

export function closingNote(sections: Section[]): string[] {
  const targets = sections.flatMap((s) => s.targets);
  const met = targets.filter((t) => t.met === true);
  const missed = targets.filter((t) => t.met === false);
  const unknown = targets.filter((t) => t.met === null);
  const failed = sections.filter((s) => s.error);
  const lines = [
    `Closing note: ${met.length} of ${targets.length} targets met${missed.length ? `, ${missed.length} missed` : ''}${unknown.length ? `, ${unknown.length} not measured` : ''}.`,
  ];
  for (const t of met) lines.push(`  met     ${t.name}: ${t.figure} (goal ${t.goal}; ${fmt(t.ratio, 2)}× of it)`);
  for (const t of missed) {
    const why = limit(t, sections)?.trim();
    lines.push(`  missed  ${t.name}: ${t.figure} (goal ${t.goal}; ${fmt(t.ratio, 2)}× of it)${why ? `\n          why: ${why}` : ''}`);
  }
  for (const s of failed) lines.push(`  n/a     ${s.title}: ${s.error}`);
  lines.push('Figures come from one run on a shared machine: other processes competing for the two cores add noise to every latency (see the load average above).');
  return lines;
}
