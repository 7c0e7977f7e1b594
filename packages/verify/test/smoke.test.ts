import { VERIFY_VERSION } from '@custos/verify';
import { describe, expect, it } from 'vitest';

describe('verify package', () => {
  it('exports a version', () => {
    expect(VERIFY_VERSION).toBe('0.1.0');
  });
});
