import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEVEL_NAMES, levelOf, PRECEDENCE } from '../../src/pipeline/compile/precedence.js';
import { ruleTemplates, RULES_DIR } from '../../src/pipeline/compile/templates.js';
import { BUILTIN_RULES } from '../../src/pipeline/policy/vocabulary.js';
import { compiledFixture } from '../helpers.js';

/** A copy of rules/ to break on purpose. */
function rulesCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubestead-rules-'));
  for (const file of readdirSync(RULES_DIR)) copyFileSync(join(RULES_DIR, file), join(dir, file));
  return dir;
}

describe('precedence is a named list in code', () => {
  it('is the precedence of docs/decisions.md, highest first, each level naming its file in rules/', () => {
    expect(LEVEL_NAMES).toEqual([
      'override-abort',
      'check-breach',
      'webhook',
      'pod-health',
      'metric-unavailable',
      'custom-rules',
      'inconclusive',
      'pause',
      'check-failing',
      'gate',
      'promote-switch',
      'override-promote',
      'window',
      'fast-revert',
      'soak',
      'canary-not-ready',
      'advance',
    ]);
    const files = readdirSync(RULES_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(PRECEDENCE.map((level) => level.file).sort()).toEqual(files);
  });

  it('gives each template its place in the list as its level', () => {
    const levels = Object.fromEntries(ruleTemplates().map((t) => [t.name, t.level]));
    expect(levels).toMatchObject({
      'override-abort': 1,
      'check-breach': 2,
      'metric-unavailable': levelOf('metric-unavailable'),
      'webhook-failed': 3,
      gate: 10,
      'promote-switch': 11,
      window: 13,
      'fast-revert': 14,
      'canary-not-ready': 16,
      advance: 17,
    });
    const compiled = compiledFixture('policies/checkout.yaml');
    expect(compiled.reasons.find((r) => r.rule === 'advance')?.unlessFired).toEqual([
      'check-breach',
      'metric-unavailable',
      'inconclusive',
      'check-failing',
    ]);
  });

  it('refuses a rule file the list does not name', () => {
    const dir = rulesCopy();
    writeFileSync(join(dir, 'extra.json'), '[]');
    expect(() => ruleTemplates(dir)).toThrow(
      'rules/: extra.json not in the precedence list (src/pipeline/compile/precedence.ts)',
    );
  });

  it('refuses unlessFired naming no level', () => {
    const dir = rulesCopy();
    writeFileSync(
      join(dir, 'advance.json'),
      readFileSync(join(dir, 'advance.json'), 'utf8').replace('"metric-unavailable"', '"metric-unavailble"'),
    );
    expect(() => ruleTemplates(dir)).toThrow(/rules\/advance\.json: 0\.unlessFired\.1: /);
  });

  it('the built-in rule names validation knows are exactly those rules/ gives', () => {
    expect(ruleTemplates().length).toBeGreaterThan(0); // loading them checks their names against BUILTIN_RULES
    expect([...BUILTIN_RULES].sort()).toEqual([
      'advance',
      'await-promotion',
      'canary-not-ready',
      'check-breach',
      'check-failing',
      'derived-unavailable',
      'fast-revert',
      'gate',
      'inconclusive',
      'manual-pause',
      'metric-unavailable',
      'no-decision',
      'override-abort',
      'override-promote',
      'pause-step',
      'pod-health',
      'preview-deadline',
      'preview-not-ready',
      'promote-switch',
      'soak',
      'switched-not-ready',
      'webhook-failed',
      'webhook-rollback',
      'weight-not-given',
      'window',
    ]);
  });

  it('refuses templates whose rule names differ from the vocabulary', () => {
    const dir = rulesCopy();
    writeFileSync(
      join(dir, 'soak.json'),
      readFileSync(join(dir, 'soak.json'), 'utf8').replace('"name": "soak"', '"name": "soaking"'),
    );
    expect(() => ruleTemplates(dir)).toThrow(
      /^rules\/: the built-in rules give .*soaking.*; BUILTIN_RULES \(src\/pipeline\/policy\/vocabulary\.ts\) says /,
    );
  });
});
