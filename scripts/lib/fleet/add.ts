// `npm run fleet -- add <name> ...`: one new inventory entry (checked exactly as the inventory is)
// and the cluster's directory. The command then regenerates the GitOps files.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument, YAMLSeq, type Document } from 'yaml';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { EXIT_FINDINGS, UserError } from '../cli/errors.ts';
import { listOverlays } from '../model/overlays.ts';
import { clusterDirFiles, readOverlayFeatures, settingsProblem, type ClusterSettings } from './cluster-dir.ts';
import { checkInventory, displayPathIn, INVENTORY_FILE, INVENTORY_SCHEMA_FILE, type ClusterEntry } from './inventory.ts';

const NEW_INVENTORY = `---\n# yaml-language-server: $schema=./${INVENTORY_SCHEMA_FILE}\n# Every cluster of the fleet: its directory clusters/<name>, the overlay it runs, its API server.\nclusters: []\n`;

/** The inventory text with the entry appended, comments and layout kept. */
export function appendEntry(text: string, entry: ClusterEntry): string {
  const doc = parseDocument(text) as Document;
  if (!isMap(doc.contents)) throw new Error('inventory is not a mapping');
  const found: unknown = doc.contents.get('clusters', true);
  const seq = isSeq(found) ? found : new YAMLSeq();
  if (!isSeq(found)) doc.contents.set('clusters', seq);
  seq.flow = false;
  const node = doc.createNode(entry);
  node.flow = false;
  seq.items.push(node);
  return doc.toString({ lineWidth: 0 });
}

/** Adds the cluster; returns the files written, repository-relative. */
export async function addCluster(root: string, entry: ClusterEntry, settings: ClusterSettings): Promise<string[]> {
  const clustersDir = path.join(root, 'clusters');
  const inventoryFile = path.join(clustersDir, INVENTORY_FILE);
  const shown = (p: string) => displayPathIn(root, p);
  const text = existsSync(inventoryFile) ? readFileSync(inventoryFile, 'utf8') : NEW_INVENTORY;
  const next = appendEntry(text, entry);
  const overlays = listOverlays(path.join(root, 'overlays')).map((o) => o.name);
  // The same checks as every later read: a duplicate name or server, an unknown overlay.
  const { problems } = checkInventory(parseDocument(next).toJS(), { overlays, file: shown(inventoryFile) });
  const mine = problems.filter((p) => p.entry === entry.name || p.message.includes(`(${entry.name})`));
  if (mine.length > 0) throw new UserError(`cannot add cluster ${entry.name}:\n${mine.map((p) => `  ${p.message}`).join('\n')}`, EXIT_FINDINGS);
  const dir = path.join(clustersDir, entry.name);
  if (existsSync(dir)) throw new UserError(`cannot add cluster ${entry.name}: ${shown(dir)}/ already exists. Fix: pick another name, or add the entry to ${shown(inventoryFile)} by hand to adopt that directory.`, EXIT_FINDINGS);
  const features = readOverlayFeatures(path.join(root, 'overlays', entry.overlay));
  const problem = settingsProblem(entry, settings, features);
  if (problem) throw new UserError(`cannot add cluster ${entry.name}: ${problem}`, EXIT_FINDINGS);

  const written: string[] = [];
  for (const [file, content] of clusterDirFiles(entry, settings, features)) {
    await writeFileAtomic(path.join(dir, file), content);
    written.push(shown(path.join(dir, file)));
  }
  await writeFileAtomic(inventoryFile, next);
  written.push(shown(inventoryFile));
  return written;
}
