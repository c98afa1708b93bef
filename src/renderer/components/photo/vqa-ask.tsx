import { useState } from 'react';
import { useTandem } from '../../hooks/use-tandem';
import { modelOfSource } from '../../lib/caption-history';
import { formatDuration, readableError } from '../../lib/format';

type Answer = { question: string; answer: string; model: string; ms: number };

/** A quick factual question answered by BLIP VQA ("what colour is the car?"), kept with the photo. */
export function VqaAsk({ photoId }: { photoId: number }) {
  const api = useTandem();
  const [question, setQuestion] = useState('');
  const [answers, setAnswers] = useState<Answer[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const ask = async () => {
    const q = question.trim();
    if (!q) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api.invoke('vqa.ask', { photoId, question: q });
      setAnswers((all) => [{ question: q, answer: r.answer, model: r.model, ms: r.ms }, ...all]);
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
          {answers.map((a, i) => (
            <li key={i} className="vqa__answer">
              <span className="vqa__q">{a.question}</span>
              <strong className="vqa__a" data-testid="vqa-answer">
                {a.answer}
              </strong>
              <span className="vqa__meta">
                {modelOfSource(a.model) ?? a.model} · {formatDuration(a.ms)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
