import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, AssetStaging, DockerImage } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { cachedBuild } from '../bundling/cached-build';
import { PROXY_BASE_IMAGE, PROXY_BUNDLE_FILE, PROXY_DOCKER_DIR, proxyBuildOptions } from '../proxy/bundle';

/**
 * The routing proxy's container image, built at deploy time from proxy/Dockerfile and a bundle that the
 * asset's own local bundling writes at synth (esbuild, from the bundle cache when its inputs are unchanged, like the hooks' bundles): `cdk synth`
 * and `cdk deploy` always ship the bundle of the code they synthesize. The asset hash is the bundle's, so
 * an unchanged proxy is not rebuilt. Test apps skip bundling (the image is only staged, never built).
 */
export class RoutingProxyImage extends Construct {
  readonly image: ecs.ContainerImage;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const staging = new AssetStaging(this, 'Bundle', {
      sourcePath: PROXY_DOCKER_DIR,
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never pulled: the local bundling below either succeeds or throws.
        image: DockerImage.fromRegistry(PROXY_BASE_IMAGE),
        local: {
          tryBundle(outputDir: string): boolean {
            cachedBuild('routing-proxy', proxyBuildOptions(join(outputDir, PROXY_BUNDLE_FILE)), outputDir);
            copyFileSync(join(PROXY_DOCKER_DIR, 'Dockerfile'), join(outputDir, 'Dockerfile'));
            return true;
          },
        },
      },
    });
    this.image = ecs.ContainerImage.fromAsset(staging.absoluteStagedPath, {
      platform: Platform.LINUX_AMD64,
      buildArgs: { NODE_IMAGE: PROXY_BASE_IMAGE },
    });
  }
}
