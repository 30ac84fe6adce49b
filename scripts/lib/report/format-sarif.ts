// SARIF 2.1.0 for GitHub code scanning (github/codeql-action/upload-sarif): each result points at
// the repository file that produced the object, so the pull request is annotated at the source.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { displayPath } from '../util/paths.ts';
import type { RuleDescription, Finding, OverlayReport } from './finding.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifOptions {
  /** `emqx-gitops validate`, `emqx-gitops verify`. */
  readonly toolName: string;
  readonly toolVersion: string;
  readonly rules: readonly RuleDescription[];
}

/** A repository-relative path as a relative URI under %SRCROOT%; a file outside as a file: URI. */
function artifactLocation(file: string): { uri: string; uriBaseId?: string } {
  if (path.isAbsolute(file)) return { uri: pathToFileURL(file).href };
  return { uri: file.split(path.sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

export function formatSarif(reports: readonly OverlayReport[], options: SarifOptions): string {
  const rules = options.rules.map((entry) => ({
    id: entry.id,
    name: entry.id.replace(/[^A-Za-z0-9]+(.)/g, (_, c: string) => c.toUpperCase()),
    shortDescription: { text: entry.description },
    fullDescription: { text: entry.description },
    help: { text: `${entry.description}\nFix: ${entry.fix}`, markdown: `${entry.description}\n\n**Fix:** ${entry.fix}` },
    defaultConfiguration: { level: entry.severity },
  }));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results = reports.flatMap((report) =>
    report.findings.map((f: Finding) => ({
      ruleId: f.rule,
      ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule)! } : {}),
      level: f.severity,
      message: { text: `${f.overlay}: ${f.kind} ${f.name}${f.path ? ` ${f.path}` : ''}: ${f.message}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: artifactLocation(f.file ?? displayPath(path.join(report.overlay.dir, 'kustomization.yaml'))),
            region: { startLine: f.line ?? 1 },
          },
          ...(f.path ? { logicalLocations: [{ name: f.path, fullyQualifiedName: `${f.overlay}/${f.kind}/${f.name}/${f.path}`, kind: 'member' }] } : {}),
        },
      ],
      // Lets code scanning track one finding across commits even when lines move.
      partialFingerprints: { findingKey: [f.overlay, f.rule, f.kind, f.namespace ?? '', f.name, f.path ?? ''].join('|') },
    })),
  );
  const sarif = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: options.toolName, semanticVersion: options.toolVersion, rules } },
        originalUriBaseIds: { '%SRCROOT%': { description: { text: 'The repository root.' } } },
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
