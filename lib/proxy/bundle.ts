/**
 * How the routing proxy is bundled: one file, for the image (the CDK asset's local bundling) and for the
 * tests (jest's global setup), with the same options. esbuild's types only: callers pass its `buildSync`.
 */
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';

/** The proxy's entry point. */
export const PROXY_ENTRY = join(__dirname, '..', '..', 'proxy', 'main.ts');

/** The folder with the proxy's Dockerfile. */
export const PROXY_DOCKER_DIR = join(__dirname, '..', '..', 'proxy');

/** The file name of the bundle, next to the Dockerfile in the image's build context. */
export const PROXY_BUNDLE_FILE = 'main.js';

/**
 * The pinned base image of the proxy (Node 24 LTS on Alpine). The bundle targets Node 20, the oldest
 * runtime it runs on (the tests run it on the tool machines' Node 20).
 */
export const PROXY_BASE_IMAGE = 'node:24.11.1-alpine3.22';

/**
 * Node's options in the container: the heap well inside the container's memory limit (so that V8
 * collects before the limit kills it), and a young generation of 2 MiB semi-spaces instead of 16: under
 * load that keeps the resident set about 20 MiB smaller; the collector takes about 7 % of the main
 * thread then, 3.5-5 % with 4 MiB, a difference the benchmark's CPU time per request does not show
 * (docs/routing-proxy.md, "Sizing"). One V8 platform worker instead of four: the proxy has a share of
 * one core, and on the image's Node 24 the three threads fewer keep the resident set about 5 MiB smaller
 * under the benchmark's load, with no difference in CPU time per request (docs/performance.md, "The
 * routing proxy on Node 24").
 */
export function proxyNodeOptions(memoryMiB: number): string {
  return `--max-old-space-size=${Math.floor(memoryMiB * 0.75)} --max-semi-space-size=2 --v8-pool-size=1`;
}

export function proxyBuildOptions(outfile: string): BuildOptions {
  return {
    entryPoints: [PROXY_ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
  };
}
