// Every rule against fixtures: renders that must pass it and renders that must trip it, with the
// field each finding points at (test/fixtures/validate/rule-cases.yaml).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jsonpatch from 'fast-json-patch';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadValidateConfig } from '../scripts/lib/validate/config.ts';
import { RULES } from '../scripts/lib/validate/rules/index.ts';
import type { Rule } from '../scripts/lib/validate/types.ts';
import type { K8sObject } from '../scripts/lib/model/object.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'validate');

interface Variant {
  render: string;
  patch?: Record<string, jsonpatch.Operation[]>;
  add?: K8sObject[];
  remove?: string[];
  path?: string;
  /** Secret values (plain or base64) that no finding of any rule may print. */
  hidden?: string[];
}
interface Case {
  rule: string;
  pass: Variant[];
  fail: Variant[];
}

const cases = readdirSync(FIXTURES)
  .filter((f) => /^rule-cases.*\.ya?ml$/.test(f))
  .flatMap((f) => parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as Case[]);

/** Rules tested with fixtures of their own in another test file (the component rules: test/components.test.ts). */
function testedElsewhere(id: string): boolean {
  const dir = import.meta.dirname;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts') && f !== path.basename(import.meta.filename))
    .some((f) => readFileSync(path.join(dir, f), 'utf8').includes(`'${id}'`));
}
const { externalSecrets } = loadValidateConfig();

function matches(object: K8sObject, ref: string): boolean {
  const [kind, name] = ref.split('/');
  return object.kind === kind && (name === undefined || object.metadata.name === name);
}

export function buildVariant(v: Variant): K8sObject[] {
  const text = readFileSync(path.join(FIXTURES, 'renders', `${v.render}.yaml`), 'utf8');
  let objects = parseAllDocuments(text).map((d) => d.toJS() as K8sObject);
  objects = objects.filter((o) => !(v.remove ?? []).some((ref) => matches(o, ref)));
  for (const [ref, ops] of Object.entries(v.patch ?? {})) {
    const index = objects.findIndex((o) => matches(o, ref));
    if (index < 0) throw new Error(`fixture patches ${ref}, which ${v.render}.yaml does not contain`);
    objects[index] = jsonpatch.applyPatch(structuredClone(objects[index]!), ops, true, false).newDocument;
  }
  return [...objects, ...(v.add ?? [])];
}

function check(rule: Rule, v: Variant) {
  return rule.check({ overlay: v.render, objects: buildVariant(v), externalSecrets });
}

describe('rule fixtures', () => {
  it('cover every rule in the registry (in rule-cases*.yaml here, or in another test file), each with a passing and a failing render', () => {
    for (const rule of RULES) {
      if (!cases.some((x) => x.rule === rule.id) && testedElsewhere(rule.id)) continue;
      const c = cases.find((x) => x.rule === rule.id);
      expect(c, `no fixture for ${rule.id}`).toBeDefined();
      expect(c!.pass.length).toBeGreaterThan(0);
      expect(c!.fail.length).toBeGreaterThan(0);
    }
    expect(cases.map((c) => c.rule).filter((id) => !RULES.some((r) => r.id === id))).toEqual([]);
  });

  for (const c of cases) {
    const rule = RULES.find((r) => r.id === c.rule);
    describe(c.rule, () => {
      c.pass.forEach((v, i) => {
        it(`passes: ${v.render} #${i}`, () => {
          expect(check(rule!, v).map((f) => f.message)).toEqual([]);
        });
      });
      c.fail.forEach((v, i) => {
        it(`trips: ${v.render} #${i}`, () => {
          const findings = check(rule!, v);
          expect(findings.length).toBeGreaterThan(0);
          for (const f of findings) {
            expect(f.rule).toBe(c.rule);
            expect(f.severity).toBe(rule!.severity);
            expect(f.message).toMatch(/Fix: /);
          }
          if (v.path) expect(findings.map((f) => f.path)).toContain(v.path);
          if (v.hidden) {
            const messages = RULES.flatMap((r) => check(r, v)).map((f) => f.message);
            for (const value of v.hidden) for (const m of messages) expect(m, 'a finding prints a Secret value').not.toContain(value);
          }
        });
      });
    });
  }
});
