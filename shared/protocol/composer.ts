/**
 * What the composer may offer for a session (`composer.options`): the runtime's primary agents,
 * the models of its configured providers with their variants (reasoning effort), which of them
 * the runtime uses when none is chosen, and its commands (built-in, the person's config, the
 * workspace's `.opencode/command/`). The host maps OpenCode's data to these (host/runtime/to-relay.ts).
 * @module
 */
import { bool, defined, list, obj, optOneOf, optStr, str, strItem, type Obj } from './guard.ts';

export interface AgentChoice {
  name: string;
  description?: string;
}

export interface ModelRef {
  providerId: string;
  modelId: string;
}

export interface ModelChoice extends ModelRef {
  providerName: string;
  /** The model's own name, for people. */
  name: string;
  /** Its variants (reasoning effort: `low`, `high`, …); empty when it has none. */
  variants: string[];
  /** Whether it reads images (OpenCode's capabilities); absent: the runtime did not say. */
  images?: boolean;
}

export const COMMAND_SOURCES = ['command', 'mcp', 'skill'] as const;

export interface CommandChoice {
  name: string;
  description?: string;
  /** Where the runtime found it: a command file or config entry, an MCP prompt, a skill. */
  source?: (typeof COMMAND_SOURCES)[number];
}

export interface ComposerOptions {
  agents: AgentChoice[];
  /** The agent the runtime uses when none is chosen. */
  defaultAgent?: string;
  models: ModelChoice[];
  /** The model the runtime uses when none is chosen. */
  defaultModel?: ModelRef;
  commands: CommandChoice[];
}

const NAME = { min: 1, max: 200 };
const DESCRIPTION = { max: 4000 };

export function parseModelRef(v: unknown, path: string): ModelRef {
  const o = obj(v, path);
  return { providerId: str(o, 'providerId', path, NAME), modelId: str(o, 'modelId', path, NAME) };
}

const agent = (v: unknown, path: string): AgentChoice => {
  const o = obj(v, path);
  return defined({ name: str(o, 'name', path, NAME), description: optStr(o, 'description', path, DESCRIPTION) });
};

const model = (v: unknown, path: string): ModelChoice => {
  const o = obj(v, path);
  return defined({
    ...parseModelRef(o, path),
    providerName: str(o, 'providerName', path, NAME),
    name: str(o, 'name', path, NAME),
    variants: list(o, 'variants', path, strItem(NAME), 50),
    images: o.images === undefined ? undefined : bool(o, 'images', path),
  });
};

const command = (v: unknown, path: string): CommandChoice => {
  const o = obj(v, path);
  return defined({ name: str(o, 'name', path, NAME), description: optStr(o, 'description', path, DESCRIPTION), source: optOneOf(o, 'source', path, COMMAND_SOURCES) });
};

export function parseComposerOptions(v: unknown, path: string): ComposerOptions {
  const o: Obj = obj(v, path);
  return defined({
    agents: list(o, 'agents', path, agent, 200),
    defaultAgent: optStr(o, 'defaultAgent', path, NAME),
    models: list(o, 'models', path, model, 2000),
    defaultModel: o.defaultModel === undefined ? undefined : parseModelRef(o.defaultModel, `${path}.defaultModel`),
    commands: list(o, 'commands', path, command, 500),
  });
}
