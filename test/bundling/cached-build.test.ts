/**
 * The bundle cache builds again whenever anything the bundle depends on changed, and only then: a file
 * it imports, a newly added import, the options, the lock file; and a damaged manifest is a miss.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { cachedBuild } from '../../lib/bundling/cached-build';

let project: string;
let n = 0;
const write = (file: string, text: string) => writeFileSync(join(project, file), text);
const options = (extra: BuildOptions = {}): BuildOptions => ({
  entryPoints: [join(project, 'src', 'main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: '/any/where/main.mjs',
  logLevel: 'silent',
  ...extra,
});
/** One build into a fresh folder: what happened, and the bundle's text. */
const build = (extra?: BuildOptions) => {
  const out = join(project, `out-${n++}`);
  const outcome = cachedBuild('sample', options(extra), out, {
    projectRoot: project,
    cache: join(project, 'cache'),
  });
  return { outcome, text: readFileSync(join(out, 'main.mjs'), 'utf8') };
};

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'bundle-cache-'));
  mkdirSync(join(project, 'src'));
  write('package-lock.json', '{"lockfileVersion":3}');
  write('src/main.ts', "import { a } from './a';\nconsole.log(a);\n");
  write('src/a.ts', "export const a = 'first';\n");
  write('src/b.ts', "export const b = 'bee';\n");
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

describe('cachedBuild', () => {
  it('builds once, then copies the same bundle', () => {
    const first = build();
    const second = build();
    expect([first.outcome, second.outcome]).toEqual(['built', 'cached']);
    expect(second.text).toBe(first.text);
    expect(first.text).toContain('first');
  });

  it('builds again when an imported file changes', () => {
    build();
    write('src/a.ts', "export const a = 'second';\n");
    const next = build();
    expect(next.outcome).toBe('built');
    expect(next.text).toContain('second');
    expect(build().outcome).toBe('cached');
  });

  it('follows a newly added import', () => {
    build();
    write('src/main.ts', "import { a } from './a';\nimport { b } from './b';\nconsole.log(a, b);\n");
    expect(build().outcome).toBe('built');
    write('src/b.ts', "export const b = 'changed';\n");
    const next = build();
    expect(next.outcome).toBe('built');
    expect(next.text).toContain('changed');
  });

  it('builds again when the options or the lock file change', () => {
    build();
    expect(build({ minify: true }).outcome).toBe('built');
    expect(build({ minify: true }).outcome).toBe('cached');
    write('package-lock.json', '{"lockfileVersion":3,"packages":{}}');
    expect(build({ minify: true }).outcome).toBe('built');
  });

  it('treats a damaged manifest as a miss', () => {
    build();
    write('cache/sample/manifest.json', '{not json');
    expect(build().outcome).toBe('built');
    expect(build().outcome).toBe('cached');
  });

  it('throws on a build error and stores nothing: the fixed source builds again', () => {
    build();
    write('src/a.ts', 'export const a = ;\n');
    expect(() => build()).toThrow();
    // The manifest still names the last good build, which no longer matches its input.
    write('src/a.ts', "export const a = 'fixed';\n");
    expect(build().text).toContain('fixed');
  });

  it('keeps a split bundle together: an outdir build, its entry and its chunks', () => {
    write('src/main.ts', "import('./a').then(({ a }) => console.log(a));\n");
    const split = { outfile: undefined, outdir: '/any/where', splitting: true };
    const place = { projectRoot: project, cache: join(project, 'cache') };
    const first = join(project, 'split-1');
    const second = join(project, 'split-2');
    expect(cachedBuild('split', options(split), first, place)).toBe('built');
    expect(cachedBuild('split', options(split), second, place)).toBe('cached');
    const files = readdirSync(second).sort();
    expect(files).toEqual(readdirSync(first).sort());
    expect(files).toContain('main.js');
    const chunk = files.find((f) => f !== 'main.js');
    expect(chunk && readFileSync(join(second, chunk), 'utf8')).toContain('first');
  });

  it('builds every time when the cache is off', () => {
    const out = join(project, 'off');
    const place = { projectRoot: project, cache: 'off' };
    expect(cachedBuild('sample', options(), out, place)).toBe('built');
    expect(cachedBuild('sample', options(), out, place)).toBe('built');
    expect(readFileSync(join(out, 'main.mjs'), 'utf8')).toContain('first');
  });
});
