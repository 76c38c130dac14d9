/**
 * `npm start [-- command] [options]`: parses the configuration, then starts the host with its
 * terminal (banner, pairing QR, approval prompt), or runs a one-shot command.
 * @module
 */
import { startHost, type Host } from './app.ts';
import { helpText, parseConfig, type Config } from './config.ts';
import { isDeviceCommand, runDeviceCommand } from './cli/devices.ts';
import { createLogGate, createLogger, type Logger } from './log.ts';
import { homedir, hostname } from 'node:os';
import { requestAdminLink, requestComputer, requestOffer } from './admin/control.ts';
import { formatComputerCredential, type ComputerCredential } from './compat/computers.ts';
import { LOGIN_TTL_MS } from './admin/session.ts';
import { startPairingConsole } from './pairing/console.ts';
import { showPairingOffer } from './pairing/qr.ts';
import { hostUrls, lanAddresses } from './net/addresses.ts';
import { formatBanner, pairingReminder, phonesCanReach } from './cli/banner.ts';
import { PROJECT_ROOT } from './paths.ts';
import { installService } from './service/install.ts';
import { certificateNames } from './tls/names.ts';
import { tlsSetup } from './tls/local-ca.ts';
import { defaultTrustPort } from './tls/trust-server.ts';
import { serviceEnvironment } from './service/spec.ts';
import { HOST_VERSION } from './version.ts';
import { safeText } from '../shared/text/safe-text.ts';

const out = process.stdout;

async function main(): Promise<number> {
  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (!parsed.ok) {
    for (const e of parsed.errors) process.stderr.write(`Error: ${e}\n`);
    process.stderr.write('Run `npm start -- --help` to see every option.\n');
    return 2;
  }
  const config = parsed.config;
  const command = config.command;
  if (command.name === 'help') {
    out.write(`${helpText()}\n`);
    return 0;
  }
  if (command.name === 'version') {
    out.write(`openwork-relay ${HOST_VERSION}\n`);
    return 0;
  }
  if (isDeviceCommand(command.name)) {
    const args =
      command.name === 'revoke'
        ? [command.device]
        : command.name === 'device-scopes'
          ? [command.device, ...command.scopes]
          : command.name === 'device-workspaces'
            ? [command.device, ...(command.workspaces === 'all' ? ['all'] : command.workspaces)]
            : [];
    return runDeviceCommand(command.name, args, config.dataDir, { out: (t) => out.write(t), err: (t) => process.stderr.write(t) });
  }
  if (command.name === 'pair') return pairCommand(config);
  if (command.name === 'pair-computer') return pairComputerCommand(config, command.computer);
  if (command.name === 'admin') return adminCommand(config);
  if (command.name === 'service-install') return serviceCommand(config);
  if (command.name === 'tls-setup') return tlsSetupCommand(config);
  return serve(config);
}

async function serve(config: Config): Promise<number> {
  const logGate = createLogGate((line) => process.stderr.write(`${line}\n`));
  const log = createLogger({ format: config.logFormat, level: config.logLevel, write: logGate.write });
  let host: Host;
  try {
    host = await startHost({ config, log });
  } catch (err) {
    process.stderr.write(`Could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  printBanner(config, host);
  reportRuntime(host, log);

  const pairing = startPairingConsole({
    newOffer: host.relay.newOffer,
    approvals: host.relay.approvals,
    input: process.stdin,
    output: out,
    log: log.child('pairing'),
    logGate,
  });
  // The big QR code only when it is what the person needs next: no device yet, and phones can reach the host.
  const paired = host.relay.devices.list().length;
  const reachable = phonesCanReach(config.bind, config.publicUrl);
  if (paired === 0 && reachable) await pairing.showOffer();
  else out.write(pairingReminder(paired, reachable, Boolean(process.stdin.isTTY)));

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write('Stopping now without waiting.\n');
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping the host and its runtime…\n`);
      pairing.close();
      host.close().then(
        () => resolve(0),
        (err: unknown) => {
          log.error('stopping failed', { err });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // The terminal was closed: stop as cleanly as for Ctrl-C (the runtime's watchdog covers the rest).
    process.on('SIGHUP', stop);
  });
}

/** `tls setup`: the local CA and a host certificate; the next `npm start` serves HTTPS. */
async function tlsSetupCommand(config: Config): Promise<number> {
  const log = createLogger({ format: config.logFormat, level: config.logLevel });
  const { ca, createdCa } = await tlsSetup({
    dataDir: config.dataDir,
    names: certificateNames({ bind: config.bind, publicUrl: config.publicUrl }),
    hostName: hostname(),
    log: log.child('tls'),
  });
  const trust = hostUrls({ bind: config.bind, port: defaultTrustPort(config.port), tls: false })[0];
  out.write(
    [
      createdCa ? 'Created a local certificate authority and a certificate for this host.' : 'Kept your local certificate authority and issued a fresh host certificate.',
      `CA fingerprint (SHA-256): ${ca.fingerprint}`,
      `Next: run npm start, then open ${trust}/ on the phone to install and trust the CA (compare the fingerprint),`,
      'and pair from the HTTPS address it sends you to. See docs/tls.md.',
      '',
    ].join('\n'),
  );
  return 0;
}

/**
 * What the host running on this data dir answers over its control channel, or undefined (with the
 * problem said) when there is no host or it would not answer.
 */
async function askRunningHost<T>(config: Config, what: string, ask: (dataDir: string) => Promise<T | undefined>, startsWith: string): Promise<T | undefined> {
  try {
    const answer = await ask(config.dataDir);
    if (!answer) process.stderr.write(`No host is running for ${config.dataDir}. Start it with \`npm start\`: it ${startsWith} as it starts.\n`);
    return answer;
  } catch (err) {
    process.stderr.write(`Could not get ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
    return undefined;
  }
}

/** `pair`: a fresh offer from the host already running on this data dir (its terminal approves). */
async function pairCommand(config: Config): Promise<number> {
  const offer = await askRunningHost(config, 'a pairing code', requestOffer, 'shows a pairing code');
  if (!offer) return 1;
  await showPairingOffer(offer, out);
  out.write('Approve the phone in the terminal where the host runs (it shows the same 6-digit code as the phone).\n');
  return 0;
}

/** `pair --computer <name>`: a credential for OpenCode's own clients, made by the running host (it knows its addresses and whether it serves HTTPS). */
async function pairComputerCommand(config: Config, name: string): Promise<number> {
  const made = await askRunningHost(config, 'a credential', (dataDir) => requestComputer<ComputerCredential>(dataDir, name), 'can make credentials');
  if (!made) return 1;
  out.write(formatComputerCredential(made));
  return 0;
}

/** `admin`: a fresh sign-in link to the admin page of the host running on this data dir. */
async function adminCommand(config: Config): Promise<number> {
  const link = await askRunningHost(config, 'an admin link', requestAdminLink, 'prints an admin link');
  if (!link) return 1;
  out.write(`Open this link in a browser on this computer to use the admin page (it works once, until ${new Date(link.expiresAt).toLocaleTimeString()}):\n  ${link.url}\n`);
  return 0;
}

/** `service install`: writes a systemd user unit or a launchd agent; the person runs the commands. */
function serviceCommand(config: Config): number {
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    process.stderr.write('service install supports Linux (systemd) and macOS (launchd); see docs/service.md.\n');
    return 2;
  }
  const { env, args } = serviceEnvironment(config, process.env);
  const result = installService({
    platform: process.platform,
    home: homedir(),
    nodePath: process.execPath,
    projectDir: PROJECT_ROOT,
    env,
    args: config.metrics ? args : [...args, '--no-metrics'],
  });
  out.write(
    [
      `${result.replaced ? 'Replaced' : 'Wrote'} ${result.path} (${result.manager}). To start the host now and at every login, run:`,
      ...result.commands.map((c) => `  ${c}`),
      ...result.notes.map((n) => `Note: ${n}`),
      '',
    ].join('\n'),
  );
  return 0;
}

function printBanner(config: Config, host: Host): void {
  out.write(
    formatBanner({
      version: HOST_VERSION,
      bind: config.bind,
      port: host.port,
      urls: host.urls(),
      publicUrl: config.publicUrl,
      listeningAfterMs: host.listeningAfterMs,
      trustUrl: host.trustUrl,
      adminLines: adminLines(host),
      workspaces: config.workspaces,
      dataDir: config.dataDir,
      opencodeUrl: config.opencodeUrl,
      lanAddress: lanAddresses()[0],
    }),
  );
}

/** The admin page's sign-in link: only someone who can read this terminal (or control.json) gets one. */
function adminLines(host: Host): string[] {
  const link = host.newAdminLink();
  if (!link) return [];
  return [
    `  Admin page:         ${link.url}`,
    `                      (this computer only; the link works once, for ${LOGIN_TTL_MS / 60_000} minutes; \`npm start -- admin\` prints a new one)`,
  ];
}

function reportRuntime(host: Host, log: Logger): void {
  const began = performance.now();
  host.runtime.ready.then(
    async (state) => {
      out.write(`Runtime: OpenCode ${safeText(state.version ?? '', 40)} is ready (after ${((performance.now() - began) / 1000).toFixed(1)} s).\n`);
      let providers: string[];
      try {
        providers = await host.runtime.bridge.connectedProviders();
      } catch (err) {
        log.warn('could not ask the runtime which model providers are configured', { err });
        return;
      }
      // "opencode" is OpenCode Zen's free tier, present with no setup at all.
      if (providers.some((p) => p !== 'opencode')) return;
      out.write(
        [
          'No model provider of your own is configured for OpenCode, so tasks can only use OpenCode Zen’s free models (online).',
          'To use yours, do one of these and restart the host:',
          '  npx opencode auth login                     (Anthropic, OpenAI, GitHub Copilot, …)',
          '  export ANTHROPIC_API_KEY=…                  (or OPENAI_API_KEY, GEMINI_API_KEY, …)',
          '  a local OpenAI-compatible server (Ollama, LM Studio) in ~/.config/opencode/opencode.json',
          '',
        ].join('\n'),
      );
    },
    (err: unknown) => {
      out.write(
        // Its own lines kept, each made safe: the text includes what the runtime wrote.
        `Runtime: OpenCode failed to start: ${String(err instanceof Error ? err.message : err)
          .split('\n')
          .slice(0, 40)
          .map((l) => safeText(l, 500))
          .join('\n')}\n` + 'The host keeps retrying in the background; see docs/troubleshooting.md ("runtime not ready").\n',
      );
    },
  );
  host.runtime.supervisor.onState((s) => {
    if (s.status === 'restarting') log.warn('the OpenCode runtime stopped; restarting it', { lastError: s.lastError?.split('\n')[0] });
    if (s.status === 'failed') log.error('the OpenCode runtime keeps failing', { lastError: s.lastError?.split('\n')[0] });
  });
}

process.exitCode = await main();
// The terminal prompt and timers would otherwise keep the process alive after a clean stop.
if (process.exitCode !== undefined) process.exit(process.exitCode);
