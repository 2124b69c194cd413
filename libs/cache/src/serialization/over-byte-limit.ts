/**
 * Whether `text` is longer than `limitBytes` in UTF-8. A UTF-16 unit is 1 to 3 bytes, so the length
 * alone settles it unless it lies between a third of the limit and the limit; only then is the text
 * scanned. A read of a normal entry pays a comparison.
 */
export function overByteLimit(text: string, limitBytes: number): boolean {
  const units = text.length;
  if (units > limitBytes) return true;
  return units * 3 > limitBytes && Buffer.byteLength(text) > limitBytes;
}
