import { execFile } from "child_process";
import { normalizePlatform, platformOfDescriptor } from "../platform";
import { parseReference } from "../reference";
import { platformDigestsFromIndex, PlatformDigests, sha256 } from "./digests";

export interface InspectOptions {
    /** Only these platforms (each must be present exactly once; others are left out). Default: every platform in the index. */
    platforms?: string[];
    /** Extra environment for `docker`, e.g. `{ DOCKER_CONFIG: "/path" }` for other credentials. */
    env?: Record<string, string>;
}

/**
 * Reads the per-platform digests of any image reference in a registry: the
 * `docker buildx imagetools inspect` step of the manual workflow, returning the same map that
 * `MultiPlatformImage.platformDigests` gives. Attestation manifests are excluded.
 *
 * ```ts
 * const { digest, platformDigests } = await getPlatformDigests("ghcr.io/org/app:1.0");
 * platformDigests["linux/arm64"]; // "sha256:…"
 * ```
 */
export async function getPlatformDigests(reference: string, opts: InspectOptions = {}): Promise<PlatformDigests> {
    const parsed = parseReference(reference);
    if (!parsed.ok) {
        throw new Error(`getPlatformDigests: reference ${parsed.reason}`);
    }
    const raw = await new Promise<Buffer>((resolve, reject) => {
        execFile(
            "docker",
            ["buildx", "imagetools", "inspect", "--raw", "--", reference],
            { encoding: "buffer", env: { ...process.env, ...(opts.env ?? {}) }, maxBuffer: 64 * 1024 * 1024 },
            (err, stdout, stderr) => {
                if (err)
                    reject(new Error(`getPlatformDigests: docker buildx imagetools inspect ${reference} failed: ${stderr.toString().trim() || err.message}`));
                else resolve(stdout);
            },
        );
    });
    const bytes = parsed.ref.digest !== undefined && sha256(raw) !== parsed.ref.digest && raw.at(-1) === 0x0a ? raw.subarray(0, -1) : raw;
    const requested = opts.platforms?.map(normalizePlatform) ?? platformsIn(bytes);
    return platformDigestsFromIndex(bytes, requested, parsed.ref.digest, { allowUnrequested: opts.platforms !== undefined });
}

function platformsIn(raw: Buffer): ReturnType<typeof normalizePlatform>[] {
    const doc = JSON.parse(raw.toString("utf8")) as { manifests?: { platform?: { os?: string; architecture?: string; variant?: string } }[] };
    const all = (doc.manifests ?? []).map((m) => platformOfDescriptor(m.platform)).filter((p) => p !== undefined);
    return [...new Set(all)];
}
