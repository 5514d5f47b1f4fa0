import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, closeCodeBehavior, type CloseBehavior } from './close-codes.js';

describe('closeCodeBehavior', () => {
  it.each<[number, CloseBehavior]>([
    [1000, 'stop'],
    [1001, 'reconnect-now'],
    [1006, 'reconnect'],
    [4401, 'refused'],
    [4409, 'refused'],
    [1002, 'refused'],
    [1009, 'refused'],
  ])('%i -> %s', (code, behavior) => {
    expect(closeCodeBehavior(code)).toBe(behavior);
  });

  // Every code the server sends has a deliberate behaviour; adding one to CLOSE_CODES fails here.
  const expected: Record<keyof typeof CLOSE_CODES, CloseBehavior> = {
    NORMAL: 'stop',
    GOING_AWAY: 'reconnect-now',
    PROTOCOL_ERROR: 'refused',
    UNSUPPORTED_DATA: 'refused',
    INVALID_PAYLOAD: 'refused',
    ABNORMAL: 'reconnect',
    POLICY_VIOLATION: 'refused',
    MESSAGE_TOO_BIG: 'refused',
    INTERNAL_ERROR: 'reconnect',
    CLIENT_RECONNECTING: 'reconnect',
    SLOW_CONSUMER: 'reconnect',
    BAD_HELLO: 'refused',
    UNAUTHORIZED: 'refused',
    FORBIDDEN: 'refused',
    HANDSHAKE_TIMEOUT: 'reconnect',
    CONTRACT_MISMATCH: 'refused',
  };

  it.each(Object.entries(CLOSE_CODES))('classifies %s (%i)', (name, code) => {
    expect(closeCodeBehavior(code)).toBe(expected[name as keyof typeof CLOSE_CODES]);
  });

  it('lists exactly the codes classified above', () => {
    expect(Object.keys(CLOSE_CODES).sort()).toEqual(Object.keys(expected).sort());
  });

  it('treats unknown codes as a network failure', () => {
    expect(closeCodeBehavior(1005)).toBe('reconnect');
    expect(closeCodeBehavior(1012)).toBe('reconnect');
    expect(closeCodeBehavior(4000)).toBe('reconnect');
    expect(closeCodeBehavior(4002)).toBe('reconnect');
    expect(closeCodeBehavior(4999)).toBe('reconnect');
  });

  it('keeps the 4xxx codes parallel to HTTP statuses', () => {
    expect(CLOSE_CODES.BAD_HELLO - 4000).toBe(400);
    expect(CLOSE_CODES.UNAUTHORIZED - 4000).toBe(401);
    expect(CLOSE_CODES.FORBIDDEN - 4000).toBe(403);
    expect(CLOSE_CODES.HANDSHAKE_TIMEOUT - 4000).toBe(408);
    expect(CLOSE_CODES.CONTRACT_MISMATCH - 4000).toBe(409);
  });
});
