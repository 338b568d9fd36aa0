export { InputProblems, InputProblem, quoteValue } from "./errors";
export { Platform, PlatformString, Platforms, SUPPORTED_PLATFORMS, normalizePlatform, parsePlatform, formatPlatform } from "./platform";
export { quote as shellQuote, join as shellJoin } from "./shell";
export { MultiPlatformImage } from "./image/component";
export { MultiPlatformImageArgs, RegistryAuth, CacheFrom, CacheTo, RegistryCacheTo, CacheCompression, ImageOutput, BuilderRef } from "./image/args";
export { getPlatformDigests, InspectOptions } from "./image/inspect";
export { PlatformDigests } from "./image/digests";
export { parseReference, ImageReference } from "./reference";
export { Binfmt } from "./binfmt/component";
export { BinfmtArgs, DEFAULT_BINFMT_IMAGE } from "./binfmt/args";
export { BinfmtReport, parseBinfmtReport } from "./binfmt/report";
export { Builder } from "./builder/component";
export { BuilderArgs, BuilderNode, BuilderDriver, NodeTls, BuilderNodeStatus } from "./builder/args";
export { defaultBuilderName } from "./builder/validate";
export { Ec2BuilderNode } from "./nodes/ec2/component";
export { Ec2BuilderNodeArgs, Ec2NodeArch, Ec2NodeTransport } from "./nodes/ec2/args";
export { ParseResult } from "./platform";
export { ReferenceResult } from "./reference";
export { Parsed } from "./binfmt/report";
export {
    withEphemeralBuilder,
    EphemeralBuilderOptions,
    EphemeralBuilderCleanupError,
    EphemeralStack,
    EphemeralStackSpec,
    EphemeralStackFactory,
    automationStackFactory,
    BUILDER_NAME_OUTPUT,
} from "./ephemeral";
