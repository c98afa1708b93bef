import { useEffect, useState } from 'react';
import { useTandem } from '../../hooks/use-tandem';
import { modelOfSource } from '../../lib/caption-history';
import { formatDuration, formatTimestamp, readableError } from '../../lib/format';

/** `ms` is known for answers asked in this view; stored ones show when they were asked instead. */
type Answer = { key: string; question: string; answer: string; model: string; ms: number | null; createdAt: string | null };

/** A quick factual question answered by BLIP VQA ("what colour is the car?"), kept with the photo. */
export function VqaAsk({ photoId }: { photoId: number }) {
  const api = useTandem();
  const [question, setQuestion] = useState('');
  const [answers, setAnswers] = useState<Answer[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  // Answers asked earlier (in this or another session, or by a chat routed to BLIP) are kept with the photo.
  useEffect(() => {
    let live = true;
    setAnswers([]);
    api
      .invoke('vqa.list', { photoId })
      .then((stored) => {
        if (!live) return;
        const old = stored.map((a) => ({ key: `s${a.id}`, question: a.question, answer: a.answer, model: a.model, ms: null, createdAt: a.createdAt }));
        // Anything asked while the list was loading stays on top.
        setAnswers((fresh) => [...fresh.filter((f) => f.key.startsWith('n')), ...old]);
      })
      .catch((err: unknown) => live && setError(readableError(err)));
    return () => {
      live = false;
    };
  }, [api, photoId]);

  const ask = async () => {
    const q = question.trim();
    if (!q) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api.invoke('vqa.ask', { photoId, question: q });
      setAnswers((all) => [{ key: `n${Date.now()}-${all.length}`, question: q, answer: r.answer, model: r.model, ms: r.ms, createdAt: null }, ...all]);
      setQuestion('');
    } catch (err) {
      setError(readableError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="vqa">
      <form
        className="vqa__form"
        onSubmit={(e) => {
          e.preventDefault();
          void ask();
        }}
      >
        <input
          className="input"
          aria-label="Quick question"
          placeholder="What colour is…? How many…?"
          value={question}
          onChange={(e) => setQuestion(e.target.value)}
          readOnly={busy}
          aria-busy={busy}
        />
        <button type="submit" className="button button--quiet button--small" disabled={busy || !question.trim()}>
          {busy ? 'Asking…' : 'Ask'}
        </button>
      </form>
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
      {answers.length > 0 && (
        <ul className="vqa__answers" aria-label="Answers">
          {answers.map((a) => (
            <li key={a.key} className="vqa__answer">
              <span className="vqa__q">{a.question}</span>
              <strong className="vqa__a" data-testid="vqa-answer">
                {a.answer}
              </strong>
              <span className="vqa__meta">
                {modelOfSource(a.model) ?? a.model} · {a.ms !== null ? formatDuration(a.ms) : formatTimestamp(a.createdAt)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
