import { Pool as Undici } from 'undici';
import { Pool } from '../../proxy/pool';

describe("the proxy's connection pool", () => {
  it("is undici's own Pool, loaded without the rest of the package", () => {
    expect(Pool).toBe(Undici);
  });
});
