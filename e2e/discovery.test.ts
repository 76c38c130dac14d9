/**
 * LAN discovery on the wire: the host's advertiser announces `_openwork-relay._tcp` and a browser
 * of the same library (bonjour-service) finds it with the right port and TXT record. Everything
 * runs in a network namespace this test creates, whose only interface is its own loopback with
 * multicast turned on, so no packet leaves the machine.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { NETNS_LAN_ADDRESS, createNetns, netnsUnavailable, type Netns } from '../test-support/netns.ts';

const CHILD = fileURLToPath(new URL('./fixtures/discovery-child.ts', import.meta.url));
const PORT = 48787;
const unavailable = netnsUnavailable();

interface ChildReport {
  found: boolean;
  goodbye: boolean;
  loopbackAdvertising: boolean;
  seen: Array<{ name: string; type: string; protocol: string; port: number; host: string; txt: Record<string, string> }>;
}

describe('DNS-SD announcement inside a private network namespace', { skip: unavailable, timeout: 120_000 }, () => {
  let ns: Netns | undefined;
  after(() => ns?.remove());

  const run = (bind: string): ChildReport => {
    ns ??= createNetns('discovery');
    const r = ns.runNode(CHILD, [String(PORT), bind], 60_000);
    assert.equal(r.status, 0, `the child failed:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildReport;
  };

  for (const bind of ['0.0.0.0', NETNS_LAN_ADDRESS]) {
    it(`a host bound to ${bind} is found with its port and TXT record, and says goodbye on stop`, () => {
      const report = run(bind);
      assert.equal(report.found, true, `not found; saw ${JSON.stringify(report.seen)}`);
      const service = report.seen.find((s) => s.name === 'OpenWork Relay test')!;
      assert.equal(service.type, 'openwork-relay');
      assert.equal(service.protocol, 'tcp');
      assert.equal(service.port, PORT);
      assert.equal(service.host, 'relay-test.local');
      assert.deepEqual(service.txt, { hostId: 'ABCDEFGH12345678', version: '0.1.0', protocol: '1', tls: '0', path: '/' });
      assert.equal(report.goodbye, true, 'browsers are told when the host stops');
      assert.equal(report.loopbackAdvertising, false);
      assert.deepEqual(
        report.seen.map((s) => s.name),
        ['OpenWork Relay test'],
        'the host bound to 127.0.0.1 announced nothing',
      );
    });
  }
});
