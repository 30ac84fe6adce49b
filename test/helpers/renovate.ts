// Tests that run the real Renovate (npm run setup -- --renovate) run whenever it is installed.
// Without it they are skipped and test/global-setup.ts says so; under CI=true a missing Renovate
// fails instead, as a missing control plane does (./control-plane.ts).
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { RENOVATE_SETUP_COMMAND, renovateInstallation } from '../../scripts/lib/setup/setup-renovate.ts';

export function renovateInstalled(): boolean {
  return existsSync(renovateInstallation().entry);
}

export function describeWithRenovate(name: string, body: () => void): void {
  if (renovateInstalled()) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has Renovate installed', () => {
        throw new Error(`Renovate is not installed; CI must run \`${RENOVATE_SETUP_COMMAND}\` before the tests`);
      });
    });
    return;
  }
  describe.skip(name, body);
}
