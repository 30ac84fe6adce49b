import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { emqxWorkloadsWithSettings } from '../../model/emqx.ts';
import { asString } from '../../model/object.ts';
import { podPath } from '../../model/workloads.ts';

/** `repo/name:tag@digest` -> tag and digest. The registry may have a port (`host:5000/emqx/emqx`). */
export function parseImage(image: string): { tag?: string; digest?: string } {
  const [nameAndTag, digest] = image.split('@', 2) as [string, string | undefined];
  const lastSlash = nameAndTag.lastIndexOf('/');
  const colon = nameAndTag.indexOf(':', lastSlash + 1);
  return { ...(colon >= 0 ? { tag: nameAndTag.slice(colon + 1) } : {}), ...(digest ? { digest } : {}) };
}

/** [major, minor] of a version tag such as `5.8.9`, `v5.9.0`, `5.10.1-alpine`; undefined if not one. */
export function tagVersion(tag: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(tag);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export const emqxImage: Rule = {
  id: 'emqx/image',
  severity: 'error',
  description: 'The EMQX image is pinned to a version (never `latest` or no tag); an image of 5.9 or later with more than one replica sets EMQX_LICENSE__KEY (BSL 1.1).',
  fix: 'pin the tag once in `images:` of base/kustomization.yaml (5.8.9 is the last Apache-2.0 release); for 5.9+ clusters, set EMQX_LICENSE__KEY from a Secret.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const w of emqxWorkloadsWithSettings(objects)) {
      const image = asString(w.container.image) ?? '';
      const path = podPath(w, `containers[${w.containerName}].image`);
      const { tag, digest } = parseImage(image);
      if (!digest && (tag === undefined || tag === 'latest')) {
        findings.push(findingFor(this, w.object, `image "${image}" is not pinned: ${tag === 'latest' ? '"latest"' : 'no tag means "latest", which'} now points at a 6.x (BSL) release and changes under you.`, { path, locate: [image, 'newTag'] }));
        continue;
      }
      const version = tag !== undefined ? tagVersion(tag) : undefined;
      const licensed = version !== undefined && (version[0] > 5 || (version[0] === 5 && version[1] >= 9));
      if (licensed && w.replicas > 1 && !w.settings.get('license.key')) {
        findings.push(
          findingFor(this, w.object, `image ${image} is EMQX ${version!.join('.')} (BSL 1.1, from 5.9) with ${w.replicas} replicas but no EMQX_LICENSE__KEY: without a licence only one node may run.`, {
            path,
            locate: [image, `newTag: "${tag}"`, 'newTag'],
            fix: 'set EMQX_LICENSE__KEY from a Secret (secretKeyRef), run one replica, or pin 5.8.9 (Apache-2.0).',
          }),
        );
      }
    }
    return findings;
  },
};
