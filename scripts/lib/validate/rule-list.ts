// Every check validate runs, with its id, severity, description and fix: the rule registry plus the
// schema and render steps. SARIF's tool.driver.rules and docs/validate.md list exactly these.
import { RULES } from './rules/index.ts';
import { RENDER_RULE } from './run.ts';
import { SCHEMA_RULES } from './schema.ts';
import type { RuleDescription } from '../report/finding.ts';

export function validateRuleList(): RuleDescription[] {
  return [
    { ...RENDER_RULE, severity: 'error' },
    { ...SCHEMA_RULES.invalid, severity: 'error' },
    { ...SCHEMA_RULES.missing, severity: 'error' },
    ...RULES.map((r) => ({ id: r.id, severity: r.severity, description: r.description, fix: r.fix ?? '' })),
  ];
}
