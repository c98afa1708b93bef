import type { PhotoDetail } from '../../../shared/api';
import { formatBytes, formatGps, formatTakenAt, formatTimestamp } from '../../lib/format';

/** Date, camera, place and file facts, as a definition list. */
export function ExifPanel({ detail }: { detail: PhotoDetail }) {
  const camera = [detail.cameraMake, detail.cameraModel].filter(Boolean).join(' ');
  const rows: [string, string][] = [
    ['Taken', formatTakenAt(detail.takenAt) || 'Unknown'],
    ['Camera', camera || 'Unknown'],
    ['Location', formatGps(detail.gpsLat, detail.gpsLon) || 'None recorded'],
    ['Dimensions', detail.width && detail.height ? `${detail.width} × ${detail.height}` : '—'],
    ['File', `${detail.format?.toUpperCase() ?? 'Unknown format'} · ${formatBytes(detail.size)}`],
    ['Folder', detail.folder || '(library folder)'],
    ['Added', formatTimestamp(detail.firstSeenAt)],
  ];
  if (detail.orientation && detail.orientation !== 1) rows.push(['Orientation', `EXIF ${detail.orientation} (shown upright)`]);
  if (detail.tags.length) rows.push(['Tags', detail.tags.join(', ')]);
  return (
    <dl className="exif" aria-label="Photo information">
      {rows.map(([k, v]) => (
        <div key={k} className="exif__row">
          <dt>{k}</dt>
          <dd title={k === 'Folder' ? detail.path : undefined}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
