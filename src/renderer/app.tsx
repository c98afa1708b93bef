import { useCallback, useState } from 'react';
import { AddFolderButton } from './components/add-folder-button';
import { AppHeader } from './components/app-header';
import { EmptyState } from './components/empty-state';
import { ErrorBanner } from './components/error-banner';
import { PhotoGrid } from './components/photo-grid';
import { ResultSummary } from './components/result-summary';
import { ScanPanel } from './components/scan-panel';
import { SearchBox } from './components/search-box';
import { useDebouncedValue } from './hooks/use-debounced-value';
import { useFolderScan } from './hooks/use-folder-scan';
import { useLibraryRoots } from './hooks/use-library-roots';
import { usePhotoResults } from './hooks/use-photo-results';
import { useTandem, useTandemEvent } from './hooks/use-tandem';
import { readableError } from './lib/format';

const SEARCH_DEBOUNCE_MS = 150;

export function App() {
  const api = useTandem();
  const [error, setError] = useState<string | null>(null);
  const [typed, setTyped] = useState('');
  const [refreshKey, setRefreshKey] = useState(0);

  const reportError = useCallback((err: unknown) => setError(readableError(err)), []);
  const refresh = useCallback(() => setRefreshKey((k) => k + 1), []);
  useTandemEvent('library.changed', refresh);

  const query = useDebouncedValue(typed, SEARCH_DEBOUNCE_MS);
  const { roots } = useLibraryRoots(reportError);
  const results = usePhotoResults(query, refreshKey, reportError);
  const scan = useFolderScan(reportError, refresh);
  const scanning = scan.state.kind === 'starting' || scan.state.kind === 'scanning';
  const addFolder = () => void scan.addFolder();

  return (
    <div className="app">
      <AppHeader>
        <SearchBox value={typed} onChange={setTyped} />
        <AddFolderButton onClick={addFolder} busy={scanning} />
      </AppHeader>
      <div className="app__notices">
        {error && <ErrorBanner message={error} onDismiss={() => setError(null)} />}
        <ScanPanel state={scan.state} onDismiss={scan.dismiss} />
      </div>
      <main className="app__content">
        {roots !== null && roots.length === 0 && !scanning ? (
          <EmptyState kind="no-folders" title="No library folders yet">
            <p className="empty-state__text">
              Add a folder of photos and Tandem indexes it on this computer. Your photos stay where they are, and nothing
              leaves your machine.
            </p>
            <AddFolderButton onClick={addFolder} busy={scanning} />
          </EmptyState>
        ) : (
          <>
            <ResultSummary
              query={results.query}
              total={results.total}
              shown={results.items.length}
              notice={results.notice}
              loading={results.loading}
            />
            {results.items.length > 0 ? (
              <PhotoGrid photos={results.items} mediaBase={api.mediaBase} />
            ) : results.loading ? null : results.query ? (
              <EmptyState kind="no-matches" title={`No photos match “${results.query}”`}>
                <p className="empty-state__text">Try fewer or different words; searches cover captions, file names and folders.</p>
              </EmptyState>
            ) : (
              <EmptyState kind="no-photos" title={scanning ? 'Indexing your photos…' : 'No photos in your library folders yet'} />
            )}
          </>
        )}
      </main>
    </div>
  );
}
