// Where a new widget goes on a dashboard grid: the first free spot, reading left to right and
// top to bottom, so widgets fill rows instead of stacking in one column.

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

export function placeNew(taken: Box[], size: { w: number; h: number }, cols: number): Box {
  const w = Math.min(size.w, cols);
  const bottom = taken.reduce((m, b) => Math.max(m, b.y + b.h), 0);
  for (let y = 0; y <= bottom; y++) {
    for (let x = 0; x + w <= cols; x++) {
      const box = { x, y, w, h: size.h };
      if (!taken.some((t) => overlaps(t, box))) return box;
    }
  }
  return { x: 0, y: bottom, w, h: size.h };
}
