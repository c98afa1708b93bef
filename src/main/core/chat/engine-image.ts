import sharp from 'sharp';
import { decodeImageRgb } from '../blip/image-decode';

/**
 * The photo as engines take it: a JPEG, base64. Large photos are scaled down first: LLaVA's vision tower sees
 * 336–384 px anyway, and a 40-megapixel original would only slow the upload and the engine's own decoder.
 * Decoding goes through Tandem's decoder, so HEIC and EXIF orientation work the same as for BLIP.
 */
export async function photoAsJpegBase64(path: string, maxSide = 1024): Promise<string> {
  const rgb = await decodeImageRgb(path);
  const jpeg = await sharp(Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), {
    raw: { width: rgb.width, height: rgb.height, channels: 3 },
  })
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 90 })
    .toBuffer();
  return jpeg.toString('base64');
}
