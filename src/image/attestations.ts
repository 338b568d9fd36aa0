/**
 * Attestation manifests (provenance, SBOM) of a pushed or exported index: which one belongs to
 * which platform. Pure: index bytes in (already checked by `platformDigestsFromIndex`), map out.
 */

interface AttestationDescriptor {
    digest?: string;
    annotations?: Record<string, string>;
}

/**
 * The digest of each platform's attestation manifest, keyed like `platformDigests`. BuildKit puts
 * one attestation manifest per image manifest in the index, marked with the annotation
 * `vnd.docker.reference.type: attestation-manifest` and naming its image manifest in
 * `vnd.docker.reference.digest`. Empty when the build made no attestations (or for a
 * single-manifest result). Throws if an attestation names an image that is not in the map, or if
 * one image has two.
 */
export function attestationDigestsFromIndex(raw: Buffer, platformDigests: Record<string, string>): Record<string, string> {
    if (raw.length === 0) return {};
    const doc = JSON.parse(raw.toString("utf8")) as { manifests?: AttestationDescriptor[] };
    const platformOf = new Map(Object.entries(platformDigests).map(([platform, digest]) => [digest, platform]));
    const result: Record<string, string> = {};
    for (const m of doc.manifests ?? []) {
        if (m.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest") continue;
        const subject = m.annotations["vnd.docker.reference.digest"];
        const platform = subject === undefined ? undefined : platformOf.get(subject);
        if (platform === undefined) {
            throw new Error(
                `read-back check failed: attestation manifest ${m.digest} refers to ${subject ?? "no image"}, which is not one of the built images`,
            );
        }
        if (result[platform] !== undefined) throw new Error(`read-back check failed: ${platform} has more than one attestation manifest`);
        if (typeof m.digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(m.digest)) {
            throw new Error(`read-back check failed: the attestation manifest of ${platform} has no valid digest (${JSON.stringify(m.digest)})`);
        }
        result[platform] = m.digest;
    }
    return result;
}

/** `--provenance=true|false`, or `--provenance=mode=min|max` for a mode. */
export function provenanceFlag(provenance: boolean | "min" | "max"): string {
    return typeof provenance === "boolean" ? `--provenance=${provenance}` : `--provenance=mode=${provenance}`;
}
