import { describe, expect, it } from 'vitest';
import { placeNew } from './layout';

describe('placing a new widget', () => {
  it('fills the first row before starting another', () => {
    expect(placeNew([], { w: 3, h: 3 }, 12)).toEqual({ x: 0, y: 0, w: 3, h: 3 });
    expect(placeNew([{ x: 0, y: 0, w: 3, h: 3 }], { w: 6, h: 6 }, 12)).toEqual({ x: 3, y: 0, w: 6, h: 6 });
  });
  it('uses a gap under a short widget, and goes below when the row is full', () => {
    const taken = [{ x: 0, y: 0, w: 3, h: 2 }, { x: 3, y: 0, w: 9, h: 6 }];
    expect(placeNew(taken, { w: 3, h: 2 }, 12)).toEqual({ x: 0, y: 2, w: 3, h: 2 });
    expect(placeNew(taken, { w: 4, h: 2 }, 12)).toEqual({ x: 0, y: 6, w: 4, h: 2 });
  });
  it('never makes a widget wider than the grid', () => {
    expect(placeNew([], { w: 20, h: 2 }, 12).w).toBe(12);
  });
});
