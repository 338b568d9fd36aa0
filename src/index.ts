export { InputProblems, InputProblem, quoteValue } from "./errors";
export { Platform, PlatformString, Platforms, SUPPORTED_PLATFORMS, normalizePlatform, parsePlatform, formatPlatform } from "./platform";
export { quote as shellQuote, join as shellJoin } from "./shell";
export { MultiPlatformImage } from "./image/component";
export { MultiPlatformImageArgs, RegistryAuth, CacheFrom, CacheTo, ImageOutput, BuilderRef } from "./image/args";
export { getPlatformDigests, InspectOptions } from "./image/inspect";
export { PlatformDigests } from "./image/digests";
export { parseReference, ImageReference } from "./reference";
