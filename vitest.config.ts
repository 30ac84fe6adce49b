import { defineConfig } from 'vitest/config';

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
    // @actions/workflow-parser imports its JSON schema without an import attribute, which Node
    // refuses; let Vite transform it (test/workflows.test.ts).
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
