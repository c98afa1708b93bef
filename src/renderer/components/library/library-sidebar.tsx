import { useMemo, useState, type ReactNode } from 'react';
import type { LibraryStatus, Root } from '../../../shared/api';
import { buildFolderTree, type FolderCount, type FolderNode } from '../../lib/folder-tree';
import type { GalleryFilters } from '../../lib/gallery-filters';
import { formatNumber } from '../../lib/format';
import { AlertIcon, ChevronDownIcon, ChevronRightIcon, DotIcon, FolderIcon, PhotosIcon } from '../icons';

type Props = {
  roots: Root[];
  status: LibraryStatus | null;
  folders: FolderCount[];
  filters: GalleryFilters;
  onFilters(filters: GalleryFilters): void;
};

function Count({ n }: { n: number | undefined }) {
  return n === undefined ? null : <span className="nav-item__count">{formatNumber(n)}</span>;
}

function FolderBranch({ node, depth, filters, onFilters }: { node: FolderNode; depth: number; filters: GalleryFilters; onFilters: Props['onFilters'] }) {
  const [open, setOpen] = useState(depth === 0);
  const current = filters.folder?.rootId === node.rootId && filters.folder.path === node.path;
  const hasChildren = node.children.length > 0;
  return (
    <li className="folder-tree__item">
      <div className={`nav-item nav-item--folder${current ? ' nav-item--current' : ''}`} data-depth={depth}>
        {hasChildren ? (
          <button
            type="button"
            className="folder-tree__toggle"
            aria-expanded={open}
            aria-label={`${open ? 'Collapse' : 'Expand'} ${node.name}`}
            onClick={() => setOpen((o) => !o)}
          >
            {open ? <ChevronDownIcon /> : <ChevronRightIcon />}
          </button>
        ) : (
          <span className="folder-tree__spacer" />
        )}
        <button
          type="button"
          className="nav-item__button"
          aria-current={current ? 'true' : undefined}
          onClick={() => onFilters({ ...filters, folder: current ? null : { rootId: node.rootId, path: node.path, name: node.name } })}
          title={node.path || node.name}
        >
          <FolderIcon />
          <span className="nav-item__label">{node.name}</span>
          <Count n={node.total} />
        </button>
      </div>
      {hasChildren && open && (
        <ul className="folder-tree__children">
          {node.children.map((c) => (
            <FolderBranch key={c.path} node={c} depth={depth + 1} filters={filters} onFilters={onFilters} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** Library shortcuts (all, not captioned, failed) and the folder tree with photo counts. */
export function LibrarySidebar({ roots, status, folders, filters, onFilters }: Props) {
  const tree = useMemo(() => buildFolderTree(roots, folders), [roots, folders]);
  const all = status?.photos;
  const problems = status ? (status.byStatus['broken'] ?? 0) + (status.byStatus['unsupported'] ?? 0) + status.captionFailed : undefined;
  const uncaptioned = status ? Math.max(0, status.photos - status.captioned) : undefined;
  const shortcut = (show: GalleryFilters['show'], label: string, icon: ReactNode, n: number | undefined) => {
    const current = filters.show === show && !filters.folder;
    return (
      <li>
        <button
          type="button"
          className={`nav-item nav-item__button${current ? ' nav-item--current' : ''}`}
          aria-current={current ? 'true' : undefined}
          onClick={() => onFilters({ ...filters, show, folder: null })}
        >
          {icon}
          <span className="nav-item__label">{label}</span>
          <Count n={n} />
        </button>
      </li>
    );
  };
  return (
    <nav className="sidebar" aria-label="Library">
      <h2 className="sidebar__heading">Library</h2>
      <ul className="sidebar__list">
        {shortcut('all', 'All photos', <PhotosIcon />, all)}
        {shortcut('uncaptioned', 'Not captioned', <DotIcon />, uncaptioned)}
        {shortcut('failed', 'Failed', <AlertIcon />, problems)}
      </ul>
      <h2 className="sidebar__heading">Folders</h2>
      <ul className="sidebar__list folder-tree" aria-label="Folders">
        {tree.map((root) => (
          <FolderBranch key={root.rootId} node={root} depth={0} filters={filters} onFilters={onFilters} />
        ))}
      </ul>
    </nav>
  );
}
