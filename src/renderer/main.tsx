import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { TandemContext } from './hooks/use-tandem';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <TandemContext value={window.tandem}>
      <App />
    </TandemContext>
  </StrictMode>,
);
