/** Turns `photos.folders` (one row per folder that holds photos) into a tree per library folder, with counts. */
import type { Root } from '../../shared/api';

export type FolderNode = {
  rootId: number;
  /** Relative to the root, '/'-separated; '' for the root itself. */
  path: string;
  name: string;
  /** Photos in this folder only. */
  own: number;
  /** Photos in this folder and every folder under it. */
  total: number;
  children: FolderNode[];
};

export type FolderCount = { rootId: number; folder: string; count: number };

function baseName(path: string): string {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts.at(-1) ?? path;
}

export function buildFolderTree(roots: readonly Root[], folders: readonly FolderCount[]): FolderNode[] {
  return roots.map((root) => {
    const top: FolderNode = { rootId: root.id, path: '', name: baseName(root.path), own: 0, total: 0, children: [] };
    const byPath = new Map<string, FolderNode>([['', top]]);
    const ensure = (path: string): FolderNode => {
      const existing = byPath.get(path);
      if (existing) return existing;
      const slash = path.lastIndexOf('/');
      const parent = ensure(slash < 0 ? '' : path.slice(0, slash));
      const node: FolderNode = { rootId: root.id, path, name: path.slice(slash + 1), own: 0, total: 0, children: [] };
      parent.children.push(node);
      byPath.set(path, node);
      return node;
    };
    for (const f of folders) {
      if (f.rootId !== root.id) continue;
      ensure(f.folder.replace(/^\/+|\/+$/g, '')).own += f.count;
    }
    const sum = (node: FolderNode): number => {
      node.children.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' }));
      node.total = node.own + node.children.reduce((n, c) => n + sum(c), 0);
      return node.total;
    };
    sum(top);
    return top;
  });
}
