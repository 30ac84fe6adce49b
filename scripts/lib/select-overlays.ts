import { EXIT_USAGE, UserError } from './errors.ts';
import { listOverlays, resolveOverlayArgs, type Overlay } from './overlays.ts';
import { displayPath, OVERLAYS_DIR } from './paths.ts';

/**
 * The overlays a command works on: the OVERLAY_DIR arguments, or every overlay in the repository.
 * Every bad argument is reported at once, as a usage error.
 */
export function selectOverlays(args: readonly string[], usage: string): Overlay[] {
  if (args.length === 0) {
    const all = listOverlays();
    if (all.length === 0) throw new UserError(`no overlays found: ${displayPath(OVERLAYS_DIR)} holds no directory with a kustomization.yaml.`, EXIT_USAGE);
    return all;
  }
  const { overlays, problems } = resolveOverlayArgs(args);
  if (problems.length > 0) {
    const lines = problems.map((p) => `  OVERLAY_DIR ${p.arg}: ${p.problem}`);
    throw new UserError(`cannot use these overlay directories:\n${lines.join('\n')}\n\n${usage}`, EXIT_USAGE);
  }
  return overlays;
}
