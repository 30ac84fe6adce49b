// Runs once around the whole test run: the closing line for skipped control-plane tests.
// Imports nothing from vitest: a global setup runs outside the test context.
import { existsSync } from 'node:fs';
import { registryBinary } from '../scripts/lib/tools/registry.ts';
import { RENOVATE_SETUP_COMMAND, renovateInstallation } from '../scripts/lib/setup/setup-renovate.ts';
import { ARGOCD_BINARIES, CONTROL_PLANE_BINARIES, FLUX_BINARIES, missingBinaries, SETUP_COMMAND } from '../scripts/lib/tools/control-plane/binaries.ts';

export default function setup(): () => void {
  return () => {
    const missing = missingBinaries([...CONTROL_PLANE_BINARIES, ...FLUX_BINARIES, ...ARGOCD_BINARIES]);
    if (missing.length > 0 && process.env.CI !== 'true') {
      process.stdout.write(`\ncontrol-plane tests skipped: ${missing.join(', ')} not built; run \`${SETUP_COMMAND}\` to enable them.\n`);
    }
    if (!existsSync(registryBinary()) && process.env.CI !== 'true') {
      process.stdout.write(`\nOCI registry tests (publish) skipped: ${registryBinary()} not built; run \`${SETUP_COMMAND}\` to enable them.\n`);
    }
    if (!existsSync(renovateInstallation().entry) && process.env.CI !== 'true') {
      process.stdout.write(`\nRenovate tests (deps) skipped: Renovate is not installed; run \`${RENOVATE_SETUP_COMMAND}\` to enable them.\n`);
    }
  };
}
