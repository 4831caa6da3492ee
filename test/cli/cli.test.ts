import { describe, expect, it } from 'vitest';
import { kubestead as run } from './run-cli.js';

const kubestead = (...args: string[]) => run(args);

describe('kubestead CLI', () => {
  it('eval --json prints exactly the Decision of DESIGN.md §5', async () => {
    const { code, stdout } = await kubestead(
      'eval',
      'fixtures/policies/checkout.yaml',
      '--facts',
      'fixtures/snapshots/checkout-breach.json',
      '--json',
    );
    expect(code).toBe(0);
    const decision = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(decision)).toEqual(['action', 'reasons', 'step', 'nextStep']);
    expect(decision).toMatchObject({ action: 'rollback', step: 0, nextStep: null });
    expect((decision.reasons as unknown[])[0]).toEqual({
      rule: 'check-breach',
      check: 'error-rate',
      message: 'error-rate = 0.034 is above max 0.01',
    });
  });

  it('eval prints a readable decision by default', async () => {
    const { code, stdout } = await kubestead(
      'eval',
      'fixtures/policies/checkout.yaml',
      '--facts',
      'fixtures/snapshots/checkout-breach.json',
    );
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe('rollback (step 1/4)');
    expect(stdout).toContain('check-breach [error-rate]: error-rate = 0.034 is above max 0.01');
  });

  it('eval holds a snapshot whose canary is not fully ready, naming its readiness (the same rule the controller runs)', async () => {
    const { code, stdout } = await kubestead(
      'eval',
      'fixtures/policies/checkout.yaml',
      '--facts',
      'fixtures/snapshots/checkout-canary-not-ready.json',
      '--json',
    );
    expect(code).toBe(0);
    const decision = JSON.parse(stdout) as { action: string; reasons: Array<{ rule: string; message: string }> };
    expect(decision.action).toBe('hold');
    expect(decision.reasons[0]).toEqual({
      rule: 'canary-not-ready',
      message: 'canary 1/2 ready: the next step waits until every canary pod is ready',
    });
  });

  it('test fixtures/ passes and ends with the count line', async () => {
    const { code, stdout } = await kubestead('test', 'fixtures/');
    expect(code).toBe(0);
    const last = stdout.trimEnd().split('\n').at(-1);
    expect(last).toMatch(/^\d+ passed, 0 failed$/);
    expect(Number(last!.split(' ')[0])).toBeGreaterThanOrEqual(90);
  });

  it('test reports failed cases with what was expected and what came, exit 1', async () => {
    const { code, stdout } = await kubestead('test', 'test/fixtures/policytest/failing.yaml');
    expect(code).toBe(1);
    expect(stdout).toContain('✓ passes');
    expect(stdout).toContain('✗ wrong action\n      expected: advance\n      got:      rollback (step 1/2)');
    expect(stdout).toContain('check-breach [error-rate]: error-rate = 0.5 is above max 0.02');
    expect(stdout).toContain('✗ right action, missing reason\n      expected: rollback [pod-health]');
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 2 failed');
  });

  it('test gives exit 2 and the path for a bad inline snapshot', async () => {
    const { code, stdout } = await kubestead('test', 'test/fixtures/policytest/bad-snapshot.yaml');
    expect(code).toBe(2);
    expect(stdout).toContain(
      'test/fixtures/policytest/bad-snapshot.yaml:4: cases[0].facts.checks.error-rate.value: expected a finite number, got NaN',
    );
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('0 passed, 1 failed');
  });

  it('test refuses typos in a test file: each is a line naming where, exit 2', async () => {
    const { code, stdout } = await kubestead('test', 'test/fixtures/policytest/typos.yaml');
    expect(code).toBe(2);
    const file = 'test/fixtures/policytest/typos.yaml';
    expect(stdout).toContain(
      [
        `  ✗ ${file}:5: cases[0].facts.checks.error-rat: the policy has no check "error-rat" (did you mean "error-rate"?)`,
        `  ✗ ${file}:7: cases[1].name: duplicate case name "a breach" (first at cases[0])`,
        `  ✗ ${file}:9: cases[1].expect.reasons[0]: "overide-abort" is no check or rule of the policy (did you mean "override-abort"?)`,
        `  ✗ ${file}:11: cases[2].facts.derived.burn: the policy has no derived fact "burn"`,
      ].join('\n'),
    );
  });

  it('test refuses a snapshot that contradicts the policy, naming the field, exit 2', async () => {
    const { code, stdout } = await kubestead('test', 'test/fixtures/policytest/contradicting.yaml');
    expect(code).toBe(2);
    expect(stdout).toContain(
      'test/fixtures/policytest/contradicting.yaml:5: cases[0].facts.rollout.stepCount: is 99, but the policy has 2 step(s)',
    );
  });

  it('test gives exit 2 for a malformed test file', async () => {
    const { code, stdout } = await kubestead('test', 'test/fixtures/policytest/bad-file.yaml');
    expect(code).toBe(2);
    expect(stdout).toContain(
      'bad-file.yaml:5: cases[0].expect.action: expected one of "hold", "advance", "promote", "pause", "rollback", got "rollout"',
    );
  });

  it.each([
    [
      'validate of an invalid policy',
      ['validate', 'fixtures/invalid/bad-types.yaml'],
      /^fixtures\/invalid\/bad-types\.yaml:6: spec\.interval: /,
    ],
    [
      'validate of broken YAML',
      ['validate', 'fixtures/invalid/bad-yaml.yaml'],
      /^fixtures\/invalid\/bad-yaml\.yaml:6: \(yaml\): /,
    ],
    ['validate of a missing file', ['validate', 'nope.yaml'], /^nope\.yaml: cannot read: no such file$/m],
    ['validate of a folder', ['validate', 'fixtures'], /^fixtures: cannot read: it is a folder, not a file$/m],
    [
      'validate of a file with no policy',
      ['validate', 'test/fixtures/empty.yaml'],
      /^test\/fixtures\/empty\.yaml: no RolloutPolicy document in this file$/m,
    ],
    [
      'eval of a snapshot with a missing field',
      ['eval', 'fixtures/policies/checkout.yaml', '--facts', 'test/fixtures/snapshot-missing-field.json'],
      /^test\/fixtures\/snapshot-missing-field\.json:4: rollout\.stepElapsedSeconds: required field is missing$/m,
    ],
    [
      'eval of invalid JSON',
      ['eval', 'fixtures/policies/checkout.yaml', '--facts', 'test/fixtures/snapshot-bad.json'],
      /^test\/fixtures\/snapshot-bad\.json:3: \(yaml\): Unexpected , in flow map/,
    ],
    [
      'eval with no --facts',
      ['eval', 'fixtures/policies/checkout.yaml'],
      /^kubestead eval: --facts SNAPSHOT is required/,
    ],
    ['an unknown command', ['frobnicate'], /^kubestead: unknown command "frobnicate"/],
    [
      'an unknown option',
      ['eval', 'x', '--fatcs', 'y'],
      /^kubestead eval: unknown option --fatcs \(did you mean --facts\?\)$/m,
    ],
  ])('%s: exit 2, one clear line, no stack trace', async (_, args, pattern) => {
    const { code, stderr } = await kubestead(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(pattern);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('validate of a valid file says so, exit 0', async () => {
    const { code, stdout } = await kubestead(
      'validate',
      'fixtures/policies/cart-smi.yaml',
      'fixtures/policies/web-nginx.yaml',
    );
    expect(code).toBe(0);
    expect(stdout).toBe(
      'fixtures/policies/cart-smi.yaml:3: shop/cart: valid\nfixtures/policies/web-nginx.yaml:3: frontend/web: valid\n',
    );
  });

  it('compile prints the rule set as JSON', async () => {
    const { code, stdout } = await kubestead('compile', 'fixtures/policies/checkout.yaml');
    expect(code).toBe(0);
    const compiled = JSON.parse(stdout) as {
      policy: string;
      rule: { conditions: { any: { reason: number }[] } };
      reasons: { rule: string; level: number; action: string; check?: string; message: string }[];
      derived: Record<string, string>;
    };
    expect(compiled.policy).toBe('shop/checkout');
    expect(compiled.reasons).toContainEqual({
      rule: 'check-breach',
      level: 2,
      action: 'rollback',
      check: 'error-rate',
      message: '{check} = {value} is above max {max}',
      bindings: { check: 'error-rate', max: 0.01 },
    });
    expect(compiled.reasons).toContainEqual(
      expect.objectContaining({ rule: 'budget-burn-hold', level: 6, action: 'hold' }),
    );
    expect(compiled.reasons).toContainEqual(
      expect.objectContaining({
        rule: 'metric-unavailable',
        action: 'rollback',
        perCheck: { field: 'status', value: 'unavailable' },
      }),
    );
    expect(compiled.rule.conditions.any.map((c) => c.reason)).toEqual(compiled.reasons.map((_, i) => i));
    expect(compiled.derived).toEqual({ errorBudgetBurn: 'checks.`error-rate`.value / 0.001' });
  });

  it('--help works for every command', async () => {
    for (const command of ['validate', 'compile', 'eval', 'test']) {
      const { code, stdout } = await kubestead(command, '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: kubestead ${command}`));
    }
  });
});
