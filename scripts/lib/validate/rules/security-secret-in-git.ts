import { findingFor } from '../finding.ts';
import type { Rule, RuleFinding } from '../types.ts';
import { secretKeys } from '../../model/env.ts';
import { asRecord, asString } from '../../model/object.ts';

/**
 * Everything in the render comes from git, so a Secret in it (a secretGenerator, or a Secret
 * manifest committed to an overlay) is a credential in git, base64 at most, which is an encoding and
 * not encryption. A warning, not an error: a Secret for a local test cluster can be a choice, but
 * never a silent one.
 */
export const secretInGit: Rule = {
  id: 'security/secret-in-git',
  severity: 'warning',
  description: 'No Secret is in the render (a secretGenerator or a Secret manifest; a service-account token Secret without data, and a SOPS-encrypted one, excepted): its values would be committed to git unencrypted and applied from there.',
  fix: 'remove the Secret from the overlay and let a controller produce it from outside git: External Secrets, Sealed Secrets, or SOPS with Flux (docs/gitops.md, "The EMQX Secret, the GitOps way"); declare it under externalSecrets in validate.config.yaml.',
  check({ objects }) {
    const findings: RuleFinding[] = [];
    for (const secret of objects.filter((o) => o.kind === 'Secret' && o.apiVersion === 'v1')) {
      // The token controller writes the data of a service-account token Secret: git holds none.
      if (asString(secret.type) === 'kubernetes.io/service-account-token' && secretKeys(secret).length === 0) continue;
      // A SOPS-encrypted Secret carries its metadata in a top-level `sops` key; its values are ciphertext.
      if (secret.sops !== undefined) continue;
      const keys = secretKeys(secret);
      const field = Object.keys(asRecord(secret.stringData)).length > 0 ? 'stringData' : 'data';
      // Key names only: a value, or its length, must never reach a log or a pull request comment.
      const holds = keys.length > 0 ? `holds ${keys.join(', ')}` : 'holds no key yet, but any value added to it lands in git';
      findings.push(
        findingFor(this, secret, `Secret ${secret.metadata.name} is in the render, so it is committed to git unencrypted and applied from there; it ${holds}.`, {
          path: field,
          // A secretGenerator literal or env-file line (`key=`), else the origin file.
          ...(keys.length > 0 ? { locate: keys.map((k) => `${k}=`) } : {}),
        }),
      );
    }
    return findings;
  },
};
