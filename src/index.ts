/**
 * pulumi-buildx: Pulumi components for multi-platform container images with Docker Buildx and
 * BuildKit. The root exports the public API only: the components, their arguments and output
 * types, the platform helpers, `getPlatformDigests`, `buildImage` (a build outside any Pulumi
 * program) and `withEphemeralBuilder`. EC2 builder nodes
 * are in `pulumi-buildx/aws` (it needs `@pulumi/aws` and `@pulumi/tls`; this entry loads
 * neither), mocks for unit tests of your own programs in `pulumi-buildx/testing`.
 *
 * @packageDocumentation
 */
export { MultiPlatformImage } from "./image/component";
export { MultiPlatformImageArgs, RegistryAuth, CacheFrom, CacheTo, RegistryCacheTo, CacheCompression, ImageOutput, BuilderRef, S3Cache } from "./image/args";
export { SecretSource, SshForward } from "./image/args";
export { PlatformDigests } from "./image/digests";
export { getPlatformDigests, InspectOptions } from "./image/inspect";
export { buildImage, BuildImageArgs, BuildImageResult, PlainRegistryAuth, PlainCacheFrom, PlainCacheTo } from "./image/build";
export { Binfmt } from "./binfmt/component";
export { BinfmtArgs, DEFAULT_BINFMT_IMAGE } from "./binfmt/args";
export { Builder } from "./builder/component";
export { BuilderArgs, BuilderNode, BuilderDriver, NodeTls, BuilderNodeStatus } from "./builder/args";
export { Platform, PlatformString, Platforms, SUPPORTED_PLATFORMS, ParseResult, normalizePlatform, parsePlatform, formatPlatform } from "./platform";
export {
    withEphemeralBuilder,
    EphemeralBuilderOptions,
    EphemeralBuilderCleanupError,
    EphemeralStack,
    EphemeralStackSpec,
    EphemeralStackFactory,
    EphemeralBuilderProgram,
} from "./ephemeral";
export { cleanupEphemeralBuilders, CleanupEphemeralBuildersOptions, CleanupEphemeralBuildersReport, EphemeralStackStore, ListedStack } from "./ephemeral-sweep";
