// `npm run fleet -- generate [--check]`: the GitOps files of every cluster, from the inventory,
// through the same generated-tree machinery as `npm run gitops:flux`; and the check that the
// cluster directories and the inventory agree (which generate cannot fix: it names both sides).
import path from 'node:path';
import { FLEET_GENERATE_COMMAND, fleetGitopsTree } from '../gitops/fleet.ts';
import { compareTree, driftLines, isUpToDate, type Drift, type GeneratedTree } from '../gitops/generated.ts';
import { clusterDirProblems } from './cluster-dir.ts';
import { displayPathIn, readInventory, type Inventory } from './inventory.ts';

export interface FleetPlan {
  readonly inventory: Inventory;
  readonly tree: GeneratedTree;
  readonly drift: Drift;
  /** Cluster directories and inventory entries that do not match, both sides named. */
  readonly dirProblems: string[];
}

/** Reads the inventory (a UserError, exit 1, on any problem in it) and compares everything. */
export function planFleet(root: string): FleetPlan {
  const inventory = readInventory({ root });
  const shown = (p: string) => displayPathIn(root, p);
  const tree = fleetGitopsTree(root, inventory.clusters, shown);
  return {
    inventory,
    tree,
    drift: compareTree(tree),
    dirProblems: clusterDirProblems(inventory.clusters, path.join(root, 'clusters'), shown, inventory.file),
  };
}

export { isUpToDate };

/** What --check prints when the generated files are out of date. */
export function describeFleetDrift(plan: FleetPlan): string {
  return (
    `the fleet's GitOps files do not match ${displayPathIn(plan.tree.root, plan.inventory.file)}:\n${driftLines(plan.tree.root, plan.drift, plan.tree.display).join('\n')}\n` +
    `Fix: run \`${FLEET_GENERATE_COMMAND}\` and commit the result; until then Argo CD and Flux do not deploy a new cluster ` +
    'and keep deploying a removed one.'
  );
}
