// Tests that need the real control plane (npm run setup -- --control-plane) run whenever its
// binaries are there. Without them they are skipped, and test/global-setup.ts ends the run with one
// line saying so and how to enable them; under CI=true a missing control plane fails instead, so a
// CI run can never pass by silently skipping what it exists to check.
import { describe, it } from 'vitest';
import { ARGOCD_BINARIES, CONTROL_PLANE_BINARIES, FLUX_BINARIES, missingBinaries, SETUP_COMMAND, type ControlPlaneBinary } from '../../scripts/lib/tools/control-plane/binaries.ts';

export { ARGOCD_BINARIES, CONTROL_PLANE_BINARIES, FLUX_BINARIES };

export function describeWithControlPlane(name: string, body: () => void, needs: readonly ControlPlaneBinary[] = CONTROL_PLANE_BINARIES): void {
  const missing = missingBinaries(needs);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has the control plane it needs', () => {
        throw new Error(`${missing.join(', ')} not built; CI must run \`${SETUP_COMMAND}\` before the tests`);
      });
    });
    return;
  }
  describe.skip(name, body);
}
