/**
 * esbuild once per source change: the hooks' and the routing proxy's bundles are built by the app itself
 * (so `cdk synth` and `cdk deploy` always ship the bundle of the code they synthesize), and a build whose
 * inputs have not changed since the last one is copied from a cache instead of being built again.
 *
 * An entry is valid when its key matches: the build options, esbuild's version and package-lock.json
 * (which pins everything under node_modules, as `npm ci` installs it), plus the content hash of every
 * source file outside node_modules that the last build read (esbuild's metafile). A changed, added or
 * removed import changes a hashed file, so the key cannot miss an input the bundle depends on. Entries
 * are immutable folders named by their outputs' hash; the small manifest that points at the newest is
 * replaced atomically, so concurrent synths (jest workers) never read a half-written entry.
 *
 * The cache lives in node_modules/.cache/migration-bundles (gone with a fresh `npm ci`); set
 * MIGRATION_BUNDLE_CACHE to move it, or to `off` to build every time.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type BuildOptions, buildSync, version as esbuildVersion } from 'esbuild';

const ROOT = join(__dirname, '..', '..');

interface Manifest {
  readonly key: string;
  /** Source files (relative to the project root) and their content hashes. */
  readonly inputs: Readonly<Record<string, string>>;
  /** The entry folder under `entries/`. */
  readonly entry: string;
}

export type BuildOutcome = 'built' | 'cached';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Where the sources and the cache are; the defaults are this project's (tests use their own). */
export interface BuildPlace {
  readonly projectRoot?: string;
  /** A folder, or `off`. @default MIGRATION_BUNDLE_CACHE, else node_modules/.cache/migration-bundles */
  readonly cache?: string;
}

function cacheRoot(place: BuildPlace, projectRoot: string): string | undefined {
  const setting = place.cache ?? process.env.MIGRATION_BUNDLE_CACHE;
  if (setting === 'off') return undefined;
  return setting || join(projectRoot, 'node_modules', '.cache', 'migration-bundles');
}

function hashOf(projectRoot: string, path: string): string | undefined {
  try {
    return sha256(readFileSync(join(projectRoot, path)));
  } catch {
    return undefined;
  }
}

/** What the options, the tool and the installed packages contribute to the key. */
function baseKey(
  name: string,
  options: BuildOptions,
  fileHash: (path: string) => string | undefined,
): string {
  const { outdir: _outdir, outfile, ...rest } = options;
  return sha256(
    JSON.stringify({
      name,
      options: rest,
      outfile: outfile && basename(outfile),
      esbuild: esbuildVersion,
      // Everything under node_modules, as `npm ci` installs it; and what esbuild reads of the project.
      project: ['package-lock.json', 'package.json', 'tsconfig.json'].map((f) => fileHash(f) ?? ''),
    }),
  );
}

function copyAll(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from)) copyFileSync(join(from, file), join(to, file));
}

/** Removes entries older than a day, except `keep`: a reader copies an entry within moments of choosing it. */
function pruneEntries(entries: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const entry of readdirSync(entries)) {
    if (entry === keep) continue;
    try {
      if (statSync(join(entries, entry)).mtimeMs < dayAgo) rmSync(join(entries, entry), { recursive: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/**
 * Builds `options` into `outDir`, or copies the cached result of an identical earlier build, and returns
 * which of the two happened. The options name an `outfile` (written to `outDir` under its own name) or
 * an `outdir` (its place taken by `outDir`: a split bundle, its entries and chunks, stays together).
 */
export function cachedBuild(
  name: string,
  options: BuildOptions,
  outDir: string,
  place: BuildPlace = {},
): BuildOutcome {
  const { outfile, outdir } = options;
  if (!outfile && !outdir)
    throw new Error(`cachedBuild(${name}): options.outfile or options.outdir is required`);
  const projectRoot = place.projectRoot ?? ROOT;
  const fileHash = (path: string) => hashOf(projectRoot, path);
  /** Where the build writes, for an output folder. */
  const into = (folder: string) =>
    outfile ? { outfile: join(folder, basename(outfile)) } : { outdir: folder };
  const root = cacheRoot(place, projectRoot);
  const key = baseKey(name, options, fileHash);
  const manifestPath = root && join(root, name, 'manifest.json');

  if (manifestPath && existsSync(manifestPath)) {
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      const entryDir = join(root, name, 'entries', manifest.entry);
      const current =
        manifest.key === key &&
        Object.entries(manifest.inputs).every(([path, hash]) => fileHash(path) === hash) &&
        existsSync(entryDir);
      if (current) {
        copyAll(entryDir, outDir);
        return 'cached';
      }
    } catch {
      // An unreadable manifest is a miss.
    }
  }

  const staging = root ? join(root, name, `tmp-${process.pid}-${Date.now()}`) : outDir;
  // A failing build throws before anything is stored: the manifest keeps naming the last good one.
  const result = buildSync({
    ...options,
    absWorkingDir: projectRoot,
    ...into(staging),
    metafile: true,
  });
  if (!root || !manifestPath) return 'built';

  // Hashed after the build (only the build knows what it read): a file saved during the build itself
  // could be recorded with its new hash next to the old bundle; the next change to it rebuilds.
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile?.inputs ?? {})) {
    if (input.split('/').includes('node_modules')) continue;
    inputs[input] = fileHash(input) ?? '';
  }
  const entry = sha256(
    readdirSync(staging)
      .sort()
      .map((f) => `${f}:${sha256(readFileSync(join(staging, f)))}`)
      .join('\n'),
  ).slice(0, 32);
  const entryDir = join(root, name, 'entries', entry);
  mkdirSync(dirname(entryDir), { recursive: true });
  if (existsSync(entryDir)) rmSync(staging, { recursive: true, force: true });
  else {
    try {
      renameSync(staging, entryDir);
    } catch {
      // Another process stored the same entry first: its content is the same.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  pruneEntries(join(root, name, 'entries'), entry);
  const manifestTmp = `${manifestPath}.${process.pid}.tmp`;
  writeFileSync(manifestTmp, JSON.stringify({ key, inputs, entry } satisfies Manifest));
  renameSync(manifestTmp, manifestPath);
  copyAll(entryDir, outDir);
  return 'built';
}
