import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { RERANK_MIN_WORDS } from '../shared/api';
import { AddFolderButton } from './components/add-folder-button';
import { AppHeader, type View } from './components/app-header';
import { ErrorBanner } from './components/error-banner';
import { ExportDialog } from './components/export/export-dialog';
import { FirstRun } from './components/first-run/first-run';
import { GalleryView } from './components/gallery/gallery-view';
import { JobsDrawer } from './components/jobs/jobs-drawer';
import { EmbeddingRunBar } from './components/jobs/embedding-run-bar';
import { JobsStatusBar } from './components/jobs/jobs-status-bar';
import { MetadataWriteBar } from './components/metadata/metadata-write-bar';
import { LibrarySidebar } from './components/library/library-sidebar';
import { ModelsPage } from './components/models/models-page';
import { PhotoView } from './components/photo/photo-view';
import { ScanPanel } from './components/scan-panel';
import { SearchBox } from './components/search-box';
import { SettingsPage } from './components/settings/settings-page';
import { Toasts } from './components/toasts';
import { useDebouncedValue } from './hooks/use-debounced-value';
import { useFolderScan } from './hooks/use-folder-scan';
import { useGalleryPrefs } from './hooks/use-gallery-prefs';
import { useGallerySelection } from './hooks/use-gallery-selection';
import { useJobs } from './hooks/use-jobs';
import { useMetadataWrites } from './hooks/use-metadata-writes';
import { useLibrary } from './hooks/use-library';
import { useModels } from './hooks/use-models';
import { useNotices } from './hooks/use-notices';
import { usePhotoSource, type SourceRequest } from './hooks/use-photo-source';
import { useSearchByMeaning } from './hooks/use-search-by-meaning';
import { useSettings, useThemeAttribute } from './hooks/use-settings';
import { useTandem, useTandemEvent } from './hooks/use-tandem';
import { describeFilters, NO_FILTERS, toPhotoFilters, type GalleryFilters } from './lib/gallery-filters';
import { formatCount } from './lib/format';

const SEARCH_DEBOUNCE_MS = 150;
/** Library counts refresh at most this often while captions stream in. */
const COUNTS_REFRESH_MS = 1500;

/** True once `ready` has been true, or after `ms` at the latest. */
function useSettledAfter(ready: boolean, ms: number): boolean {
  const [timedOut, setTimedOut] = useState(false);
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setTimedOut(true), ms);
    return () => clearTimeout(t);
  }, [ms]);
  useEffect(() => {
    if (ready) setSeen(true);
  }, [ready]);
  return seen || timedOut;
}

function focusGrid() {
  requestAnimationFrame(() => document.querySelector<HTMLElement>('[role="listbox"][aria-label="Photos"]')?.focus());
}

export function App() {
  const api = useTandem();
  const { error, reportError, dismissError, toast } = useNotices();
  const { settings, update: updateSettings } = useSettings();
  useThemeAttribute(settings?.theme);

  const [view, setView] = useState<View>('library');
  const [typed, setTyped] = useState('');
  const [filters, setFilters] = useState<GalleryFilters>(NO_FILTERS);
  const [prefs, setPrefs] = useGalleryPrefs();
  const [openIndex, setOpenIndex] = useState<number | null>(null);
  const [photoTab, setPhotoTab] = useState<'details' | 'chat'>('details');
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [exportOpen, setExportOpen] = useState(false);
  const [revealKey, setRevealKey] = useState(0);
  const searchInput = useRef<HTMLInputElement | null>(null);

  /** "Find similar photos": the grid shows photos like this one until the search box is used or the bar is closed. */
  const [similar, setSimilar] = useState<{ id: number; name: string } | null>(null);
  const query = useDebouncedValue(typed, SEARCH_DEBOUNCE_MS);
  /** The query last submitted with Enter: only then are its top hits re-ranked (one vision pass each, too slow per keystroke). */
  const [submitted, setSubmitted] = useState<string | null>(null);
  const request = useMemo(
    (): SourceRequest => ({
      query: similar ? '' : query.trim(),
      filters: toPhotoFilters(filters),
      sort: prefs.sort,
      ...(similar ? { similarTo: similar.id } : {}),
      // Only a query long enough to be re-ranked asks for it: any other change of the request reloads the grid.
      ...(!similar && submitted === query.trim() && query.trim().split(/\s+/).length >= RERANK_MIN_WORDS ? { rerank: true } : {}),
    }),
    [query, filters, prefs.sort, similar, submitted],
  );
  const source = usePhotoSource(request, reportError);
  const selection = useGallerySelection(source);
  // Start-up order: the first page of photos, then everything else (counts, models, jobs), so the grid paints
  // first; the core answers one request at a time.
  const settled = useSettledAfter(source.request !== null, 1000);
  const library = useLibrary(reportError, settled);
  const models = useModels(reportError, settled);
  const meaning = useSearchByMeaning(reportError, settled);

  const refreshCountsTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refreshCountsSoon = useCallback(() => {
    if (refreshCountsTimer.current) return;
    refreshCountsTimer.current = setTimeout(() => {
      refreshCountsTimer.current = null;
      library.refresh();
    }, COUNTS_REFRESH_MS);
  }, [library]);

  const refreshAll = useCallback(() => {
    source.refresh();
    library.refresh();
  }, [source, library]);
  const jobs = useJobs(reportError, refreshAll, settled);
  const metadataWrites = useMetadataWrites(reportError);
  useTandemEvent('library.changed', () => source.refresh());

  // Captions land on their tiles as they are written, without reloading the grid.
  useTandemEvent('caption.added', (e) => {
    const i = source.indexOfId(e.photoId);
    const item = i >= 0 ? source.itemAt(i) : undefined;
    // A person's caption (edited, or from the file) stays shown over a model's, as in the core.
    if (item && (e.source !== 'user' && (item.captionSource === 'user' || item.captionSource === 'file'))) return;
    if (item) source.patch(e.photoId, { caption: e.text || null, captionSource: e.source });
    refreshCountsSoon();
  });

  const scan = useFolderScan(reportError, refreshAll);
  const scanning = scan.state.kind === 'starting' || scan.state.kind === 'scanning';
  const addFolder = useCallback(() => {
    setView('library');
    void scan.addFolder();
  }, [scan]);

  const firstRun = library.roots !== null && library.roots.length === 0 && !scanning;

  const openPhoto = useCallback((index: number) => {
    setOpenIndex(index);
    selection.setActiveIndex(index);
  }, [selection]);

  const closePhoto = useCallback(() => {
    setOpenIndex(null);
    setRevealKey((k) => k + 1);
    focusGrid();
  }, []);

  const openPhotoById = useCallback(
    async (photoId: number) => {
      setDrawerOpen(false);
      setView('library');
      let i = source.indexOfId(photoId);
      if (i < 0) {
        await source.loadRange(0, Math.min(source.total, 5000));
        i = source.indexOfId(photoId);
      }
      if (i >= 0) openPhoto(i);
      else toast('That photo is not in the current search or filters. Clear them to find it.');
    },
    [source, openPhoto, toast],
  );

  const onCaption = useCallback(
    async (scope: 'selection' | 'folder' | 'missing') => {
      const ids = [...selection.selection.ids];
      const r = await jobs.start(
        scope === 'selection'
          ? { scope: { kind: 'photos', photoIds: ids } }
          : scope === 'folder' && filters.folder
            ? { scope: { kind: 'folder', rootId: filters.folder.rootId, folder: filters.folder.path } }
            : { scope: { kind: 'missing' } },
      );
      if (!r) return;
      toast(r.queued > 0 ? `Captioning ${formatCount(r.queued, 'photo')} with ${r.model}` : `Nothing new to caption with ${r.model}.`);
    },
    [jobs, selection.selection.ids, filters.folder, toast],
  );

  const onWriteMetadata = useCallback(
    async (scope: 'selection' | 'folder' | 'all') => {
      const ids = [...selection.selection.ids];
      const queued = await metadataWrites.start(
        scope === 'selection' && ids.length > 0
          ? { kind: 'photos', photoIds: ids }
          : scope === 'folder' && filters.folder
            ? { kind: 'folder', rootId: filters.folder.rootId, folder: filters.folder.path }
            : { kind: 'all' },
      );
      if (queued !== null) toast(queued > 0 ? `Writing ${formatCount(queued, 'photo')} to files; unchanged ones are skipped` : 'Those photos are already being written.');
    },
    [metadataWrites, selection.selection.ids, filters.folder, toast],
  );

  const rescan = useCallback(
    (rootId: number) => {
      api.invoke('library.scan', { rootIds: [rootId] }).then(refreshAll, reportError);
    },
    [api, refreshAll, reportError],
  );
  const removeRoot = useCallback(
    (rootId: number) => {
      api.invoke('library.removeRoot', { rootId }).then(refreshAll, reportError);
    },
    [api, refreshAll, reportError],
  );

  // "/" or Ctrl/Cmd+F: to the search box, from anywhere but a text field.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = t?.closest('input, textarea, select, [contenteditable="true"]');
      if ((e.key === '/' && !typing) || ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f')) {
        if (openIndex !== null || drawerOpen) return;
        e.preventDefault();
        setView('library');
        searchInput.current?.focus();
        searchInput.current?.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [openIndex, drawerOpen]);

  // The open photo left the results (e.g. the library was rescanned): back to the grid.
  useEffect(() => {
    if (openIndex !== null && source.total > 0 && openIndex >= source.total) setOpenIndex(null);
  }, [openIndex, source.total]);

  const findSimilar = useCallback(
    (photo: { id: number; fileName: string }) => {
      setOpenIndex(null);
      setView('library');
      setSimilar({ id: photo.id, name: photo.fileName });
      focusGrid();
    },
    [],
  );

  const overlay = openIndex !== null || drawerOpen || exportOpen;

  return (
    <div className="app" data-view={view}>
      <div className="app__chrome" inert={overlay}>
        <AppHeader view={view} onView={setView}>
          <SearchBox
            ref={searchInput}
            value={typed}
            onChange={(v) => {
              setTyped(v);
              setSimilar(null);
              if (view !== 'library') setView('library');
            }}
            onSubmit={() => {
              setSubmitted(typed.trim());
              focusGrid();
            }}
          />
          <AddFolderButton onClick={addFolder} busy={scanning} />
        </AppHeader>
        <div className="app__body">
          {view === 'library' && !firstRun && library.roots !== null && (
            <LibrarySidebar roots={library.roots} status={library.status} folders={library.folders} filters={filters} onFilters={setFilters} />
          )}
          <main className="app__content">
            <ScanPanel state={scan.state} onDismiss={scan.dismiss} />
            {view === 'models' ? (
              <ModelsPage models={models} settings={settings} onSettings={updateSettings} />
            ) : view === 'settings' ? (
              <SettingsPage
                settings={settings}
                onSettings={updateSettings}
                meaning={meaning}
                roots={library.roots ?? []}
                onAddFolder={addFolder}
                onRescan={rescan}
                onRemoveRoot={removeRoot}
                scanning={scanning}
              />
            ) : firstRun ? (
              <FirstRun models={models} onAddFolder={addFolder} scanning={scanning} onOpenModels={() => setView('models')} />
            ) : library.roots === null && source.request === null ? null : (
              <>
              {similar && (
                <div className="similar-bar" role="status" data-testid="similar-bar">
                  <span className="similar-bar__label">
                    Photos like <strong>{similar.name}</strong>, most alike first
                  </span>
                  <button type="button" className="button button--quiet button--small" onClick={() => setSimilar(null)}>
                    Show all photos
                  </button>
                </div>
              )}
              <GalleryView
                source={source}
                mediaBase={api.mediaBase}
                prefs={prefs}
                onPrefs={setPrefs}
                filters={filters}
                onFilters={setFilters}
                selection={selection}
                failures={jobs.failureByPhoto}
                scanning={scanning}
                onOpen={openPhoto}
                onCaption={(s) => void onCaption(s)}
                onExport={() => setExportOpen(true)}
                onWriteMetadata={(s) => void onWriteMetadata(s)}
                revealKey={revealKey}
              />
              </>
            )}
          </main>
        </div>
      </div>

      {openIndex !== null && (
        <PhotoView
          source={source}
          index={openIndex}
          onIndex={(i) => {
            setOpenIndex(i);
            selection.setActiveIndex(i);
          }}
          onClose={closePhoto}
          mediaBase={api.mediaBase}
          models={models.list ?? []}
          settings={settings}
          jobs={jobs}
          tab={photoTab}
          onTab={setPhotoTab}
          onCaptionChanged={refreshCountsSoon}
          onFindSimilar={meaning.status?.active ? findSimilar : undefined}
        />
      )}

      <MetadataWriteBar writes={metadataWrites} />
      <EmbeddingRunBar meaning={meaning} />
      <JobsStatusBar jobs={jobs} status={library.status} onOpenDrawer={() => setDrawerOpen(true)} />
      {exportOpen && (
        <ExportDialog
          context={{
            selectedIds: [...selection.selection.ids],
            query: request.query,
            filters: request.filters,
            filtersLabel: describeFilters(filters),
            inView: source.total,
            libraryTotal: library.status?.photos ?? null,
          }}
          onClose={() => setExportOpen(false)}
        />
      )}
      {drawerOpen && <JobsDrawer jobs={jobs} onClose={() => setDrawerOpen(false)} onOpenPhoto={(id) => void openPhotoById(id)} />}

      {/* Above the status bar, over the content's least busy part; never covering the header's controls. */}
      <div className="notices">
        {error && <ErrorBanner message={error} onDismiss={dismissError} />}
        <Toasts />
      </div>
    </div>
  );
}
