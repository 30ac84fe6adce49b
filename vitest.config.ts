import { defineConfig } from 'vitest/config';
import { CONTROL_PLANE_BINARIES, missingBinaries } from './scripts/lib/tools/control-plane/binaries.ts';

// Without a control plane, most of a test's time is spent waiting for kustomize, kubeconform or a
// command it started: two test files at once keep both cores busy (vitest's default on 2 cores is
// one). With one, the control-plane tests start a dozen servers each, with waits sized for a
// machine of their own: those files run one at a time.
const CONTROL_PLANE_BUILT = missingBinaries(CONTROL_PLANE_BINARIES).length === 0;

export default defineConfig({
  // @actions/workflow-parser ships source maps without their sources, and Vite warns once per file.
  logLevel: 'error',
  test: {
    include: ['test/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Says at the end when the control-plane tests were skipped (test/helpers/control-plane.ts).
    globalSetup: ['test/global-setup.ts'],
    // Tests spawn kustomize, kubeconform and git: give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One worker process runs its test files one after another in the same module graph instead
    // of a fresh process per file: that fresh start cost about a second a file (about 50 s for
    // the suite). No test relies on a fresh process: the two that change PATH put it back.
    isolate: false,
    ...(CONTROL_PLANE_BUILT ? {} : { maxWorkers: 2, minWorkers: 1 }),
    // @actions/workflow-parser imports its JSON schema without an import attribute, which Node
    // refuses; let Vite transform it (test/workflows.test.ts).
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
