/**
 * Per-platform digests from what was pushed or exported: an image index (manifest list) as the
 * registry or the OCI layout holds it. Pure: bytes in, checked map out.
 */
import { createHash } from "crypto";
import { markedLines, parseResultLine } from "../marked-lines";
import { platformOfDescriptor, PlatformString } from "../platform";
import { LAYOUT_BLOB_KIB, RESULT_MARKER } from "./plan";
import { attestationDigestsFromIndex } from "./attestations";

export const INDEX_MEDIA_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
export const MANIFEST_MEDIA_TYPES = ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];

export interface PlatformDigests {
    /** Digest of the index (or of the single manifest when only one platform was built without attestations). */
    digest: string;
    /** Digest of each platform's image manifest, keyed by normalised platform. */
    platformDigests: Record<string, string>;
}

/** What a build (or the merge) gives the component: the checked digests and the attestation manifests'. */
export interface BuiltDigests extends PlatformDigests {
    /** Digest of each platform's attestation manifest in the index; `{}` when there are none. */
    attestationDigests: Record<string, string>;
}

interface Descriptor {
    mediaType?: string;
    digest?: string;
    platform?: { os?: string; architecture?: string; variant?: string };
    annotations?: Record<string, string>;
}

export function sha256(bytes: Buffer): string {
    return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * Reads the per-platform map out of raw index bytes and checks it: the bytes hash to `expectedDigest`
 * (when given), every requested platform appears exactly once, and nothing else does (unless
 * `allowUnrequested`, for reading a subset of someone else's image). Attestation
 * manifests (`unknown/unknown`) are skipped. A single image manifest counts as the one requested
 * platform.
 */
export function platformDigestsFromIndex(
    raw: Buffer,
    requested: readonly PlatformString[],
    expectedDigest?: string,
    opts: { allowUnrequested?: boolean } = {},
): PlatformDigests {
    const actual = sha256(raw);
    if (expectedDigest !== undefined && actual !== expectedDigest) {
        throw new Error(
            `read-back check failed: the index read back hashes to ${actual}, but the build reported ${expectedDigest} (was the tag pushed again meanwhile?)`,
        );
    }
    let doc: { mediaType?: string; manifests?: Descriptor[]; config?: unknown };
    try {
        doc = JSON.parse(raw.toString("utf8"));
    } catch (err) {
        throw new Error(`read-back check failed: the index is not JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(doc.manifests)) {
        if (doc.config !== undefined && requested.length === 1) {
            return { digest: actual, platformDigests: { [requested[0]]: actual } };
        }
        throw new Error(
            `read-back check failed: expected an image index with ${requested.length} platform(s), got ${doc.mediaType ?? "a document without manifests"}`,
        );
    }
    const found: Record<string, string[]> = {};
    const unexpected: string[] = [];
    for (const m of doc.manifests) {
        if (m.annotations?.["vnd.docker.reference.type"] === "attestation-manifest") continue;
        const platform = platformOfDescriptor(m.platform);
        if (platform === undefined) continue;
        if (!requested.includes(platform)) {
            if (!opts.allowUnrequested) unexpected.push(platform);
            continue;
        }
        (found[platform] ??= []).push(m.digest ?? "");
    }
    const missing = requested.filter((p) => !found[p]);
    const repeated = Object.entries(found)
        .filter(([, d]) => d.length > 1)
        .map(([p]) => p);
    if (missing.length > 0 || repeated.length > 0 || unexpected.length > 0) {
        const parts = [
            missing.length > 0 ? `missing ${missing.join(", ")}` : "",
            repeated.length > 0 ? `more than once: ${repeated.join(", ")}` : "",
            unexpected.length > 0 ? `not requested: ${unexpected.join(", ")}` : "",
        ].filter((x) => x !== "");
        throw new Error(`read-back check failed: the index does not hold exactly the requested platforms (${requested.join(", ")}): ${parts.join("; ")}`);
    }
    const platformDigests: Record<string, string> = {};
    for (const p of requested) {
        const d = found[p][0];
        if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw new Error(`read-back check failed: ${p} has no valid digest (${JSON.stringify(d)})`);
        platformDigests[p] = d;
    }
    return { digest: actual, platformDigests };
}

/** What the build script printed on its result line. */
export interface BuildResult {
    metadata: Record<string, unknown>;
    /** The OCI layout's `index.json`, for OCI output. */
    layout: { manifests?: Descriptor[] };
    /** The index read back from the registry, for a push; empty otherwise. */
    index: Buffer;
    /** The OCI layout's small blobs by hex digest (the index, manifests and configs), for OCI output. */
    blobs: Map<string, Buffer>;
}

/** The `blobs` field: one `HEX BASE64` line per blob of the OCI layout. */
function parseBlobs(text: string): Map<string, Buffer> {
    const blobs = new Map<string, Buffer>();
    for (const line of text.split("\n")) {
        const [hex, b64] = line.split(" ");
        if (line !== "" && /^[0-9a-f]{64}$/.test(hex)) blobs.set(hex, Buffer.from(b64 ?? "", "base64"));
    }
    return blobs;
}

/** Finds and decodes the result line in the build script's stdout. */
export function parseBuildOutput(stdout: string): BuildResult {
    if (markedLines(stdout, RESULT_MARKER).length === 0) {
        throw new Error(`the build printed no result line; stdout was: ${stdout.slice(0, 500)}`);
    }
    const fields = parseResultLine(stdout, RESULT_MARKER);
    return {
        metadata: JSON.parse(fields.metadata.toString("utf8") || "{}"),
        layout: JSON.parse(fields.layout.toString("utf8") || "{}"),
        index: fields.index,
        blobs: parseBlobs(fields.blobs?.toString("utf8") ?? ""),
    };
}

/**
 * The index a finished build produced, with the digest it must hash to: for an OCI layout, the
 * blob the layout's top entry names (and that entry's digest); for a push, the index read back
 * from the registry (and the digest the build reported). Undefined when nothing was exported.
 */
export function builtIndex(result: BuildResult): { index: Buffer; digest: string } | undefined {
    const top = result.layout.manifests?.[0]?.digest;
    if (typeof top === "string") {
        const index = result.blobs.get(top.replace(/^sha256:/, ""));
        if (index === undefined) {
            throw new Error(`read-back check failed: the OCI layout's index.json names ${top}, which is not among its blobs of up to ${LAYOUT_BLOB_KIB} KiB`);
        }
        return { index, digest: top };
    }
    if (result.index.length === 0) return undefined;
    const reported = result.metadata["containerimage.digest"];
    if (typeof reported !== "string") {
        throw new Error("read-back check failed: the build reported no image digest");
    }
    return { index: result.index, digest: reported };
}

/**
 * The checked digests of a finished build (see `builtIndex`): the index must hash to its digest.
 * With them, each platform's attestation manifest in that same index (pushed or exported).
 * Returns undefined digests when the build was not exported (`push: false`).
 */
export function digestsOfBuild(result: BuildResult, requested: readonly PlatformString[]): BuiltDigests | undefined {
    const built = builtIndex(result);
    if (built === undefined) return undefined;
    const digests = platformDigestsFromIndex(built.index, requested, built.digest);
    return { ...digests, attestationDigests: attestationDigestsFromIndex(built.index, digests.platformDigests) };
}
