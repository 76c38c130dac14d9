import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endsWithRules, runtimeConfigContent, sessionRules } from './rules.ts';

const ASK = { bash: 'ask', edit: 'ask', webfetch: 'ask', external_directory: 'ask' } as const;

test('session rules: one "*" rule per kind, or the patterns in their order', () => {
  assert.deepEqual(sessionRules({ ...ASK, bash: { '*': 'ask', 'npm test': 'allow' }, webfetch: 'deny' }), [
    { permission: 'bash', pattern: '*', action: 'ask' },
    { permission: 'bash', pattern: 'npm test', action: 'allow' },
    { permission: 'edit', pattern: '*', action: 'ask' },
    { permission: 'webfetch', pattern: '*', action: 'deny' },
    { permission: 'external_directory', pattern: '*', action: 'ask' },
  ]);
});

test("the runtime-wide configuration takes the strictest setting of any workspace, over the person's own", () => {
  const content = JSON.parse(
    runtimeConfigContent(
      [
        { ...ASK, bash: 'allow', edit: 'allow', webfetch: 'allow' },
        { ...ASK, bash: { '*': 'allow', 'rm *': 'deny' }, edit: 'ask', webfetch: 'allow' },
      ],
      JSON.stringify({ model: 'x/y', permission: { read: 'allow', bash: 'allow' } }),
    ),
  );
  assert.deepEqual(content, {
    model: 'x/y',
    permission: { read: 'allow', bash: 'deny', edit: 'ask', webfetch: 'allow', external_directory: 'ask' },
  });
  assert.throws(() => runtimeConfigContent([ASK], '{'), /OPENCODE_CONFIG_CONTENT is not valid JSON/);
  assert.throws(() => runtimeConfigContent([ASK], '[1]'), /must be a JSON object/);
});

test('endsWithRules recognises a session that already carries the rules last', () => {
  const rules = sessionRules(ASK);
  const other = { permission: 'todowrite', pattern: '*', action: 'deny' as const };
  assert.equal(endsWithRules(undefined, rules), false);
  assert.equal(endsWithRules([other, ...rules], rules), true);
  assert.equal(endsWithRules([...rules, other], rules), false);
  assert.equal(endsWithRules(rules.slice(1), rules), false);
});
