// Kept apart from api.ts so the renderer can build media URLs without bundling zod.

/** `tandem://thumb/<id>?size=small|large`, `tandem://photo/<id>` */
export function thumbUrl(base: string, photoId: number, size: 'small' | 'large' = 'small'): string {
  return `${base}thumb/${photoId}?size=${size}`;
}
export function photoUrl(base: string, photoId: number): string {
  return `${base}photo/${photoId}`;
}
