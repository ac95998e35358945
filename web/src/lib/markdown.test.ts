import { describe, expect, it } from 'vitest';
import { markdown } from './markdown';

describe('markdown for text widgets', () => {
  it('renders the subset', () => {
    expect(markdown('# Hall\nSome **bold** and *it*\n\n- a `x`\n- [b](https://e.org)')).toBe(
      '<h2>Hall</h2><p>Some <strong>bold</strong> and <em>it</em></p><ul><li>a <code>x</code></li><li><a href="https://e.org" target="_blank" rel="noopener">b</a></li></ul>',
    );
  });
  it('never lets markup or script links through', () => {
    expect(markdown('<img src=x onerror=alert(1)>')).toBe('<p>&lt;img src=x onerror=alert(1)&gt;</p>');
    expect(markdown('[x](javascript:alert(1))')).not.toContain('href');
  });
});
