// What the Argo CD ApplicationSet in gitops/argocd generates for a set of directories, computed
// offline: which directories its git directory generator matches, and the Application fields its
// Go template yields for each. Tests use it to prove every overlay gets an Application in the
// namespace the overlay renders into, without a cluster.
import path from 'node:path';

/** The parameters Argo CD's git directory generator gives the template for one directory. */
export interface GitDirectoryParams {
  readonly path: {
    readonly path: string;
    readonly basename: string;
    readonly basenameNormalized: string;
    readonly segments: readonly string[];
  };
}

export function gitDirectoryParams(dir: string): GitDirectoryParams {
  const normalized = dir.split(path.sep).join('/');
  const basename = path.posix.basename(normalized);
  return {
    path: {
      path: normalized,
      basename,
      // Argo CD's normalization: anything but [a-z0-9-.] becomes "-", lower case.
      basenameNormalized: basename.toLowerCase().replace(/[^a-z0-9-.]/g, '-'),
      segments: normalized.split('/'),
    },
  };
}

/**
 * A directory generator path pattern as a RegExp. Argo CD matches with glob semantics in which `*`
 * and `?` never cross a `/`; `**` is not used here and is rejected rather than guessed at.
 */
export function directoryPattern(pattern: string): RegExp {
  if (pattern.includes('**')) throw new Error(`directory pattern ${pattern}: ** is not supported by this check`);
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

export interface DirectoryRule {
  readonly path: string;
  readonly exclude?: boolean;
}

/** Whether the generator's directory rules select `dir` (an exclude rule wins, as in Argo CD). */
export function generatorSelects(rules: readonly DirectoryRule[], dir: string): boolean {
  const matching = rules.filter((r) => directoryPattern(r.path).test(dir));
  return matching.length > 0 && !matching.some((r) => r.exclude === true);
}

/**
 * Expands the `{{.a.b}}` field references of a Go template string, as Argo CD does with
 * goTemplate: true and missingkey=error: an unknown key is an error, not an empty string. Anything
 * but plain field references (functions, pipelines) is rejected, so the check never guesses.
 */
export function expandGoTemplate(template: string, params: object): string {
  return template.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_, expression: string) => {
    if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(expression)) {
      throw new Error(`template expression {{${expression}}} is more than a field reference; extend expandGoTemplate to check it`);
    }
    let value: unknown = params;
    for (const key of expression.slice(1).split('.')) {
      if (value === null || typeof value !== 'object' || !(key in value)) {
        throw new Error(`template expression {{${expression}}}: map has no entry for key "${key}" (missingkey=error)`);
      }
      value = (value as Record<string, unknown>)[key];
    }
    if (typeof value === 'object') throw new Error(`template expression {{${expression}}} yields a ${Array.isArray(value) ? 'list' : 'map'}, not a string`);
    return String(value);
  });
}

/** Expands every string in a JSON-like value. */
export function expandDeep(value: unknown, params: object): unknown {
  if (typeof value === 'string') return expandGoTemplate(value, params);
  if (Array.isArray(value)) return value.map((v) => expandDeep(v, params));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandDeep(v, params)]));
  }
  return value;
}

/** The Application fields a check needs. */
export interface GeneratedApplication {
  readonly dir: string;
  readonly name: string;
  readonly project: string;
  readonly path: string;
  readonly namespace: string;
  readonly spec: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

interface ApplicationSetShape {
  spec: {
    generators: { git?: { directories?: DirectoryRule[] } }[];
    template: { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  };
}

/**
 * The Applications an ApplicationSet with git directory generators creates for `dirs` (paths
 * relative to the repository root, `/`-separated). Directories no generator selects get none.
 */
export function applicationsFor(applicationSet: unknown, dirs: readonly string[]): GeneratedApplication[] {
  const appset = applicationSet as ApplicationSetShape;
  const rules = appset.spec.generators.flatMap((g) => g.git?.directories ?? []);
  return dirs
    .filter((dir) => generatorSelects(rules, dir))
    .map((dir) => {
      const params = gitDirectoryParams(dir);
      const metadata = expandDeep(appset.spec.template.metadata, params) as Record<string, unknown>;
      const spec = expandDeep(appset.spec.template.spec, params) as Record<string, unknown>;
      const source = spec.source as { path?: string } | undefined;
      const destination = spec.destination as { namespace?: string } | undefined;
      return {
        dir,
        name: String(metadata.name),
        project: String(spec.project),
        path: String(source?.path),
        namespace: String(destination?.namespace),
        spec,
        metadata,
      };
    });
}

export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/** `apps/v1` -> `apps`; `v1` -> `` (the core group). */
export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

interface AppProjectShape {
  spec: {
    clusterResourceWhitelist?: GroupKind[];
    namespaceResourceWhitelist?: GroupKind[];
  };
}

function allows(list: readonly GroupKind[] | undefined, wanted: GroupKind): boolean {
  // Argo CD treats an entry's group and kind as globs; `*` is the only form that matters here.
  const matches = (pattern: string, value: string) => pattern === '*' || pattern === value;
  return (list ?? []).some((entry) => matches(entry.group, wanted.group) && matches(entry.kind, wanted.kind));
}

/**
 * The kinds among `objects` that the AppProject would refuse to sync. An object without a namespace
 * after rendering is cluster-scoped (every overlay sets a namespace, and kustomize skips only
 * cluster-scoped kinds), so it needs the cluster whitelist.
 */
export function kindsNotAllowed(appProject: unknown, objects: readonly { apiVersion: string; kind: string; metadata: { namespace?: string } }[]): (GroupKind & { scope: 'Cluster' | 'Namespaced' })[] {
  const project = appProject as AppProjectShape;
  const seen = new Map<string, GroupKind & { scope: 'Cluster' | 'Namespaced' }>();
  for (const o of objects) {
    const gk = { group: groupOf(o.apiVersion), kind: o.kind };
    const scope = o.metadata.namespace ? 'Namespaced' : 'Cluster';
    const list = scope === 'Cluster' ? project.spec.clusterResourceWhitelist : project.spec.namespaceResourceWhitelist;
    if (!allows(list, gk)) seen.set(`${scope}/${gk.group}/${gk.kind}`, { ...gk, scope });
  }
  return [...seen.values()];
}

/** An Application that a list generator's element yields, with the destination it is aimed at. */
export interface ListApplication extends GeneratedApplication {
  readonly element: Record<string, unknown>;
  readonly server: string;
}

interface ListApplicationSetShape {
  spec: {
    generators: { list?: { elements?: Record<string, unknown>[] } }[];
    template: { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  };
}

/**
 * The Applications an ApplicationSet with list generators creates: one per element, its template
 * expanded with the element's keys as parameters (exactly, with missingkey=error semantics).
 */
export function applicationsFromList(applicationSet: unknown): ListApplication[] {
  const appset = applicationSet as ListApplicationSetShape;
  return appset.spec.generators.flatMap((g) => g.list?.elements ?? []).map((element) => {
    const metadata = expandDeep(appset.spec.template.metadata, element) as Record<string, unknown>;
    const spec = expandDeep(appset.spec.template.spec, element) as Record<string, unknown>;
    const source = spec.source as { path?: string } | undefined;
    const destination = spec.destination as { namespace?: string; server?: string } | undefined;
    return {
      element,
      dir: String(source?.path),
      name: String(metadata.name),
      project: String(spec.project),
      path: String(source?.path),
      namespace: String(destination?.namespace),
      server: String(destination?.server),
      spec,
      metadata,
    };
  });
}
