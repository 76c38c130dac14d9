/**
 * `npm start [-- command] [options]`: parses the configuration, then starts the host with its
 * terminal (banner, pairing QR, approval prompt), or runs a one-shot command.
 * @module
 */
import { buildAppIfStale } from '../scripts/build-app.mjs';
import { startHost, type Host } from './app.ts';
import { helpText, parseConfig, type Config } from './config.ts';
import { isDeviceCommand, runDeviceCommand } from './cli/devices.ts';
import { createLogger, type Logger } from './log.ts';
import { startApprovalPrompt } from './pairing/prompt.ts';
import { showPairingOffer } from './pairing/qr.ts';
import { HOST_VERSION } from './version.ts';

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
  if (command.name === 'help') return void out.write(helpText() + '\n'), 0;
  if (command.name === 'version') return void out.write(`openwork-relay ${HOST_VERSION}\n`), 0;
  if (isDeviceCommand(command.name)) {
    const args = command.name === 'revoke' ? [command.device] : [];
    return runDeviceCommand(command.name, args, config.dataDir, { out: (t) => out.write(t), err: (t) => process.stderr.write(t) });
  }
  if (command.name === 'tls-setup') {
    process.stderr.write('`tls setup` is not available in this version yet; use --tls-cert and --tls-key with your own certificate.\n');
    return 2;
  }
  return serve(config);
}

async function serve(config: Config): Promise<number> {
  const log = createLogger({ format: config.logFormat, level: config.logLevel });
  buildAppIfStale();
  let host: Host;
  try {
    host = await startHost({ config, log });
  } catch (err) {
    process.stderr.write(`Could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  printBanner(config, host);
  reportRuntime(host, log);

  const showOffer = () => {
    const view = host.relay.newOffer();
    void showPairingOffer({ link: view.link, code: view.code, origin: view.origin, expiresAt: view.offer.expiresAt }, out);
  };
  showOffer();
  const prompt = startApprovalPrompt({ approvals: host.relay.approvals, input: process.stdin, output: out, log: log.child('pairing'), newOffer: showOffer });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write('Stopping now without waiting.\n');
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping the host and its runtime…\n`);
      prompt.close();
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
  });
}

function printBanner(config: Config, host: Host): void {
  const [first, ...rest] = host.urls();
  const lines = [
    `OpenWork Relay ${HOST_VERSION}`,
    `  Open on your phone: ${first}${rest.length ? `  (also ${rest.join(', ')})` : ''}`,
    `  Listening on:       ${config.bind}:${host.port}${config.tls ? ' (HTTPS)' : ''}, after ${Math.round(host.listeningAfterMs)} ms`,
    `  Workspace:          ${config.workspaces.join(', ')}`,
    `  Data directory:     ${config.dataDir}`,
    `  Runtime:            ${config.opencodeUrl ? `OpenCode at ${config.opencodeUrl}` : 'OpenCode'} is starting…`,
    '  Stop with Ctrl-C.',
  ];
  out.write(lines.join('\n') + '\n');
}

function reportRuntime(host: Host, log: Logger): void {
  const began = performance.now();
  host.runtime.ready.then(
    async (state) => {
      out.write(`Runtime: OpenCode ${state.version ?? ''} is ready (after ${((performance.now() - began) / 1000).toFixed(1)} s).\n`);
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
        `Runtime: OpenCode failed to start: ${err instanceof Error ? err.message : String(err)}\n` +
          'The host keeps retrying in the background; see docs/troubleshooting.md ("runtime not ready").\n',
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
