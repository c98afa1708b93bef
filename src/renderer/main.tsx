import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { NoticesProvider } from './hooks/use-notices';
import { SettingsProvider } from './hooks/use-settings';
import { TandemContext } from './hooks/use-tandem';
import './styles/base.css';
import './styles/layout.css';
import './styles/gallery.css';
import './styles/photo.css';
import './styles/panels.css';
import './styles/export-and-tags.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <TandemContext value={window.tandem}>
      <NoticesProvider>
        <SettingsProvider>
          <App />
        </SettingsProvider>
      </NoticesProvider>
    </TandemContext>
  </StrictMode>,
);
