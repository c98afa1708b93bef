import { useEffect, useId, useState } from 'react';
import type { AppSettings } from '../../../shared/api';
import { checkEngineUrl } from '../../../shared/engine-url';
import { useTandem } from '../../hooks/use-tandem';
import { readableError } from '../../lib/format';

type Props = { settings: AppSettings; onChange(patch: Partial<AppSettings>): Promise<unknown> };

const BACKENDS: { value: AppSettings['chatBackend']; label: string; url: string }[] = [
  { value: 'embedded', label: 'Embedded LLaVA (on this computer)', url: '' },
  { value: 'ollama', label: 'Ollama', url: 'http://127.0.0.1:11434' },
  { value: 'openai', label: 'OpenAI-compatible server (llama.cpp, vLLM…)', url: 'http://127.0.0.1:8080/v1' },
];

/** Where LLaVA runs: the embedded model, or an engine the user already runs; with "Test connection". */
export function EngineBackend({ settings, onChange }: Props) {
  const api = useTandem();
  const id = useId();
  const [url, setUrl] = useState(settings.engineBaseUrl);
  const [model, setModel] = useState(settings.engineModel);
  const [timeout, setTimeoutSec] = useState(String(settings.engineTimeoutSec));
  const [test, setTest] = useState<{ state: 'idle' | 'testing' } | { state: 'done'; ok: boolean; message: string }>({ state: 'idle' });
  // Shown once the field is left with an address Tandem will not use; cleared as soon as the text changes.
  const [urlProblem, setUrlProblem] = useState<string | null>(null);

  useEffect(() => {
    setUrl(settings.engineBaseUrl);
    setModel(settings.engineModel);
    setTimeoutSec(String(settings.engineTimeoutSec));
  }, [settings.engineBaseUrl, settings.engineModel, settings.engineTimeoutSec]);

  const external = settings.chatBackend !== 'embedded';
  const urlCheck = checkEngineUrl(url);
  // Said before anything is sent: the photo goes with every question (shared/engine-url.ts: what counts as local).
  const remoteHost = external && urlCheck.ok && !urlCheck.thisMachine ? urlCheck.host : null;

  const commitUrl = () => {
    if (url === settings.engineBaseUrl) return;
    if (!urlCheck.ok) {
      setUrlProblem(urlCheck.reason);
      return;
    }
    setUrlProblem(null);
    void onChange({ engineBaseUrl: url.trim() });
  };

  const runTest = async () => {
    if (!urlCheck.ok) {
      setUrlProblem(urlCheck.reason);
      setTest({ state: 'done', ok: false, message: urlCheck.reason });
      return;
    }
    setTest({ state: 'testing' });
    try {
      const backend = settings.chatBackend === 'embedded' ? undefined : settings.chatBackend;
      const r = await api.invoke('chat.testBackend', { ...(backend ? { backend } : {}), baseUrl: url, model });
      setTest({ state: 'done', ok: r.ok, message: r.message });
    } catch (err) {
      setTest({ state: 'done', ok: false, message: readableError(err) });
    }
  };

  return (
    <div className="engine">
      <div className="form-grid">
        <label htmlFor={`${id}-backend`}>Chat runs on</label>
        <select
          id={`${id}-backend`}
          className="select"
          value={settings.chatBackend}
          onChange={(e) => {
            const backend = e.target.value as AppSettings['chatBackend'];
            const preset = BACKENDS.find((b) => b.value === backend)?.url;
            setTest({ state: 'idle' });
            void onChange({ chatBackend: backend, ...(preset && backend !== settings.chatBackend ? { engineBaseUrl: preset } : {}) });
          }}
        >
          {BACKENDS.map((b) => (
            <option key={b.value} value={b.value}>
              {b.label}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-url`}>Server URL</label>
        <input
          id={`${id}-url`}
          className="input"
          value={url}
          disabled={!external}
          spellCheck={false}
          aria-invalid={urlProblem ? true : undefined}
          aria-describedby={urlProblem || remoteHost ? `${id}-url-note` : undefined}
          onChange={(e) => {
            setUrl(e.target.value);
            setUrlProblem(null);
          }}
          onBlur={commitUrl}
        />
        {urlProblem ? (
          <p id={`${id}-url-note`} className="setting__hint setting__hint--problem engine__url-problem" role="alert">
            {urlProblem} The saved address stays in use.
          </p>
        ) : (
          remoteHost && (
            <p id={`${id}-url-note`} className="setting__hint engine__remote" data-testid="engine-remote">
              Not this computer: photos will be sent to {remoteHost} with every question.
            </p>
          )
        )}
        <label htmlFor={`${id}-model`}>Model</label>
        <input
          id={`${id}-model`}
          className="input"
          value={model}
          disabled={!external}
          spellCheck={false}
          placeholder="llava:7b"
          onChange={(e) => setModel(e.target.value)}
          onBlur={() => model !== settings.engineModel && void onChange({ engineModel: model.trim() })}
        />
        <label htmlFor={`${id}-timeout`}>Timeout (s)</label>
        <input
          id={`${id}-timeout`}
          className="input input--number"
          type="number"
          min={1}
          max={3600}
          value={timeout}
          disabled={!external}
          onChange={(e) => setTimeoutSec(e.target.value)}
          onBlur={() => {
            const n = Math.round(Number(timeout));
            if (Number.isFinite(n) && n >= 1 && n <= 3600 && n !== settings.engineTimeoutSec) void onChange({ engineTimeoutSec: n });
            else setTimeoutSec(String(settings.engineTimeoutSec));
          }}
        />
      </div>
      <div className="engine__test">
        <button type="button" className="button button--quiet button--small" onClick={() => void runTest()} disabled={!external || test.state === 'testing'}>
          {test.state === 'testing' ? 'Testing…' : 'Test connection'}
        </button>
        <p className={`engine__result${test.state === 'done' ? (test.ok ? ' engine__result--ok' : ' engine__result--bad') : ''}`} role="status" data-testid="backend-test">
          {test.state === 'done' ? test.message : external ? '' : 'The embedded model needs no connection; pick it in “Chat” above.'}
        </p>
      </div>
    </div>
  );
}
