import { lazy } from '../../lambda/shared/lazy';

describe('lazy', () => {
  it('makes the value on the first call only, and shares it with concurrent calls', async () => {
    let made = 0;
    const client = lazy(async () => ({ n: ++made }));
    expect(made).toBe(0);
    const [a, b] = await Promise.all([client(), client()]);
    expect(await client()).toBe(a);
    expect(b).toBe(a);
    expect(made).toBe(1);
  });

  it('makes it again after a failed attempt', async () => {
    let attempts = 0;
    const client = lazy(async () => {
      attempts++;
      if (attempts === 1) throw new Error('module failed to load');
      return 'client';
    });
    await expect(client()).rejects.toThrow('module failed to load');
    await expect(client()).resolves.toBe('client');
    expect(attempts).toBe(2);
  });
});
